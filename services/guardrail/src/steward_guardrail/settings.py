"""Settings of the guardrail, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class GuardrailSettings(BaseSettings):
    """Environment settings (prefix `STEWARD_GUARDRAIL_`) for the guardrail domain logic."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_GUARDRAIL_", extra="ignore")

    # Base64 (standard or URL-safe) encoding of a 32-byte AES-256-GCM key.
    pii_key: SecretStr
    policy_dir: Path = Path("policies")
    # Dynamic int8 quantization makes the embedding model ~3x faster on one CPU thread.
    embedding_quantized: bool = True
    embedding_threads: int = 1
    max_conversations: int = 50_000
