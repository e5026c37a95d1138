"""The form in which the ledger records an event, and how it maps to table rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward_ledger.errors import InvalidEventError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import asyncpg

REQUIRED_ATTRIBUTES = ("id", "source", "type", "specversion")
OPTIONAL_ATTRIBUTES = (
    "time",
    "subject",
    "datacontenttype",
    "dataschema",
    "tenant",
    "correlationid",
    "causationid",
    "traceparent",
)
ENVELOPE_ATTRIBUTES = REQUIRED_ATTRIBUTES + OPTIONAL_ATTRIBUTES
_OPTIONAL = frozenset(OPTIONAL_ATTRIBUTES)
_KNOWN = frozenset((*ENVELOPE_ATTRIBUTES, "data"))

# Columns COPY fills, in order; recorded_at and pruned_at take their defaults.
COPY_COLUMNS = (
    "seq",
    "event_id",
    "source",
    "type",
    "specversion",
    "time",
    "occurred_at",
    "subject",
    "datacontenttype",
    "dataschema",
    "tenant",
    "correlationid",
    "causationid",
    "traceparent",
    "extensions",
    "data",
    "canonical_sha256",
    "leaf_hash",
)

SELECT_COLUMNS = ", ".join((*COPY_COLUMNS, "recorded_at", "pruned_at"))


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One ledger row: the event as recorded, its place in the tree and its hashes."""

    seq: int
    event: dict[str, Any]
    canonical_sha256: bytes
    leaf_hash: bytes
    recorded_at: datetime
    pruned_at: datetime | None

    @property
    def event_id(self) -> str:
        """The event's CloudEvents id."""
        return str(self.event["id"])


def recorded_form(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return the event as the ledger records it: attributes set to None are left out."""
    if not hasattr(event, "items"):
        raise InvalidEventError(
            f"Event is a {type(event).__name__}, expected a CloudEvents object"
        )
    recorded = {name: value for name, value in event.items() if value is not None}

    for name in REQUIRED_ATTRIBUTES:
        value = recorded.get(name)
        if type(value) is not str or not value:
            raise InvalidEventError(
                f"Event {recorded.get('id')!r} has {name}={value!r}, expected a non-empty string"
            )
    for name, value in recorded.items():
        if type(value) is str or name == "data":
            continue
        if name in _OPTIONAL:
            raise InvalidEventError(
                f"Event {recorded['id']!r} has {name}={value!r}, expected a string"
            )
        if type(name) is not str:
            raise InvalidEventError(
                f"Event {recorded['id']!r} has attribute name {name!r}, expected a string"
            )
    return recorded


def occurred_at(recorded: Mapping[str, Any]) -> datetime | None:
    """Return the event's `time` as a datetime, or None when it is absent or unreadable."""
    text = recorded.get("time")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def extensions_of(recorded: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the attributes that have no column of their own, or None when there are none."""
    # Nearly every event has none: the count tells without building a dict.
    if len(recorded) <= len(_KNOWN.intersection(recorded)):
        return None
    extra = {
        name: value
        for name, value in recorded.items()
        if name not in ENVELOPE_ATTRIBUTES and name != "data"
    }
    return extra or None


def recorded_event_of(row: asyncpg.Record) -> RecordedEvent:
    """Rebuild a recorded event from its table row."""
    event: dict[str, Any] = {"id": row["event_id"]}
    for name in ENVELOPE_ATTRIBUTES[1:]:
        value = row[name]
        if value is not None:
            event[name] = value
    if row["extensions"]:
        event.update(row["extensions"])
    if row["data"] is not None:
        event["data"] = row["data"]

    return RecordedEvent(
        seq=row["seq"],
        event=event,
        canonical_sha256=row["canonical_sha256"],
        leaf_hash=row["leaf_hash"],
        recorded_at=row["recorded_at"],
        pruned_at=row["pruned_at"],
    )
