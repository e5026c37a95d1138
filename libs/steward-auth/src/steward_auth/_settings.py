"""Settings that say which tokens a verifier accepts."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# A shared secret shorter than the HS256 output size is brute-forceable offline.
MIN_SHARED_SECRET_BYTES = 32


class AuthSettings(BaseModel):
    """Issuer, audience and key source for bearer-token verification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    jwks_path: Path | None = None
    public_key_path: Path | None = None
    shared_secret: SecretStr | None = None
    allow_shared_secret: bool = False
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    tenant_claim: str = "tenant"
    roles_claim: str = "roles"

    @model_validator(mode="after")
    def _one_key_source(self) -> AuthSettings:
        """Demand exactly one key source, and a shared secret only where it is allowed."""
        sources = [
            name
            for name, value in (
                ("jwks_path", self.jwks_path),
                ("public_key_path", self.public_key_path),
                ("shared_secret", self.shared_secret),
            )
            if value is not None
        ]
        if len(sources) != 1:
            raise ValueError(
                "exactly one of jwks_path, public_key_path or shared_secret must be set, "
                f"got {sources or 'none'}"
            )

        if self.shared_secret is not None:
            if not self.allow_shared_secret:
                raise ValueError(
                    "shared_secret (HS256) is refused unless allow_shared_secret is true, "
                    "which only the embedded profile should set"
                )
            length = len(self.shared_secret.get_secret_value().encode())
            if length < MIN_SHARED_SECRET_BYTES:
                raise ValueError(
                    f"shared_secret is {length} bytes, expected at least {MIN_SHARED_SECRET_BYTES}"
                )
        return self
