"""Sealed personal data opens with the subject key and stays shut once the key is erased."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from steward_ledger_proofs import (
    PersonalDataPolicy,
    SealingError,
    SubjectKey,
    canonical_digest,
    is_sealed,
    open_personal_fields,
    seal_personal_fields,
    sealed_key_ids,
)

POLICY = PersonalDataPolicy(
    fields={"steward.chat.requested.v1": ("prompt", "citizen.email", "citizen.absent")}
)


def _event(event_id: str = "0190d2a0-0000-7000-8000-000000000001") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "steward.chat.requested.v1",
        "subject": "citizen-7",
        "data": {
            "prompt": "My address is 12 Main St",
            "citizen": {"email": "a@example.org", "age": 40},
            "channel": "web",
        },
    }


def test_sealed_fields_open_with_the_subject_key() -> None:
    key = SubjectKey.generate("k-1")
    event = _event()

    sealed = seal_personal_fields(event, POLICY.paths_for(event["type"]), key)

    assert is_sealed(sealed["data"]["prompt"])
    assert is_sealed(sealed["data"]["citizen"]["email"])
    assert sealed["data"]["channel"] == "web"
    assert "My address" not in str(sealed)
    assert sealed_key_ids(sealed) == {"k-1"}
    assert open_personal_fields(sealed, {"k-1": key.key or b""}) == event
    assert event == _event()


def test_an_erased_key_leaves_fields_sealed_and_the_digest_unchanged() -> None:
    key = SubjectKey.generate("k-2")
    sealed = seal_personal_fields(_event(), POLICY.paths_for("steward.chat.requested.v1"), key)
    digest = canonical_digest(sealed)

    opened = open_personal_fields(sealed, {})

    assert opened == sealed
    assert canonical_digest(opened) == digest


def test_an_erased_subject_gets_no_ciphertext_at_all() -> None:
    sealed = seal_personal_fields(_event(), ("prompt",), SubjectKey(key_id="k-3", key=None))

    assert sealed["data"]["prompt"] == {"steward_sealed": "erased", "kid": "k-3"}


def test_a_ciphertext_moved_to_another_event_does_not_open() -> None:
    key = SubjectKey.generate("k-4")
    first = seal_personal_fields(_event(), ("prompt",), key)
    second = copy.deepcopy(_event("0190d2a0-0000-7000-8000-000000000002"))
    second["data"]["prompt"] = first["data"]["prompt"]

    with pytest.raises(SealingError, match="k-4"):
        open_personal_fields(second, {"k-4": key.key or b""})


def test_policy_reads_from_json_and_refuses_garbage() -> None:
    policy = PersonalDataPolicy.from_json('{"t.v1": ["a.b", "c"]}')

    assert policy.paths_for("t.v1") == ("a.b", "c")
    assert policy.paths_for("other.v1") == ()
    with pytest.raises(SealingError, match="expected a JSON object"):
        PersonalDataPolicy.from_json("[1, 2]")


def test_a_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(SealingError, match="16 bytes"):
        SubjectKey(key_id="k", key=bytes(16))
