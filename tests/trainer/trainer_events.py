"""Event builders shared by the trainer tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from steward_events import (
    Channel,
    FeedbackSubmitted,
    GuardrailInputChecked,
    InferenceCompleted,
    InputVerdict,
    ModelRef,
    Passage,
    PolicyRef,
    PromptRef,
    Rating,
    ReviewDecided,
    ReviewDecision,
    Sampling,
    Usage,
)

POLICY = PolicyRef(policy_id="riverland-revenue", version="1", sha256="a" * 64)
MODEL = ModelRef(name="SmolLM2-135M-Instruct", revision="gguf-test", backend="llama.cpp")


def input_checked(
    conversation: str,
    question: str,
    *,
    consent: bool = True,
    verdict: InputVerdict = InputVerdict.PASS,
    language: str = "en",
) -> GuardrailInputChecked:
    return GuardrailInputChecked(
        conversation_id=conversation,
        verdict=verdict,
        redacted_question=question,
        policy=POLICY,
        language=language,
        channel=Channel.CHAT,
        training_consent=consent,
    )


def inference_completed(
    conversation: str, question: str, draft: str, *, consent: bool = True
) -> InferenceCompleted:
    return InferenceCompleted(
        conversation_id=conversation,
        question=question,
        language="en",
        channel=Channel.CHAT,
        training_consent=consent,
        text=draft,
        passages=[
            Passage(
                chunk_id="c1",
                document_id="d1",
                document_version=1,
                content_hash="b" * 64,
                text="Direct File is free. Taxpayers in 25 states can use it.",
                score=0.9,
            )
        ],
        model=MODEL,
        prompt=PromptRef(template_id="answer", version="1", sha256="c" * 64),
        sampling=Sampling(temperature=0.0, max_tokens=64),
        usage=Usage(prompt_tokens=10, completion_tokens=5),
        latency_ms=12.0,
        finish_reason="stop",
    )


def review_decided(
    conversation: str,
    question: str,
    draft: str,
    *,
    decision: ReviewDecision,
    final: str | None = None,
    consent: bool = True,
) -> ReviewDecided:
    return ReviewDecided(
        review_id=f"review-{conversation}",
        conversation_id=conversation,
        reviewer="reviewer-0001",
        decision=decision,
        question=question,
        draft_answer=draft,
        final_answer=final,
        seconds_to_decision=30.0,
        training_consent=consent,
    )


def feedback(conversation: str, rating: Rating, *, consent: bool = True) -> FeedbackSubmitted:
    return FeedbackSubmitted(
        conversation_id=conversation,
        rating=rating,
        language="en",
        channel=Channel.CHAT,
        training_consent=consent,
    )


async def until(check: Callable[[], Awaitable[bool]], *, within: float = 60.0) -> None:
    """Wait until an asynchronous check holds; fail rather than hang if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within:.0f} s")
        await asyncio.sleep(0.02)
