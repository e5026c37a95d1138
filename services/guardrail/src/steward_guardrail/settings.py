"""Settings of the guardrail service, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt, SecretStr
from steward_bus import BusSettings

# The example policies ship next to the package's source; a wheel install names its own folder.
_SHIPPED_POLICIES = Path(__file__).resolve().parents[2] / "policies"


class GuardrailSettings(BusSettings):
    """Bus settings plus the guardrail's own (environment names `STEWARD_GUARDRAIL_*`)."""

    # Base64 (standard or URL-safe) of a 32-byte AES-256-GCM key; required in the kafka profile.
    guardrail_pii_key: SecretStr | None = None
    # Where the embedded profile keeps a development key it generated when none was set.
    guardrail_pii_key_file: Path = Path(".steward/guardrail/pii.key")
    # LIMITATION: the default is the source tree's folder; a wheel install must set POLICY_DIR.
    guardrail_policy_dir: Path = _SHIPPED_POLICIES
    guardrail_originals_dir: Path = Path(".steward/guardrail/originals")
    # Budgets of one input screen and one answer check, queueing included; past them: review.
    guardrail_screen_timeout_s: float = Field(default=5.0, gt=0)
    guardrail_check_timeout_s: float = Field(default=10.0, gt=0)
    # Dynamic int8 quantization makes the embedding model ~3x faster on one CPU thread.
    guardrail_embedding_quantized: bool = True
    guardrail_embedding_threads: PositiveInt = 1
    guardrail_max_conversations: PositiveInt = 50_000
    # The guardrail screens and checks replays too, in the replay namespace.
    serve_replay: bool = True
