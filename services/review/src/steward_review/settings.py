"""The review service's settings: the bus's, plus its own under STEWARD_REVIEW_*."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from steward_auth import DEFAULT_DEV_AUTH_DIR, AuthSettings, edge_auth_settings
from steward_bus import BusSettings

from steward_review.errors import ReviewError
from steward_review.policy import PolicyBook
from steward_review.pseudonym import MIN_SECRET_BYTES


class ReviewSettingsError(ReviewError):
    """A setting the review service needs is missing or unusable in this profile."""


class ReviewSettings(BusSettings):
    """Bus settings plus the desk's: token verification, pseudonym key, leases, HTTP, timers."""

    model_config = SettingsConfigDict(
        env_prefix="STEWARD_", env_nested_delimiter="__", extra="ignore"
    )

    # Tokens: STEWARD_REVIEW_AUTH__ISSUER, __AUDIENCE, __JWKS_PATH; the embedded profile
    # trusts the development key under STEWARD_AUTH_DIR when none is configured.
    review_auth: AuthSettings | None = None
    auth_dir: Path = DEFAULT_DEV_AUTH_DIR
    # Keyed hash of token subjects; the kafka profile needs it set, the embedded one keeps one.
    review_pseudonym_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_BYTES)
    review_pseudonym_secret_file: Path = Path(".steward/review/pseudonym.key")
    review_lease_seconds: int = Field(default=600, ge=30, le=86400)
    review_policy_path: Path | None = None
    # Unset: Secure cookies in the kafka profile, plain ones on the embedded 127.0.0.1 desk.
    review_cookie_secure: bool | None = None
    review_http_host: str = "127.0.0.1"
    review_http_port: int = Field(default=8082, ge=0, le=65535)
    review_escalate_interval_s: float = Field(default=5.0, gt=0)
    review_deliver_interval_s: float = Field(default=5.0, gt=0)

    @property
    def lease(self) -> timedelta:
        """How long a claim keeps an item from other reviewers."""
        return timedelta(seconds=self.review_lease_seconds)

    @property
    def cookie_secure(self) -> bool:
        """Whether the session cookie is sent over HTTPS only."""
        if self.review_cookie_secure is not None:
            return self.review_cookie_secure
        return self.profile == "kafka"

    def policy_book(self) -> PolicyBook:
        """Load the tenant policies, or the defaults when no file is configured."""
        path = self.review_policy_path
        return PolicyBook.from_yaml(path) if path else PolicyBook()

    def auth_settings(self) -> AuthSettings:
        """The token settings for this profile (development key in the embedded one)."""
        return edge_auth_settings(
            self.review_auth, profile=self.profile, development_dir=self.auth_dir
        )

    def pseudonym_secret(self) -> bytes:
        """The reviewer pseudonym key: configured, or in the embedded profile kept on disk."""
        if self.review_pseudonym_secret is not None:
            return self.review_pseudonym_secret.get_secret_value().encode()
        if self.profile == "kafka":
            raise ReviewSettingsError(
                "the kafka profile needs STEWARD_REVIEW_PSEUDONYM_SECRET "
                f"(at least {MIN_SECRET_BYTES} characters)"
            )
        return _kept_secret(self.review_pseudonym_secret_file)


def _kept_secret(path: Path) -> bytes:
    """Read a development secret from an owner-only file, creating it on first use."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))

    secret = path.read_text(encoding="utf-8").strip().encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise ReviewSettingsError(
            f"pseudonym secret file {path} holds {len(secret)} bytes, "
            f"expected at least {MIN_SECRET_BYTES}"
        )
    return secret
