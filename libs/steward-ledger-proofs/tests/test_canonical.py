"""Canonical JSON agrees with the rfc8785 package on every JSON value."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from steward_ledger_proofs import CanonicalJsonError, canonical_digest, canonical_json

_SAFE = 2**53 - 1

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-_SAFE, max_value=_SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


def _rfc8785_or_error(value: Any) -> bytes | None:
    """Return the reference encoding, or None when the reference refuses the value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        return None


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_canonical_json_matches_the_rfc8785_package(value: Any) -> None:
    expected = _rfc8785_or_error(value)

    if expected is None:
        with pytest.raises(CanonicalJsonError):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        1.0,
        -0.0,
        1e-7,
        1e16,
        1e21,
        123456789012345.67,
        0.30000000000000004,
        {"\ue000": 1, "\U0001f600": 2, "a": 3},
        {"b": [1, 2.5, {"z": None, "a": True}], "a": "\u2028\x1f\x7f"},
    ],
)
def test_canonical_json_handles_the_cases_json_dumps_gets_wrong(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_rfc8785_sample_object_is_written_as_the_rfc_shows() -> None:
    # The sample from RFC 8785 section 3.2.2, with its expected output.
    sample = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\nA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }

    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(sample) == expected


def test_integers_beyond_the_safe_range_are_refused_with_the_value() -> None:
    with pytest.raises(CanonicalJsonError, match="9007199254740993"):
        canonical_json({"n": 2**53 + 1})


def test_non_json_values_are_refused() -> None:
    with pytest.raises(CanonicalJsonError, match="set"):
        canonical_json({1, 2})


def test_digest_is_sha256_of_the_canonical_bytes() -> None:
    event = {"b": 1, "a": "x"}

    assert canonical_digest(event) == hashlib.sha256(b'{"a":"x","b":1}').digest()
