"""RFC 8785 canonical JSON and the SHA-256 digest the ledger takes over it."""

from __future__ import annotations

import hashlib
from _json import encode_basestring, make_encoder
from typing import Any

import rfc8785

from steward_ledger_proofs._errors import CanonicalJsonError

# RFC 8785 numbers are IEEE 754 doubles, so integers beyond 2**53 - 1 have no exact form.
_SAFE_INTEGER = 2**53 - 1

# Inside this range a non-integral float is written by Python's repr and by ECMAScript's
# Number.prototype.toString with the same digits and no exponent.
_PLAIN_FLOAT_LOW = 1e-4
_PLAIN_FLOAT_HIGH = 1e16

_HIGHEST_BMP = "\uffff"


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of a JSON value."""
    # The standard library's encoder writes the very bytes RFC 8785 asks for when every number
    # is a safe integer or a plain float and no key leaves the BMP, and is five times faster.
    if _is_plain(value):
        try:
            return "".join(_plain_encoder(value, 0)).encode()
        except UnicodeEncodeError:
            pass

    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, TypeError) as exc:
        raise CanonicalJsonError(
            f"Cannot write {type(value).__name__} value as RFC 8785 canonical JSON: {exc}"
        ) from exc


def _refuse(value: Any) -> Any:
    """Refuse a value json cannot write; _is_plain lets none through, so this never runs."""
    raise TypeError(f"{type(value).__name__} is not JSON")


# One encoder kept for every call: json.dumps builds a new one each time, which costs more
# than the encoding itself for an event-sized value.
_plain_encoder = make_encoder(None, _refuse, encode_basestring, None, ":", ",", True, False, False)


def canonical_digest(value: Any) -> bytes:
    """Return the SHA-256 digest of a JSON value's canonical encoding."""
    return hashlib.sha256(canonical_json(value)).digest()


def _is_plain(value: Any) -> bool:
    """Tell whether the plain encoder writes this value exactly as RFC 8785 does."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            # RFC 8785 sorts keys by UTF-16 code units, which differs from code point order
            # only once a key holds a character above the BMP.
            if type(key) is not str or (not key.isascii() and max(key) > _HIGHEST_BMP):
                return False
            if type(item) is not str and not _is_plain(item):
                return False
        return True

    if kind is list:
        return all(type(item) is str or _is_plain(item) for item in value)

    if kind is str or kind is bool or value is None:
        return True

    if kind is int:
        return bool(-_SAFE_INTEGER <= value <= _SAFE_INTEGER)

    if kind is float:
        return bool(_PLAIN_FLOAT_LOW <= abs(value) < _PLAIN_FLOAT_HIGH and not value.is_integer())

    return False
