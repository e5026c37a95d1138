"""Event models reject bad data at the edge and round-trip through JSON unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from steward_events import (
    ChatRequested,
    DocumentSubmitted,
    Envelope,
    InferenceCompleted,
    ModelRef,
    PromptRef,
    Sampling,
    UnknownEventType,
    Usage,
    all_specs,
    new_envelope,
    spec_for,
)


def _envelope(**overrides: object) -> Envelope[ChatRequested]:
    arguments: dict[str, object] = {
        "source": "/steward/gateway",
        "tenant": "revenue",
        "correlation_id": "corr-1",
    }
    arguments.update(overrides)
    return new_envelope(ChatRequested(conversation_id="c-1", question="Hi"), **arguments)  # type: ignore[arg-type]


def test_every_type_is_versioned_and_named_by_domain() -> None:
    types = [spec.type for spec in all_specs()]
    assert len(types) == len(set(types))
    for spec in all_specs():
        assert spec.type == f"steward.{spec.name}.v{spec.version}"
    for needed in (
        "chat.requested",
        "chat.responded",
        "guardrail.input_checked",
        "guardrail.output_checked",
        "retrieval.completed",
        "inference.completed",
        "inference.failed",
        "review.requested",
        "review.decided",
        "review.escalated",
        "feedback.submitted",
        "document.submitted",
        "document.chunked",
        "document.rejected",
        "document.indexed",
        "dataset.version_created",
        "trainer.run_requested",
        "model.candidate_registered",
        "model.evaluated",
        "model.promotion_approved",
        "model.promoted",
        "monitor.alert_raised",
        "control.route_disabled",
        "control.route_enabled",
        "ledger.checkpoint",
    ):
        assert f"steward.{needed}.v1" in types


def test_envelope_round_trips_through_json() -> None:
    envelope = _envelope(subject="q-1")
    parsed = ChatRequested.spec.envelope.model_validate_json(envelope.model_dump_json())
    assert parsed == envelope
    assert parsed.time.tzinfo is not None
    assert parsed.specversion == "1.0"


def test_envelope_stamps_a_time_ordered_id() -> None:
    first, second = _envelope(), _envelope()
    assert first.id[14] == "7" and second.id[14] == "7"
    assert first.id < second.id or first.time <= second.time


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"tenant": "Revenue Dept"}, "tenant"),
        ({"tenant": ""}, "tenant"),
        ({"source": "gateway"}, "source"),
        ({"correlation_id": "x" * 200}, "correlationid"),
        ({"traceparent": "not-a-trace"}, "traceparent"),
        ({"causation_id": "123"}, "causationid"),
    ],
)
def test_bad_envelope_fields_fail_naming_the_field(
    override: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _envelope(**override)
    assert field in str(caught.value)


def test_an_envelope_of_one_type_refuses_another_type() -> None:
    document = _envelope().model_dump(mode="json")
    document["type"] = "steward.chat.requested.v2"
    with pytest.raises(ValidationError, match="type"):
        ChatRequested.spec.envelope.model_validate(document)


def test_payload_bounds() -> None:
    with pytest.raises(ValidationError, match="question"):
        ChatRequested(conversation_id="c", question="")
    with pytest.raises(ValidationError, match="question"):
        ChatRequested(conversation_id="c", question="x" * 20_001)
    with pytest.raises(ValidationError, match="clearance"):
        ChatRequested(conversation_id="c", question="q", clearance="secret")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="prompt_tokens"):
        Usage(prompt_tokens=-1, completion_tokens=0)
    with pytest.raises(ValidationError, match="exactly one of content"):
        DocumentSubmitted(source_id="doc-1", classification="public")  # type: ignore[arg-type]


def test_old_readers_ignore_fields_added_later() -> None:
    document = _envelope().model_dump(mode="json")
    document["data"]["added_in_a_later_release"] = True
    document["newextension"] = "x"
    parsed = ChatRequested.spec.envelope.model_validate(document)
    assert parsed.data.question == "Hi"


def test_lookup_of_an_unknown_version_fails_clearly() -> None:
    assert spec_for("steward.chat.requested.v1").model is ChatRequested
    with pytest.raises(UnknownEventType, match=r"steward\.chat\.requested\.v9"):
        spec_for("steward.chat.requested.v9")


def test_provenance_fields_are_required_on_a_draft() -> None:
    draft = InferenceCompleted(
        conversation_id="c",
        question="q",
        text="Answer [1].",
        model=ModelRef(name="smollm2-135m-instruct", revision="q4_1", backend="llama.cpp"),
        prompt=PromptRef(template_id="answer", version="1", sha256="a" * 64),
        sampling=Sampling(temperature=0.2, max_tokens=200, seed=7),
        usage=Usage(prompt_tokens=10, completion_tokens=5),
        latency_ms=12.5,
        finish_reason="stop",
    )
    assert draft.model_dump()["prompt"]["sha256"] == "a" * 64
    with pytest.raises(ValidationError, match="sha256"):
        PromptRef(template_id="answer", version="1", sha256="short")
    assert datetime.now(UTC).tzinfo is UTC
