"""Binary jsonb codec for asyncpg, which COPY needs because it speaks only the binary format."""

from __future__ import annotations

import json
from _json import encode_basestring, make_encoder
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

_JSONB_VERSION = b"\x01"

# The ledger refuses integers beyond 2**53 on the way in, so any such number read back was a
# float whose integral value jsonb prints without an exponent.
_SAFE_INTEGER = 2**53 - 1


def _refuse(value: Any) -> Any:
    """Refuse a value that has no JSON form."""
    raise TypeError(f"Cannot store a {type(value).__name__} in jsonb, expected JSON values")


# One encoder kept for every call; json.dumps would build a new one per value.
_encoder = make_encoder(None, _refuse, encode_basestring, None, ":", ",", False, False, False)


def encode_jsonb(value: Any) -> bytes:
    """Encode a JSON value as binary jsonb."""
    return _JSONB_VERSION + "".join(_encoder(value, 0)).encode()


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
