"""The ledger service's settings, read from STEWARD_LEDGER_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import SettingsConfigDict
from steward_auth import DEFAULT_DEV_AUTH_DIR, AuthSettings, edge_auth_settings
from steward_bus import BusSettings


class LedgerSettings(BusSettings):
    """Where the ledger keeps its keys and rows, when it signs, and how auditors reach it."""

    model_config = SettingsConfigDict(
        env_prefix="STEWARD_", env_nested_delimiter="__", extra="ignore"
    )

    ledger_writer_url: str | None = Field(
        default=None,
        description=(
            "DSN of a login role in steward_ledger_writer. Unset in the embedded profile: the "
            "service installs the schema through database_url and creates its own login roles."
        ),
    )
    ledger_maintainer_url: str | None = Field(
        default=None,
        description="DSN of a login role in steward_ledger_maintainer, used by retention.",
    )
    ledger_admin_url: str | None = Field(
        default=None,
        description=(
            "DSN allowed to install the ledger schema; the embedded profile uses database_url."
        ),
    )
    ledger_data_dir: Path = Path(".steward/ledger")
    ledger_signing_key_path: Path | None = Field(
        default=None,
        description=(
            "PKCS#8 PEM Ed25519 key that signs checkpoints. Unset in the embedded profile: one "
            "is generated once as <ledger_data_dir>/signing-key.pem (mode 0600)."
        ),
    )
    ledger_personal_data_path: Path | None = Field(
        default=None,
        description="JSON object of event type to dotted paths of personal data in `data`.",
    )
    ledger_master_key_path: Path | None = Field(
        default=None,
        description=(
            "File of 32 raw bytes wrapping subject keys; generated once under ledger_data_dir "
            "in the embedded profile when a personal data policy is set."
        ),
    )
    ledger_checkpoint_every_events: PositiveInt = 1000
    ledger_checkpoint_every_seconds: PositiveFloat = 60.0
    ledger_retention_days: dict[str, float] = Field(
        default_factory=dict,
        description="Days each event type keeps its payload, by event type; others keep it.",
    )
    ledger_retention_interval_seconds: PositiveFloat = 3600.0
    serve_replay: bool = Field(
        default=True,
        description="Record the replay namespace's topics too, so every replay is on the ledger.",
    )

    ledger_api_host: str = "127.0.0.1"
    ledger_api_port: int = Field(default=8083, ge=0, le=65535)
    # Tokens: STEWARD_LEDGER_AUTH__ISSUER, __AUDIENCE, __JWKS_PATH; the embedded profile
    # trusts the development key under STEWARD_AUTH_DIR when none is configured.
    ledger_auth: AuthSettings | None = None
    auth_dir: Path = DEFAULT_DEV_AUTH_DIR
    ledger_auth_retry_seconds: PositiveFloat = Field(
        default=5.0,
        description="How often unusable token settings or keys are tried again.",
    )

    @property
    def signing_key_path(self) -> Path:
        """The signing key file in use: the configured one or the embedded default."""
        return self.ledger_signing_key_path or self.ledger_data_dir / "signing-key.pem"

    @property
    def master_key_path(self) -> Path:
        """The subject-key master key file in use: the configured one or the embedded default."""
        return self.ledger_master_key_path or self.ledger_data_dir / "master.key"

    def auth_settings(self) -> AuthSettings:
        """The token settings for this profile (the development key in the embedded one)."""
        return edge_auth_settings(
            self.ledger_auth, profile=self.profile, development_dir=self.auth_dir
        )
