"""Crypto-shredding and retention take content away while every proof still verifies."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest
from ledger_testing import make_event
from steward_ledger import (
    CheckpointPolicy,
    LedgerStore,
    RetentionPolicy,
    SubjectKeyStore,
    prune_expired,
)
from steward_ledger_proofs import PersonalDataPolicy, is_sealed, verify_inclusion

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from steward_ledger_proofs import CheckpointSigner

    from conftest import LedgerDatabase

POLICY = PersonalDataPolicy(fields={"steward.chat.requested.v1": ("prompt", "citizen.email")})


@pytest.fixture
async def store(ledger_db: LedgerDatabase, signer: CheckpointSigner) -> AsyncIterator[LedgerStore]:
    ledger = await LedgerStore.open(
        ledger_db.app_dsn,
        signer,
        personal_data=POLICY,
        subject_keys=SubjectKeyStore(os.urandom(32)),
        checkpoints=CheckpointPolicy(every_events=5, every_seconds=3600),
    )
    yield ledger
    await ledger.close()


def _chat(n: int, subject: str) -> dict[str, object]:
    data = {"prompt": f"I live at {n} Elm Street", "citizen": {"email": f"p{n}@example.org"}}
    return make_event(n, subject=subject, data=data)


async def test_personal_fields_are_stored_sealed_and_open_for_auditors(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    await store.append([_chat(0, "alice"), make_event(1, event_type="steward.chat.responded.v1")])

    connection = await ledger_db.superuser()
    try:
        raw = await connection.fetchval("SELECT data::text FROM ledger_events WHERE seq = 0")
    finally:
        await connection.close()
    recorded = await store.event(_chat(0, "alice")["id"])
    opened = await store.open_personal_data(recorded)

    assert "Elm Street" not in raw
    assert "example.org" not in raw
    assert is_sealed(recorded.event["data"]["prompt"])
    assert opened["data"] == _chat(0, "alice")["data"]


async def test_erasing_a_subject_shreds_their_fields_and_proofs_still_verify(
    store: LedgerStore,
) -> None:
    await store.append([_chat(n, "alice" if n % 2 else "bob") for n in range(10)])
    before = await store.inclusion_proof(_chat(3, "alice")["id"])

    assert await store.erase_subject("alice") is True
    await store.append([_chat(11, "alice")])

    alice = await store.open_personal_data(await store.event(_chat(3, "alice")["id"]))
    bob = await store.open_personal_data(await store.event(_chat(4, "bob")["id"]))
    later = (await store.event(_chat(11, "alice")["id"])).event
    assert is_sealed(alice["data"]["prompt"])
    assert bob["data"]["prompt"] == "I live at 4 Elm Street"
    assert later["data"]["prompt"] == {
        "steward_sealed": "erased",
        "kid": later["data"]["prompt"]["kid"],
    }
    after = await store.inclusion_proof(_chat(3, "alice")["id"])
    verify_inclusion(
        after.leaf_hash,
        after.seq,
        after.checkpoint.tree_size,
        after.path,
        after.checkpoint.root_hash,
    )
    assert after.leaf_hash == before.leaf_hash
    assert (await store.audit()).ok


async def test_personal_data_without_a_subject_is_rejected(store: LedgerStore) -> None:
    result = await store.append([_chat(0, "alice") | {"subject": None}])

    assert result.recorded == []
    assert "no subject" in result.rejected[0].reason


async def test_retention_drops_expired_payloads_and_the_ledger_still_verifies(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    await store.append(
        [
            make_event(
                n,
                event_type="steward.chat.responded.v1" if n % 2 else "steward.x.v1",
                subject=None,
            )
            for n in range(8)
        ]
    )
    policy = RetentionPolicy(periods={"steward.chat.responded.v1": timedelta(days=30)})
    connection = await asyncpg.connect(ledger_db.maintenance_dsn)
    try:
        assert await prune_expired(connection, policy, datetime.now(UTC)) == 0
        pruned = await prune_expired(connection, policy, datetime.now(UTC) + timedelta(days=31))
    finally:
        await connection.close()

    report = await store.audit()
    assert pruned == 4
    assert "data" not in (await store.event(make_event(1)["id"])).event
    assert (report.ok, report.pruned_events) == (True, 4)


async def test_retention_cannot_be_bent_into_other_changes(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    await store.append([make_event(0, event_type="steward.x.v1", subject=None)])
    maintainer = await asyncpg.connect(ledger_db.maintenance_dsn)
    writer = await asyncpg.connect(ledger_db.app_dsn)
    try:
        async with maintainer.transaction():
            await maintainer.execute("SET LOCAL steward.ledger_maintenance = 'retention'")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await maintainer.execute(
                    'UPDATE ledger_events SET data = \'{"prompt": "x"}\', pruned_at = now()'
                )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await maintainer.execute("UPDATE ledger_events SET tenant = 'x'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await prune_expired(
                writer, RetentionPolicy({"steward.chat.requested.v1": timedelta()})
            )
    finally:
        await maintainer.close()
        await writer.close()
