"""Per-subject sealing keys in PostgreSQL, wrapped under a master key, erasable one by one."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from steward_ledger_proofs import SubjectKey

from steward_ledger.errors import LedgerError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import asyncpg

_MASTER_KEY_SIZES = (16, 24, 32)
_NONCE_SIZE = 12


class SubjectKeyStore:
    """Creates, finds and erases the AES-GCM key that seals one data subject's personal data."""

    def __init__(self, master_key: bytes) -> None:
        """Keep the master key that wraps every subject key at rest."""
        if len(master_key) not in _MASTER_KEY_SIZES:
            raise LedgerError(
                f"Invalid master key size: {len(master_key)} bytes, expected one of"
                f" {_MASTER_KEY_SIZES}"
            )
        self._master = AESGCM(master_key)

    async def keys_for(
        self, connection: asyncpg.Connection, subjects: Iterable[str]
    ) -> dict[str, SubjectKey]:
        """Return each subject's key, creating keys for subjects never seen before."""
        wanted = sorted(set(subjects))
        if not wanted:
            return {}

        # Erased subjects keep their row with no key, so they are never given a new one.
        rows = await connection.fetch(
            "SELECT subject, key_id, wrapped_key FROM ledger_subject_keys"
            " WHERE subject = ANY($1::text[])",
            wanted,
        )
        keys = {row["subject"]: self._unwrap(row["key_id"], row["wrapped_key"]) for row in rows}

        missing = [subject for subject in wanted if subject not in keys]
        if missing:
            fresh = {subject: SubjectKey.generate(str(uuid.uuid4())) for subject in missing}
            await connection.executemany(
                "INSERT INTO ledger_subject_keys (subject, key_id, wrapped_key)"
                " VALUES ($1, $2, $3) ON CONFLICT (subject) DO NOTHING",
                [(subject, key.key_id, self._wrap(key)) for subject, key in fresh.items()],
            )
            keys.update(fresh)
        return keys

    async def keys_by_id(
        self, connection: asyncpg.Connection, key_ids: Iterable[str]
    ) -> dict[str, bytes]:
        """Return the keys with these ids that still exist; erased ones are absent."""
        rows = await connection.fetch(
            "SELECT key_id, wrapped_key FROM ledger_subject_keys"
            " WHERE key_id = ANY($1::text[]) AND wrapped_key IS NOT NULL",
            sorted(set(key_ids)),
        )
        found: dict[str, bytes] = {}
        for row in rows:
            key = self._unwrap(row["key_id"], row["wrapped_key"]).key
            if key is not None:
                found[row["key_id"]] = key
        return found

    async def erase(self, connection: asyncpg.Connection, subject: str) -> bool:
        """Destroy a subject's key for good; return whether a live key was destroyed."""
        # LIMITATION: the old row version keeps the wrapped key on disk until VACUUM reclaims it.
        erased = await connection.fetchval(
            "UPDATE ledger_subject_keys SET wrapped_key = NULL, erased_at = now()"
            " WHERE subject = $1 AND wrapped_key IS NOT NULL RETURNING key_id",
            subject,
        )
        if erased is not None:
            return True

        # A subject erased before any event names it must stay erased when one arrives.
        await connection.execute(
            "INSERT INTO ledger_subject_keys (subject, key_id, wrapped_key, erased_at)"
            " VALUES ($1, $2, NULL, now()) ON CONFLICT (subject) DO NOTHING",
            subject,
            str(uuid.uuid4()),
        )
        return False

    def _wrap(self, key: SubjectKey) -> bytes:
        """Encrypt a subject key under the master key, bound to its key id."""
        assert key.key is not None
        nonce = os.urandom(_NONCE_SIZE)
        return nonce + self._master.encrypt(nonce, key.key, key.key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes | None) -> SubjectKey:
        """Decrypt a stored subject key; a missing one means the subject was erased."""
        if wrapped is None:
            return SubjectKey(key_id=key_id, key=None)
        try:
            key = self._master.decrypt(
                wrapped[:_NONCE_SIZE], wrapped[_NONCE_SIZE:], key_id.encode()
            )
        except InvalidTag as exc:
            raise LedgerError(
                f"Subject key {key_id} does not unwrap: expected it to be wrapped under the"
                " configured master key"
            ) from exc
        return SubjectKey(key_id=key_id, key=key)
