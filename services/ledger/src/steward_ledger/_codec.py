"""Binary jsonb codec for asyncpg, which COPY needs because it speaks only the binary format."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

_JSONB_VERSION = b"\x01"

# The ledger refuses integers beyond 2**53 on the way in, so any such number read back was a
# float whose integral value jsonb prints without an exponent.
_SAFE_INTEGER = 2**53 - 1


def encode_jsonb(value: Any) -> bytes:
    """Encode a JSON value, or JSON text already encoded as bytes, as binary jsonb."""
    # The ledger hands over the canonical bytes it has just hashed rather than encode twice.
    if isinstance(value, bytes):
        return _JSONB_VERSION + value
    return _JSONB_VERSION + json.dumps(value, ensure_ascii=False).encode()


def decode_jsonb(data: bytes) -> Any:
    """Decode binary jsonb into Python values."""
    return json.loads(data[1:], parse_int=_parse_int)


def _parse_int(text: str) -> int | float:
    """Read an integer, giving back a float where only a float could have been stored."""
    value = int(text)
    if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
        return value
    return float(value)


async def register_jsonb_codec(connection: asyncpg.Connection) -> None:
    """Make a connection read and write jsonb in the binary format."""
    await connection.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=encode_jsonb,
        decoder=decode_jsonb,
        format="binary",
    )
