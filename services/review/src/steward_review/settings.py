"""The review service's settings, read from STEWARD_REVIEW_* environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from steward_auth import AuthSettings

from steward_review.policy import PolicyBook


class ReviewSettings(BaseSettings):
    """Database, token verification, pseudonym key, lease length and tenant policies."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_REVIEW_", env_nested_delimiter="__")

    database_url: str
    auth: AuthSettings
    pseudonym_secret: SecretStr = Field(min_length=32)
    lease_seconds: int = Field(default=600, ge=30, le=86400)
    policy_path: Path | None = None
    cookie_secure: bool = True

    @property
    def lease(self) -> timedelta:
        """How long a claim keeps an item from other reviewers."""
        return timedelta(seconds=self.lease_seconds)

    def policy_book(self) -> PolicyBook:
        """Load the tenant policies, or the defaults when no file is configured."""
        return PolicyBook.from_yaml(self.policy_path) if self.policy_path else PolicyBook()
