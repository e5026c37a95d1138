"""The key that seals personal data: from the environment, or a development key on disk."""

from __future__ import annotations

import base64
import os
import stat
from typing import TYPE_CHECKING

import structlog

from steward_guardrail.errors import PiiKeyError, SealError
from steward_guardrail.redaction import parse_key

if TYPE_CHECKING:
    from pathlib import Path

    from steward_guardrail.settings import GuardrailSettings

_log = structlog.get_logger("steward.guardrail")
_ENV_NAME = "STEWARD_GUARDRAIL_PII_KEY"


def resolve_pii_key(settings: GuardrailSettings) -> bytes:
    """Return the PII key: the configured one, or in the embedded profile a generated one."""
    # A configured key always wins.
    configured = settings.guardrail_pii_key
    if configured is not None and configured.get_secret_value().strip():
        try:
            return parse_key(configured.get_secret_value())
        except SealError as error:
            raise PiiKeyError(f"{_ENV_NAME}: {error}") from error

    # Production never falls back to a key lying next to the data it protects.
    if settings.profile != "embedded":
        raise PiiKeyError(
            f"{_ENV_NAME} is required in the {settings.profile!r} profile; "
            "expected base64 of 32 random bytes"
        )

    # The embedded profile makes one development key once and reuses it after.
    path = settings.guardrail_pii_key_file
    created = _create_key_file(path)
    key = _read_key_file(path)
    # Log where the key lives, never the key.
    _log.warning("guardrail.development_pii_key", path=str(path), created=created)
    return key


def _create_key_file(path: Path) -> bool:
    """Write a fresh random key to `path` (mode 0600) unless it exists; tell if it wrote one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(os.urandom(32)).decode("ascii") + "\n")
    return True


def _read_key_file(path: Path) -> bytes:
    """Read a development key, refusing one that other users could read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PiiKeyError(f"{path}: PII key file has mode {mode:04o}; expected 0600")
    try:
        return parse_key(path.read_text(encoding="ascii"))
    except (SealError, UnicodeDecodeError) as error:
        raise PiiKeyError(f"{path}: {error}") from error
