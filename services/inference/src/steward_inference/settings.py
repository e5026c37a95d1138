"""Settings of the inference service, read from STEWARD_INFERENCE_* environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from steward_inference._embedded import SMOLLM2_MODEL_NAME
from steward_inference._openai_backend import ServerKind


class BackendChoice(StrEnum):
    """Where generation runs."""

    EMBEDDED = "embedded"
    HTTP = "http"


class InferenceSettings(BaseSettings):
    """Everything the inference worker needs to start: backend, bounds and retries."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_INFERENCE_")

    backend: BackendChoice = BackendChoice.EMBEDDED
    model: str = SMOLLM2_MODEL_NAME
    model_revision: str | None = None

    # HTTP backend (vLLM in production).
    base_url: str = "http://127.0.0.1:8000/v1"
    server_kind: ServerKind = ServerKind.VLLM
    api_key: str = "not-needed"
    timeout_s: float = 60.0
    max_attempts: int = 3
    stream: bool = False
    breaker_failures: int = 5
    breaker_cooldown_s: float = 10.0

    # Embedded backend: one thread per process suits a two-core machine.
    threads: int = 1
    parallel: int = 1
    context_per_slot: int = 2048
    adapter_dir: Path = Field(
        default=Path(".steward/trainer/adapters"),
        description="GGUF LoRA adapters, one <name>.gguf each, as the trainer writes them.",
    )
    max_adapters: PositiveInt = Field(
        default=2, description="Adapter engines kept loaded at once, least recently used out."
    )

    max_in_flight: int = 8
