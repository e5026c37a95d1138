"""Offline bundle verification catches modified, deleted, reordered and inserted events."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from proofs_testing import make_event
from steward_ledger_proofs import (
    BundleEntry,
    CheckpointSigner,
    canonical_json,
    event_leaf_hash,
    read_bundle_events,
    verify_bundle,
)

if TYPE_CHECKING:
    from pathlib import Path

    from proofs_testing import RecordedLog


def _replace_event(line: bytes, event: bytes) -> bytes:
    head, _, _ = line.partition(b',"event":')
    return head + b',"event":' + event + b"}\n"


def _recomputed(seq: int, event: bytes) -> bytes:
    """Return a line whose leaf hash an attacker recomputed for a forged event."""
    leaf = event_leaf_hash(seq, hashlib.sha256(event).digest())
    return BundleEntry(seq=seq, leaf_hash=leaf, event_json=event).to_line()


def test_an_untouched_bundle_verifies_from_a_file(
    recorded_log: RecordedLog, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.jsonl"
    path.write_bytes(b"".join(recorded_log.range_bundle()))

    report = verify_bundle(path, trusted_public_key=recorded_log.signer.public_key)

    assert report.ok, report.reason
    assert report.events_checked == 45
    assert report.checkpoints_checked == 5
    assert report.key_trusted is True
    assert report.tree_size == 45
    assert [entry.seq for entry in read_bundle_events(path)] == list(range(45))


def test_a_modified_event_fails_at_its_seq(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    changed = recorded_log.events[13].replace(b"question number 13", b"question number 99")
    lines[1 + 13] = _replace_event(lines[1 + 13], changed)

    report = verify_bundle(lines)

    assert not report.ok
    assert report.first_failed_seq == 13
    assert "leaf hash" in (report.reason or "")


def test_a_deleted_event_fails_at_its_seq(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    del lines[1 + 21]

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 21)
    assert "missing" in (report.reason or "")


def test_reordered_events_fail_at_the_first_moved_seq(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    lines[1 + 30], lines[1 + 31] = lines[1 + 31], lines[1 + 30]

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 30)


def test_an_inserted_event_fails_at_its_seq(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    lines.insert(1 + 8, _recomputed(8, canonical_json(make_event(1000))))

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 8)


def test_an_event_appended_past_the_end_fails(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    lines.append(_recomputed(45, canonical_json(make_event(45))))

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 45)


def test_a_rewritten_history_is_caught_by_the_signed_roots(recorded_log: RecordedLog) -> None:
    # The forger renumbers and rehashes everything after a deleted event; only roots catch it.
    events = [e for seq, e in enumerate(recorded_log.events) if seq != 24]
    lines = recorded_log.range_bundle()[:1] + [_recomputed(s, e) for s, e in enumerate(events)]
    header = json.loads(lines[0])
    header["end"] = 44
    lines[0] = json.dumps(header).encode() + b"\n"

    report = verify_bundle(lines)

    assert not report.ok
    assert report.first_failed_seq == 20
    assert "[20, 30)" in (report.reason or "")


def test_a_forged_checkpoint_or_untrusted_key_fails(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    header = json.loads(lines[0])
    header["checkpoints"][1]["tree_size"] = 21
    forged = [json.dumps(header).encode() + b"\n", *lines[1:]]

    assert "does not verify" in (verify_bundle(forged).reason or "")
    other = CheckpointSigner.generate().public_key
    report = verify_bundle(lines, trusted_public_key=other)
    assert (report.ok, report.key_trusted) == (False, False)


def test_a_range_in_the_middle_verifies_through_its_frontier(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle(start=13, end=27)

    report = verify_bundle(lines)

    assert report.ok, report.reason
    assert report.events_checked == 14
    assert report.checkpoints_checked == 2


def test_a_middle_range_with_a_rewritten_event_fails_consistency(
    recorded_log: RecordedLog,
) -> None:
    lines = recorded_log.range_bundle(start=13, end=17)
    lines[1 + 2] = _recomputed(15, canonical_json(make_event(2000)))

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 13)
    assert "do not extend" in (report.reason or "")


def test_a_pruned_event_still_verifies_by_its_digest(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    digest = hashlib.sha256(recorded_log.events[5]).digest()
    pruned = BundleEntry(seq=5, leaf_hash=recorded_log.leaves[5], digest=digest)
    lines[1 + 5] = pruned.to_line()

    report = verify_bundle(lines)

    assert report.ok, report.reason
    assert report.pruned_events == 1


def test_selected_events_verify_by_inclusion(recorded_log: RecordedLog) -> None:
    lines = recorded_log.events_bundle([2, 17, 44])

    report = verify_bundle(lines)

    assert report.ok, report.reason
    assert report.events_checked == 3


def test_a_modified_selected_event_fails_at_its_seq(recorded_log: RecordedLog) -> None:
    lines = recorded_log.events_bundle([2, 17, 44])
    forged = canonical_json(make_event(999))
    leaf = event_leaf_hash(17, hashlib.sha256(forged).digest())
    head = lines[2].partition(b',"proof":')[2].partition(b',"event":')[0]
    lines[2] = b'{"seq":17,"leaf":"%s","proof":%s,"event":%s}\n' % (
        leaf.hex().encode(),
        head,
        forged,
    )

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 17)
    assert "not in the tree" in (report.reason or "")


def test_reordered_selected_events_fail(recorded_log: RecordedLog) -> None:
    lines = recorded_log.events_bundle([2, 17, 44])
    lines[1], lines[2] = lines[2], lines[1]

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 2)


def test_a_garbled_line_is_reported_at_its_seq(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    lines[1 + 3] = b"not json\n"

    report = verify_bundle(lines)

    assert (report.ok, report.first_failed_seq) == (False, 3)


def test_a_bundle_with_a_foreign_format_is_refused() -> None:
    report = verify_bundle([b'{"format": "something-else/9"}\n'])

    assert not report.ok
    assert "something-else/9" in (report.reason or "")


def test_a_header_naming_another_key_fails(recorded_log: RecordedLog) -> None:
    lines = recorded_log.range_bundle()
    header = json.loads(lines[0])
    header["key_id"] = "0" * len(header["key_id"])
    relabelled = [json.dumps(header).encode() + b"\n", *lines[1:]]

    report = verify_bundle(relabelled)

    assert not report.ok
    assert "names key" in (report.reason or "")
