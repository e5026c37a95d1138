"""LedgerStore appends, deduplicates, restores, queries, proves and exports."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from ledger_testing import make_event
from steward_ledger import (
    CheckpointPolicy,
    EventNotFoundError,
    EventQuery,
    LedgerBusyError,
    LedgerStore,
)
from steward_ledger_proofs import (
    canonical_json,
    event_leaf_hash,
    tree_root,
    verify_bundle,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)

if TYPE_CHECKING:
    from steward_ledger_proofs import CheckpointSigner

    from conftest import LedgerDatabase


async def _open(db: LedgerDatabase, signer: CheckpointSigner, every: int = 1000) -> LedgerStore:
    return await LedgerStore.open(
        db.app_dsn, signer, checkpoints=CheckpointPolicy(every_events=every, every_seconds=3600)
    )


async def test_appended_events_get_seqs_and_rfc9162_leaves(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer)
    events = [make_event(n) for n in range(5)]

    result = await store.append(events)

    expected_leaves = [
        event_leaf_hash(
            seq,
            hashlib.sha256(
                canonical_json({k: v for k, v in event.items() if v is not None})
            ).digest(),
        )
        for seq, event in enumerate(events)
    ]
    assert [r.seq for r in result.recorded] == [0, 1, 2, 3, 4]
    assert [r.leaf_hash for r in result.recorded] == expected_leaves
    assert store.root_hash == tree_root(expected_leaves)
    assert (await store.event(events[3]["id"])).event["data"] == events[3]["data"]
    await store.close()


async def test_each_event_is_recorded_once(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer)
    await store.append([make_event(0), make_event(1)])

    result = await store.append([make_event(1), make_event(2), make_event(2)])

    assert [r.seq for r in result.recorded] == [2]
    assert sorted(result.duplicates) == sorted([make_event(1)["id"], make_event(2)["id"]])
    assert store.tree_size == 3
    await store.close()


async def test_bad_envelopes_are_rejected_alone(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer)
    missing_source = {**make_event(1), "source": None}
    with_nul = make_event(2, data={"prompt": "a\x00b"})
    not_json = make_event(3, data={"when": datetime.now(UTC)})

    result = await store.append([make_event(0), missing_source, with_nul, not_json, make_event(4)])

    assert [r.seq for r in result.recorded] == [0, 1]
    assert [r.event_id for r in result.rejected] == [
        missing_source["id"],
        with_nul["id"],
        not_json["id"],
    ]
    assert "source=None" in result.rejected[0].reason
    assert "NUL" in result.rejected[1].reason
    await store.close()


async def test_a_reopened_store_restores_its_tree_and_goes_on(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer, every=4)
    await store.append([make_event(n) for n in range(10)])
    root, size = store.root_hash, store.tree_size
    await store.close()

    reopened = await _open(ledger_db, signer, every=4)
    assert (reopened.tree_size, reopened.root_hash) == (size, root)
    result = await reopened.append([make_event(10)])

    assert result.recorded[0].seq == 10
    assert (await reopened.audit()).ok
    await reopened.close()


async def test_a_second_writer_is_refused(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer)

    with pytest.raises(LedgerBusyError, match="advisory lock"):
        await _open(ledger_db, signer)
    await store.close()


async def test_checkpoints_are_signed_every_n_events(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer, every=3)

    first = await store.append([make_event(0), make_event(1)])
    second = await store.append([make_event(2)])

    assert first.checkpoint is None
    assert second.checkpoint is not None
    assert second.checkpoint.tree_size == 3
    assert second.checkpoint.root_hash == store.root_hash
    verify_checkpoint(second.checkpoint, store.public_key)
    assert await store.latest_checkpoint() == second.checkpoint
    assert await store.checkpoint_if_due() is None
    await store.close()


async def test_queries_find_by_id_correlation_and_filters_with_keyset_pages(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer)
    events = [
        make_event(
            n,
            correlation=f"corr-{n % 3}",
            tenant="agency-a" if n % 2 else "agency-b",
            event_type="steward.chat.requested.v1" if n < 15 else "steward.chat.responded.v1",
        )
        for n in range(20)
    ]
    await store.append(events)

    with pytest.raises(EventNotFoundError, match="agency-b"):
        await store.event(events[1]["id"], tenant="agency-b")
    timeline = await store.timeline("corr-1", tenant="agency-a")
    assert [r.seq for r in timeline] == [1, 7, 13, 19]

    query = EventQuery(
        tenant="agency-a",
        types=["steward.chat.requested.v1"],
        occurred_from=datetime(2026, 12, 4, 10, 0, 3, tzinfo=UTC),
        occurred_to=datetime(2026, 12, 4, 10, 0, 14, tzinfo=UTC),
    )
    seqs: list[int] = []
    after = None
    while True:
        page = await store.search(query, after_seq=after, limit=2)
        seqs += [r.seq for r in page.events]
        if page.next_after_seq is None:
            break
        after = page.next_after_seq
    assert seqs == [3, 5, 7, 9, 11, 13]
    await store.close()


async def test_inclusion_and_consistency_proofs_verify_against_signed_roots(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer, every=300)
    await store.append([make_event(n) for n in range(300)])
    await store.append([make_event(n) for n in range(300, 777)])
    old = (await store.checkpoints())[0]
    new = await store.checkpoint()

    proof = await store.inclusion_proof(make_event(123)["id"])
    consistency = await store.consistency_proof(old.tree_size, new.tree_size)

    assert proof.checkpoint == new
    verify_inclusion(proof.leaf_hash, 123, new.tree_size, proof.path, new.root_hash)
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, consistency)
    await store.close()


async def test_exports_verify_offline_with_the_pinned_key(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    store = await _open(ledger_db, signer, every=7)
    await store.append([make_event(n, correlation=f"corr-{n % 4}") for n in range(40)])
    middle = datetime.now(UTC)
    await store.append([make_event(n, correlation=f"corr-{n % 4}") for n in range(40, 50)])

    whole, later, one = io.BytesIO(), io.BytesIO(), io.BytesIO()
    await store.export_all(whole)
    summary = await store.export_range(later, recorded_from=middle)
    await store.export_correlation(one, "corr-2", tenant="agency-a")

    for bundle, count in ((whole, 50), (later, 10), (one, 12)):
        report = verify_bundle(
            bundle.getvalue().splitlines(keepends=True), trusted_public_key=signer.public_key
        )
        assert report.ok, report.reason
        assert report.events_checked == count
    assert (summary.start, summary.end) == (40, 50)
    await store.close()
