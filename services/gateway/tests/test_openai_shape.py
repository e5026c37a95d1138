"""OpenAI request parsing and streamed chunks."""

from __future__ import annotations

import json

import pytest

from steward_gateway.openai_shape import (
    ChatCompletionRequest,
    NoQuestion,
    question_of,
    split_text,
    stream_events,
)


def test_the_last_user_message_is_the_question_whatever_its_form() -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "gpt-4o",
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "first answer"},
                {"role": "user", "content": [{"type": "text", "text": "  second question "}]},
            ],
        }
    )
    assert question_of(request) == "second question"


def test_a_chat_without_user_text_is_refused_with_a_reason() -> None:
    request = ChatCompletionRequest.model_validate(
        {"messages": [{"role": "system", "content": "hi"}, {"role": "user", "content": " "}]}
    )
    with pytest.raises(NoQuestion, match="no user message"):
        question_of(request)


@pytest.mark.parametrize("size", [1, 5, 40, 1000])
def test_splitting_loses_nothing(size: int) -> None:
    text = "Property tax bills go out in October and are due by January 31."
    pieces = split_text(text, size)
    assert "".join(pieces) == text
    assert all(pieces)


def test_a_stream_is_role_then_text_then_finish_then_done() -> None:
    events = list(
        stream_events(
            completion_id="chatcmpl-1",
            model="m",
            content="one two three four",
            finish="stop",
            steward={"disposition": "answered"},
            chunk_chars=8,
        )
    )
    assert events[-1] == "data: [DONE]\n\n"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "one two three four"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["steward"] == {"disposition": "answered"}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
