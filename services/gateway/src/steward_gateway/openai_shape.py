"""OpenAI chat-completions request and response shapes around Steward's replies."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from steward_events import ChatResponded, Disposition

# Finish reasons a chat front end already understands.
_FINISH_REASONS = {Disposition.DECLINED: "content_filter"}


class NoQuestion(ValueError):
    """The chat request holds no user message with text."""


class ChatMessage(BaseModel):
    """One message of an OpenAI chat request; content is text or a list of typed parts."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(max_length=32)
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat request, with Steward's optional fields alongside (`extra_body`)."""

    # Sampling fields and the like are accepted and ignored: the agency's route decides them.
    model_config = ConfigDict(extra="allow")

    model: str = Field(default="steward", max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    conversation_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
    )
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
    human_requested: bool = False
    training_consent: bool = False


def question_of(request: ChatCompletionRequest) -> str:
    """The text of the last user message: the question the pipeline answers."""
    for message in reversed(request.messages):
        if message.role != "user":
            continue
        if isinstance(message.content, str):
            text = message.content
        else:
            parts = message.content or []
            text = "\n".join(
                str(part.get("text", "")) for part in parts if part.get("type") == "text"
            )
        if text.strip():
            return text.strip()
    raise NoQuestion("messages hold no user message with text; the last one is the question")


def steward_block(
    reply: ChatResponded | None, *, correlation_id: str, status_url: str, notice: str
) -> dict[str, Any]:
    """Steward's own fields, which OpenAI clients ignore and Steward-aware ones read."""
    block: dict[str, Any] = {
        "correlation_id": correlation_id,
        "status_url": status_url,
        "disposition": reply.disposition.value if reply else "pending",
        "final": reply.final if reply else False,
        "ai_notice": (reply.ai_notice if reply else None) or notice,
        "citations": [citation_view(c) for c in reply.citations] if reply else [],
    }
    return block


def citation_view(citation: Any) -> dict[str, Any]:
    """A citation as the gateway shows it: number, title, source URL and section."""
    return {
        "number": citation.number,
        "title": citation.title,
        "source_url": citation.source_url,
        "section": " > ".join(citation.section_path) or None,
        "document_id": citation.document_id,
    }


def completion(
    *, completion_id: str, model: str, content: str, finish_reason: str, steward: dict[str, Any]
) -> dict[str, Any]:
    """A non-streamed chat completion carrying one assistant message."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "steward": steward,
    }


def finish_reason(reply: ChatResponded | None) -> Literal["stop", "content_filter"]:
    """How a front end should read the end of the message."""
    if reply is None:
        return "stop"
    return "content_filter" if reply.disposition in _FINISH_REASONS else "stop"


def stream_events(
    *,
    completion_id: str,
    model: str,
    content: str,
    finish: str,
    steward: dict[str, Any],
    chunk_chars: int,
) -> Iterator[str]:
    """Server-sent events of a released answer: role, text chunks, the finish, then [DONE]."""
    created = int(time.time())

    def event(delta: dict[str, Any], reason: str | None, **extra: Any) -> str:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
            **extra,
        }
        return f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n"

    yield event({"role": "assistant", "content": ""}, None)
    for piece in split_text(content, chunk_chars):
        yield event({"content": piece}, None)
    yield event({}, finish, steward=steward)
    yield "data: [DONE]\n\n"


def split_text(text: str, size: int) -> list[str]:
    """Cut text into pieces of about `size` characters at spaces, losing nothing."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.rfind(" ", start + 1, end + 1)
            end = space + 1 if space > start else end
        pieces.append(text[start:end])
        start = end
    return pieces
