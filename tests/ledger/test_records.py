"""What the ledger takes from a record value, and what it sends to a dead-letter topic."""

from __future__ import annotations

import base64
import json

import pytest
from steward_events import (
    ChatRequested,
    DeadLettered,
    DeadLetterReason,
    new_envelope,
)
from steward_ledger.app import UnreadableRecord, envelope_of

TOPIC = "steward.chat.requested.v1"


def _event() -> bytes:
    envelope = new_envelope(
        ChatRequested(conversation_id="c-1", question="Hello?"),
        source="/steward/gateway",
        tenant="revenue",
        correlation_id="corr-1",
    )
    return envelope.model_dump_json().encode()


def _dead_letter() -> bytes:
    dead = DeadLettered(
        reason=DeadLetterReason.MALFORMED,
        error="not JSON",
        topic=TOPIC,
        partition=0,
        offset=3,
        consumer_group="steward-guardrail",
        attempts=0,
        original_value_base64=base64.b64encode(b"{oops").decode(),
    )
    envelope = new_envelope(dead, source="/steward/guardrail", tenant="system", correlation_id="x")
    return envelope.model_dump_json().encode()


def test_an_envelope_is_taken_as_it_was_sent() -> None:
    value = _event()
    assert envelope_of(TOPIC, value) == json.loads(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", DeadLetterReason.MALFORMED),
        (b"{not json", DeadLetterReason.MALFORMED),
        (b"\xff\xfe", DeadLetterReason.MALFORMED),
        (b"[1, 2]", DeadLetterReason.MALFORMED),
        (b'{"id": "x", "source": "/s", "type": "t"}', DeadLetterReason.INVALID),
        (
            b'{"id": 7, "source": "/s", "type": "t", "specversion": "1.0"}',
            DeadLetterReason.INVALID,
        ),
    ],
)
def test_a_value_that_is_no_envelope_is_refused_with_a_reason(
    value: bytes, reason: DeadLetterReason
) -> None:
    with pytest.raises(UnreadableRecord) as refused:
        envelope_of(TOPIC, value)
    assert refused.value.reason == reason


def test_a_dead_letter_topic_takes_only_dead_lettered_events() -> None:
    dead = _dead_letter()
    assert envelope_of(TOPIC + ".dlq", dead)["type"] == DeadLettered.spec.type
    with pytest.raises(UnreadableRecord, match=r"steward\.bus\.dead_lettered\.v1"):
        envelope_of(TOPIC + ".dlq", _event())
