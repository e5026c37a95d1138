"""The gateway's settings: the bus's, plus its own under STEWARD_GATEWAY_*."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import tempfile
from pathlib import Path

import httpx
from pydantic import Field, PositiveFloat, PositiveInt, SecretStr
from pydantic_settings import SettingsConfigDict
from steward_auth import DEFAULT_DEV_AUTH_DIR, AuthConfigError, AuthSettings, edge_auth_settings
from steward_bus import BusSettings

from steward_gateway.errors import GatewaySettingsError
from steward_gateway.pseudonyms import MIN_KEY_BYTES

DEFAULT_AI_NOTICE = (
    "This answer was written by an AI assistant from the agency's published documents. "
    "It is not legal advice; check the cited sources."
)


class GatewaySettings(BusSettings):
    """Bus settings plus the gateway's: HTTP, tokens, limits, waiting and the reply store."""

    model_config = SettingsConfigDict(
        env_prefix="STEWARD_", env_nested_delimiter="__", extra="ignore"
    )

    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=0, le=65535)
    gateway_replica_id: str | None = Field(
        default=None,
        description="Names this replica's consumer group; defaults to host name and port.",
    )

    # Tokens: STEWARD_GATEWAY_AUTH__ISSUER, __AUDIENCE, __JWKS_PATH (or __PUBLIC_KEY_PATH).
    # The embedded profile trusts the development JWKS under STEWARD_AUTH_DIR otherwise.
    gateway_auth: AuthSettings | None = None
    gateway_jwks_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="Fetched once at start into gateway_auth.jwks_path.",
    )
    auth_dir: Path = DEFAULT_DEV_AUTH_DIR
    gateway_clearance_claim: str = "clearance"

    # Keyed hash of token subjects; the kafka profile needs it set, the embedded one keeps one.
    gateway_pseudonym_key: SecretStr | None = Field(default=None, min_length=MIN_KEY_BYTES)
    gateway_pseudonym_key_file: Path = Path(".steward/gateway/pseudonym.key")

    gateway_wait_seconds: PositiveFloat = Field(
        default=25.0, description="How long a request waits for its answer before a 202."
    )
    gateway_retry_after_seconds: PositiveInt = Field(
        default=5, description="Retry-After of a 503 when the event bus cannot take a request."
    )
    gateway_conversation_ttl_seconds: PositiveFloat = 3_600.0
    gateway_max_conversations: PositiveInt = 10_000

    gateway_max_body_bytes: PositiveInt = 64 * 1024
    gateway_max_document_bytes: PositiveInt = 1024 * 1024
    gateway_max_question_chars: PositiveInt = Field(default=4_000, le=20_000)

    gateway_rate_per_minute: PositiveFloat = 30.0
    gateway_rate_burst: PositiveInt = 10
    gateway_rate_max_clients: PositiveInt = 100_000

    gateway_ai_notice: str = Field(default=DEFAULT_AI_NOTICE, max_length=1_000)
    gateway_stream_chunk_chars: PositiveInt = 40

    def replica(self) -> str:
        """This replica's name: configured, or host name and port, so restarts keep it."""
        name = self.gateway_replica_id or f"{socket.gethostname()}-{self.gateway_port}"
        return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:80] or "replica"

    def auth_settings(self) -> AuthSettings:
        """The token settings for this profile, with the JWKS URL fetched when one is set."""
        configured = self.gateway_auth
        if configured is not None and self.gateway_jwks_url is not None:
            if configured.jwks_path is None:
                raise GatewaySettingsError(
                    "STEWARD_GATEWAY_JWKS_URL needs STEWARD_GATEWAY_AUTH__JWKS_PATH, "
                    "the file its keys are kept in"
                )
            fetch_jwks(self.gateway_jwks_url, configured.jwks_path)
        # Without configured keys the embedded profile trusts the shared development key.
        return edge_auth_settings(configured, profile=self.profile, development_dir=self.auth_dir)

    def pseudonym_key(self) -> bytes:
        """The subject pseudonym key: configured, or in the embedded profile kept on disk."""
        if self.gateway_pseudonym_key is not None:
            return self.gateway_pseudonym_key.get_secret_value().encode()
        if self.profile == "kafka":
            raise GatewaySettingsError(
                "the kafka profile needs STEWARD_GATEWAY_PSEUDONYM_KEY "
                f"(at least {MIN_KEY_BYTES} characters)"
            )
        return _kept_key(self.gateway_pseudonym_key_file)


def fetch_jwks(url: str, path: Path) -> None:
    """Fetch an identity provider's JWKS and keep it whole in `path`."""
    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise AuthConfigError(f"cannot fetch JWKS from {url}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise AuthConfigError(f"JWKS at {url} must be an object with a 'keys' list")

    # Written aside and moved into place, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(response.text)
    os.replace(staged, path)


def _kept_key(path: Path) -> bytes:
    """Read the embedded profile's pseudonym key, creating it (owner-only) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Exclusive create: when two replicas race, the first key written is the one kept.
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48))
    key = path.read_text(encoding="utf-8").strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise GatewaySettingsError(
            f"pseudonym key file {path} holds {len(key)} bytes, expected at least {MIN_KEY_BYTES}"
        )
    return key
