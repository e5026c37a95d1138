"""Changes made behind the ledger's back, in SQL or in a bundle, are caught at their seq."""

from __future__ import annotations

import hashlib
import io
import json
from typing import TYPE_CHECKING

import asyncpg
import pytest
from ledger_testing import make_event
from steward_ledger import CheckpointPolicy, LedgerIntegrityError, LedgerStore
from steward_ledger_proofs import canonical_json, event_leaf_hash, verify_bundle

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from steward_ledger_proofs import CheckpointSigner

    from conftest import LedgerDatabase

EVENTS = 60
CHECKPOINT_EVERY = 20


@pytest.fixture
async def store(ledger_db: LedgerDatabase, signer: CheckpointSigner) -> AsyncIterator[LedgerStore]:
    ledger = await LedgerStore.open(
        ledger_db.app_dsn,
        signer,
        checkpoints=CheckpointPolicy(every_events=CHECKPOINT_EVERY, every_seconds=3600),
    )
    for start in range(0, EVENTS, 10):
        await ledger.append([make_event(n) for n in range(start, start + 10)])
    yield ledger
    await ledger.close()


async def _tamper(db: LedgerDatabase, *statements: str) -> None:
    """Run SQL as a superuser with the append-only triggers switched off."""
    connection = await db.superuser()
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                await connection.execute(statement)
    finally:
        await connection.close()


async def test_the_writer_role_may_not_update_or_delete(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    connection = await asyncpg.connect(ledger_db.app_dsn)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await connection.execute("UPDATE ledger_events SET tenant = 'x' WHERE seq = 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await connection.execute("DELETE FROM ledger_events WHERE seq = 1")
    finally:
        await connection.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET tenant = 'x' WHERE seq = 1",
        "DELETE FROM ledger_events WHERE seq = 1",
        "TRUNCATE ledger_events",
        "DELETE FROM ledger_checkpoints",
    ],
)
async def test_even_a_superuser_is_stopped_by_the_triggers(
    store: LedgerStore, ledger_db: LedgerDatabase, statement: str
) -> None:
    connection = await ledger_db.superuser()
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute(statement)
    finally:
        await connection.close()


async def test_a_modified_payload_is_caught_at_its_seq(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    await _tamper(
        ledger_db,
        "UPDATE ledger_events SET data = jsonb_set(data, '{prompt}', '\"forged\"') WHERE seq = 17",
    )

    report = await store.audit()

    assert (report.ok, report.first_failed_seq) == (False, 17)


async def test_a_modified_envelope_field_is_caught_at_its_seq(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    await _tamper(ledger_db, "UPDATE ledger_events SET tenant = 'agency-z' WHERE seq = 42")

    report = await store.audit()

    assert (report.ok, report.first_failed_seq) == (False, 42)


async def test_a_deleted_row_is_caught_at_its_seq(
    store: LedgerStore, ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    await _tamper(ledger_db, "DELETE FROM ledger_events WHERE seq = 33")

    report = await store.audit()
    await store.close()

    assert (report.ok, report.first_failed_seq) == (False, 33)
    with pytest.raises(LedgerIntegrityError, match="seq 34 found where seq 33") as caught:
        await LedgerStore.open(ledger_db.app_dsn, signer)
    assert caught.value.seq == 33


async def test_reordered_rows_are_caught_at_the_first_moved_seq(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    await _tamper(
        ledger_db,
        "UPDATE ledger_events SET seq = 1000000 WHERE seq = 25",
        "UPDATE ledger_events SET seq = 25 WHERE seq = 26",
        "UPDATE ledger_events SET seq = 26 WHERE seq = 1000000",
    )

    report = await store.audit()

    assert (report.ok, report.first_failed_seq) == (False, 25)


async def test_an_inserted_row_is_caught(store: LedgerStore, ledger_db: LedgerDatabase) -> None:
    # The forger shifts later rows up and gives the inserted row a correct leaf for its seq,
    # so the first row that fails is the original event it displaced.
    forged = {k: v for k, v in make_event(999).items() if v is not None}
    digest = hashlib.sha256(canonical_json(forged)).digest()
    leaf = event_leaf_hash(12, digest)
    await _tamper(
        ledger_db,
        "UPDATE ledger_events SET seq = seq + 1000000 WHERE seq >= 12",
        "UPDATE ledger_events SET seq = seq - 999999 WHERE seq >= 1000000",
    )
    connection = await ledger_db.superuser()
    try:
        await connection.execute(
            "INSERT INTO ledger_events (seq, event_id, source, type, specversion, time, subject,"
            " datacontenttype, dataschema, tenant, correlationid, traceparent, data,"
            " canonical_sha256, leaf_hash)"
            " VALUES (12, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb,"
            " $13, $14)",
            *(
                forged[name]
                for name in (
                    "id",
                    "source",
                    "type",
                    "specversion",
                    "time",
                    "subject",
                    "datacontenttype",
                    "dataschema",
                    "tenant",
                    "correlationid",
                    "traceparent",
                )
            ),
            json.dumps(forged["data"]),
            digest,
            leaf,
        )
    finally:
        await connection.close()

    report = await store.audit()

    assert not report.ok
    assert report.first_failed_seq == 13


async def test_a_consistently_rehashed_row_is_caught_by_the_signed_root(
    store: LedgerStore, ledger_db: LedgerDatabase
) -> None:
    # The forger also rewrites the stored digest and leaf, so only the signed roots disagree.
    row = (await store.event(make_event(27)["id"])).event
    row["data"] = {"prompt": "forged", "score": 0.25}
    digest = hashlib.sha256(canonical_json(row)).digest()
    await _tamper(
        ledger_db,
        f"""UPDATE ledger_events SET data = '{json.dumps(row["data"])}'::jsonb,
            canonical_sha256 = '\\x{digest.hex()}'::bytea,
            leaf_hash = '\\x{event_leaf_hash(27, digest).hex()}'::bytea WHERE seq = 27""",
    )

    report = await store.audit()

    assert (report.ok, report.first_failed_seq) == (False, 20)
    assert "[20, 40)" in (report.reason or "")


async def test_an_exported_bundle_edited_by_hand_is_caught(store: LedgerStore) -> None:
    buffer = io.BytesIO()
    await store.export_all(buffer)
    lines = buffer.getvalue().splitlines(keepends=True)
    edited = lines[:]
    edited[1 + 8] = edited[1 + 8].replace(b"question 8", b"question 9")
    deleted = lines[: 1 + 30] + lines[1 + 31 :]
    swapped = lines[:]
    swapped[1 + 4], swapped[1 + 5] = swapped[1 + 5], swapped[1 + 4]
    inserted = [*lines[: 1 + 50], lines[1 + 50], *lines[1 + 50 :]]

    results = [verify_bundle(bundle).first_failed_seq for bundle in (edited, deleted, swapped)]

    assert results == [8, 30, 4]
    assert verify_bundle(inserted).first_failed_seq == 50
    assert verify_bundle(lines).ok
