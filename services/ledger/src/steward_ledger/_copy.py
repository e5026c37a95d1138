"""Ledger rows in PostgreSQL's binary COPY format, built from bytes the ledger already holds.

The ledger writes its own COPY stream rather than handing row tuples to asyncpg: the payload goes
in as the canonical JSON bytes already made for hashing instead of being encoded a second time,
and the stream can leave in small chunks, so the server files one chunk while the next is hashed.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from steward_ledger_proofs import canonical_json

from steward_ledger._records import COPY_COLUMNS, extensions_of, occurred_at

if TYPE_CHECKING:
    from collections.abc import Mapping

# Signature, flags (no OIDs) and an empty header extension; a field count of -1 ends the data.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"

_NULL = b"\xff\xff\xff\xff"
_JSONB_VERSION = b"\x01"
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# A row opens with its field count and the seq; every field is a length and then its bytes.
_row_start = struct.Struct(">hiq").pack
_timestamp_field = struct.Struct(">iq").pack
_hash_fields = struct.Struct(">i32si32s").pack
_FIELD_COUNT = len(COPY_COLUMNS)

# Where the payload ends inside an event's canonical JSON: at the key sorting next after "data".
_DATA_MEMBER = b'"data":'
_AFTER_DATA = ("datacontenttype", "dataschema", "id")
_NEXT_MEMBER = {name: b',"' + name.encode() + b'":' for name in _AFTER_DATA}

# Sources, types, tenants and schemas repeat from event to event; their fields are kept, up to
# this many distinct values before the store starts afresh.
_KEPT_FIELDS = 4096


class RowEncoder:
    """Encodes recorded events as rows of ledger_events in binary COPY format."""

    def __init__(self) -> None:
        """Start with no fields kept."""
        self._kept: dict[str, bytes] = {}

    def row(
        self,
        seq: int,
        recorded: Mapping[str, Any],
        canonical: bytes,
        digest: bytes,
        leaf: bytes,
    ) -> bytes:
        """Return one event's row, its fields in COPY_COLUMNS order."""
        get = recorded.get
        repeated = self._repeated_field
        extensions = extensions_of(recorded)
        moment = occurred_at(recorded)
        if moment is None:
            occurred = _NULL
        else:
            occurred = _timestamp_field(8, (moment - _POSTGRES_EPOCH) // _MICROSECOND)

        # recorded_form checked that every envelope attribute is a string.
        return b"".join(
            (
                _row_start(_FIELD_COUNT, 8, seq),
                _text_field(recorded["id"]),
                repeated(recorded["source"]),
                repeated(recorded["type"]),
                repeated(recorded["specversion"]),
                _text_field(get("time")),
                occurred,
                _text_field(get("subject")),
                repeated(get("datacontenttype")),
                repeated(get("dataschema")),
                repeated(get("tenant")),
                _text_field(get("correlationid")),
                _text_field(get("causationid")),
                _text_field(get("traceparent")),
                _jsonb_field(None if extensions is None else canonical_json(extensions)),
                _jsonb_field(
                    data_json(canonical, recorded, has_extensions=extensions is not None)
                ),
                _hash_fields(32, digest, 32, leaf),
            )
        )

    def _repeated_field(self, value: str | None) -> bytes:
        """Return the field of a value that recurs across events, kept after its first use."""
        if value is None:
            return _NULL
        field = self._kept.get(value)
        if field is None:
            if len(self._kept) >= _KEPT_FIELDS:
                self._kept.clear()
            field = self._kept[value] = _text_field(value)
        return field


def data_json(
    canonical: bytes, recorded: Mapping[str, Any], *, has_extensions: bool
) -> bytes | None:
    """Return the canonical JSON of an event's data, cut out of the event's canonical JSON."""
    if "data" not in recorded:
        return None

    # Attributes outside the envelope may hold objects with any keys; encode such data apart.
    if has_extensions:
        return canonical_json(recorded["data"])

    # Every other member is a string, and inside a JSON string a quote is always escaped, so
    # '"data":' first appears as the event's own member, and the key that sorts next after it
    # appears last where that member begins.
    start = canonical.index(_DATA_MEMBER) + len(_DATA_MEMBER)
    if "datacontenttype" in recorded:
        end = canonical.rindex(_NEXT_MEMBER["datacontenttype"])
    elif "dataschema" in recorded:
        end = canonical.rindex(_NEXT_MEMBER["dataschema"])
    else:
        end = canonical.rindex(_NEXT_MEMBER["id"])
    return canonical[start:end]


def _text_field(value: str | None) -> bytes:
    """Return a text field, or NULL."""
    if value is None:
        return _NULL
    encoded = value.encode()
    return len(encoded).to_bytes(4, "big") + encoded


def _jsonb_field(text: bytes | None) -> bytes:
    """Return a jsonb field holding JSON text, or NULL."""
    if text is None:
        return _NULL
    return (len(text) + 1).to_bytes(4, "big") + _JSONB_VERSION + text
