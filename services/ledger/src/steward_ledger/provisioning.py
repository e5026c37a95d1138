"""What the ledger service needs before it records: keys from files, database and login roles."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog
from steward_ledger_proofs import CheckpointSigner, PersonalDataPolicy, SealingError

from steward_ledger.errors import LedgerConfigError
from steward_ledger.store import install_schema

if TYPE_CHECKING:
    from pathlib import Path

    from steward_ledger.settings import LedgerSettings

log = structlog.get_logger("steward.ledger")

# Login roles the embedded profile creates for itself; production names its own in the DSNs.
EMBEDDED_WRITER_ROLE = "steward_ledger_app"
EMBEDDED_MAINTAINER_ROLE = "steward_ledger_retention"
_MASTER_KEY_BYTES = 32


def load_signer(settings: LedgerSettings) -> CheckpointSigner:
    """Load the checkpoint signing key, generating one once in the embedded profile."""
    path = settings.signing_key_path
    if not path.exists():
        if settings.ledger_signing_key_path is not None or settings.profile != "embedded":
            raise LedgerConfigError(
                f"Signing key file {path} does not exist; expected a PKCS#8 PEM Ed25519 key"
                " (STEWARD_LEDGER_SIGNING_KEY_PATH)"
            )
        signer = CheckpointSigner.generate()
        _write_private(path, signer.private_pem())
        path.with_suffix(".pub.pem").write_bytes(signer.public_pem())
        log.info("ledger.signing_key_generated", key_id=signer.key_id, path=str(path))
        return signer

    try:
        return CheckpointSigner.from_pem(path.read_bytes())
    except (ValueError, TypeError) as error:
        raise LedgerConfigError(
            f"Signing key file {path} is not a usable PEM key: {error}"
        ) from None


def load_personal_data(settings: LedgerSettings) -> tuple[PersonalDataPolicy, bytes | None]:
    """Load the personal data policy and, when it names fields, the subject-key master key."""
    if settings.ledger_personal_data_path is None:
        return PersonalDataPolicy(), None
    try:
        policy = PersonalDataPolicy.from_json(settings.ledger_personal_data_path.read_text())
    except (OSError, SealingError) as error:
        raise LedgerConfigError(
            f"Personal data policy {settings.ledger_personal_data_path}: {error}"
        ) from None
    if not policy.fields:
        return policy, None

    # The master key wraps every subject key: generated once here, never logged.
    path = settings.master_key_path
    if not path.exists():
        if settings.ledger_master_key_path is not None or settings.profile != "embedded":
            raise LedgerConfigError(
                f"Master key file {path} does not exist; expected {_MASTER_KEY_BYTES} raw bytes"
                " (STEWARD_LEDGER_MASTER_KEY_PATH)"
            )
        _write_private(path, secrets.token_bytes(_MASTER_KEY_BYTES))
        log.info("ledger.master_key_generated", path=str(path))
    return policy, path.read_bytes()


async def prepare_database(settings: LedgerSettings) -> tuple[str, str | None]:
    """Install the schema where allowed and return the writer and maintainer DSNs."""
    admin = settings.ledger_admin_url or (
        settings.database_url if settings.profile == "embedded" else None
    )
    writer = settings.ledger_writer_url
    maintainer = settings.ledger_maintainer_url
    if admin is None:
        if writer is None:
            raise LedgerConfigError(
                "No ledger database role: set STEWARD_LEDGER_WRITER_URL to a login role in"
                " steward_ledger_writer (and STEWARD_LEDGER_ADMIN_URL to install the schema)"
            )
        return writer, maintainer

    connection = await asyncpg.connect(admin)
    try:
        await install_schema(connection)
        if writer is None:
            await _ensure_login_role(connection, EMBEDDED_WRITER_ROLE, "steward_ledger_writer")
            writer = with_user(admin, EMBEDDED_WRITER_ROLE)
        if maintainer is None:
            await _ensure_login_role(
                connection, EMBEDDED_MAINTAINER_ROLE, "steward_ledger_maintainer"
            )
            maintainer = with_user(admin, EMBEDDED_MAINTAINER_ROLE)
    finally:
        await connection.close()
    return writer, maintainer


def with_user(dsn: str, user: str) -> str:
    """Return the DSN with its user replaced and any password dropped."""
    parts = urlsplit(dsn)
    host = parts.hostname or ""
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def _ensure_login_role(connection: asyncpg.Connection, role: str, group: str) -> None:
    """Create a password-less login role in a group unless it exists (trust auth, loopback)."""
    # Role names are this module's constants, never input; %I quotes them all the same.
    await connection.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) THEN
                EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', {_literal(role)},
                               {_literal(group)});
            END IF;
        END
        $$;
        """
    )


def _literal(text: str) -> str:
    """Quote a constant as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _write_private(path: Path, content: bytes) -> None:
    """Write a secret file readable by its owner only, refusing to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
