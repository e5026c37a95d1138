"""The ledger's own binary COPY rows: the payload cut from the hashed bytes, every column as
asyncpg would have written it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from ledger_testing import make_event
from steward_ledger import CheckpointPolicy, LedgerStore
from steward_ledger._codec import register_jsonb_codec
from steward_ledger._copy import data_json
from steward_ledger._records import (
    COPY_COLUMNS,
    extensions_of,
    occurred_at,
    recorded_form,
)
from steward_ledger_proofs import canonical_json

if TYPE_CHECKING:
    from steward_ledger_proofs import CheckpointSigner

    from conftest import LedgerDatabase


def _awkward_events() -> list[dict[str, Any]]:
    """Events whose payload is hard to find in their canonical JSON, or whose columns are odd."""
    quoted = 'say ","data":{"x":1},"id":"no" and \\" and ,"datacontenttype":"x"'
    return [
        make_event(0),
        # Strings around the payload that look like members.
        {**make_event(1), "causationid": quoted, "correlationid": '"data":', "subject": quoted},
        # Payload objects holding the very keys that bound the payload.
        make_event(2, data={"a": {"data": 1}, "datacontenttype": "x", "id": ',"id":'}),
        # No datacontenttype, then no dataschema either: another key ends the payload.
        {**make_event(3, data={"a": 1, "dataschema": "x"}), "datacontenttype": None},
        {
            **make_event(4, data={"a": {"b": 1, "id": 1}}),
            "datacontenttype": None,
            "dataschema": None,
        },
        # Payloads that are not objects, and none at all.
        {**make_event(5), "data": [1, "two", {"data": None}]},
        {**make_event(6), "data": "just text"},
        {**make_event(7), "data": False},
        {**make_event(8), "data": None},
        # Numbers and keys that only RFC 8785's own encoder writes right.
        make_event(9, data={"big": 1e16, "small": 1.5e-7, "whole": 2.0, "n": -(2**53) + 1}),
        make_event(10, data={"\U0001f600": "grin", "\ufb01": "ligature", "é": "e"}),
        # Extensions, one of them an object with a "data" key of its own.
        {**make_event(11), "aaa": {"data": [1, 2]}, "zzz": "last"},
        # Times with an offset, without a zone, unreadable, and absent.
        make_event(12, time="2026-12-04T12:30:00.5+02:00"),
        make_event(13, time="2026-12-04T10:00:00"),
        make_event(14, time="next Tuesday"),
        {**make_event(15), "time": None, "subject": None, "tenant": None},
    ]


@pytest.mark.parametrize("event", _awkward_events(), ids=lambda event: event["id"][-2:])
def test_the_payload_cut_from_the_hashed_bytes_is_its_own_canonical_json(
    event: dict[str, Any],
) -> None:
    recorded = recorded_form(event)

    cut = data_json(
        canonical_json(recorded), recorded, has_extensions=extensions_of(recorded) is not None
    )

    if "data" in recorded:
        assert cut == canonical_json(recorded["data"])
    else:
        assert cut is None


async def test_copied_rows_equal_what_asyncpg_writes_for_the_same_values(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    events = _awkward_events()
    store = await LedgerStore.open(
        ledger_db.app_dsn, signer, checkpoints=CheckpointPolicy(every_events=1000)
    )
    result = await store.append(events)
    await store.close()
    assert len(result.recorded) == len(events)

    # The same values, encoded column by column by asyncpg, in a twin table.
    columns = ", ".join(COPY_COLUMNS)
    connection = await ledger_db.superuser()
    try:
        await register_jsonb_codec(connection)
        await connection.execute("CREATE TABLE twin (LIKE ledger_events INCLUDING DEFAULTS)")
        rows = []
        for receipt, event in zip(result.recorded, events, strict=True):
            recorded = recorded_form(event)
            hashes = await connection.fetchrow(
                "SELECT canonical_sha256, leaf_hash FROM ledger_events WHERE seq = $1",
                receipt.seq,
            )
            rows.append(
                (
                    receipt.seq,
                    recorded["id"],
                    *(recorded.get(name) for name in COPY_COLUMNS[2:6]),
                    occurred_at(recorded),
                    *(recorded.get(name) for name in COPY_COLUMNS[7:14]),
                    extensions_of(recorded),
                    recorded.get("data"),
                    hashes["canonical_sha256"],
                    hashes["leaf_hash"],
                )
            )
        await connection.copy_records_to_table("twin", records=rows, columns=COPY_COLUMNS)

        only_ledger = await connection.fetch(
            f"SELECT {columns} FROM ledger_events EXCEPT ALL SELECT {columns} FROM twin"
        )
        only_twin = await connection.fetch(
            f"SELECT {columns} FROM twin EXCEPT ALL SELECT {columns} FROM ledger_events"
        )
    finally:
        await connection.close()

    assert only_ledger == only_twin == []


async def test_recorded_events_read_back_as_they_were_recorded(
    ledger_db: LedgerDatabase, signer: CheckpointSigner
) -> None:
    events = _awkward_events()
    store = await LedgerStore.open(ledger_db.app_dsn, signer)
    await store.append(events)

    for event in events:
        assert (await store.event(event["id"])).event == recorded_form(event)
    assert (await store.audit()).ok
    await store.close()
