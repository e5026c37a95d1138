"""Steward-shaped events for the ledger tests."""

from __future__ import annotations

import uuid
from typing import Any


def make_event(
    n: int,
    *,
    correlation: str = "corr-1",
    tenant: str = "agency-a",
    event_type: str = "steward.chat.requested.v1",
    subject: str | None = "citizen-1",
    time: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a Steward CloudEvents envelope with a deterministic id."""
    return {
        "id": str(uuid.UUID(int=(7 << 76) | n)),
        "source": "steward/gateway",
        "type": event_type,
        "specversion": "1.0",
        "time": time or f"2026-12-04T10:{n // 60 % 60:02d}:{n % 60:02d}.000123Z",
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": f"https://steward.example/schemas/{event_type}.json",
        "tenant": tenant,
        "correlationid": correlation,
        "causationid": None,
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": data if data is not None else {"prompt": f"question {n}", "score": 0.25},
    }
