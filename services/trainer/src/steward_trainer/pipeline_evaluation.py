"""The gate through the real pipeline: golden questions as replays, scored from their outcomes."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from steward_bus import ReplayError, ReplaySession
from steward_bus.replay import CHECKED, DRAFTED, FAILED, RESPONDED, SCREENED
from steward_events import Channel, ChatRequested, Replay

from steward_trainer.evaluation import (
    Evaluation,
    GoldenAnswer,
    GoldenItem,
    ModelUnderTest,
    score,
)

if TYPE_CHECKING:
    from steward_bus import BusSettings, ReplayTrace

log = structlog.get_logger("steward.trainer")

# The guardrail's finding kind and the response disposition of an honest "not in the documents".
NO_ANSWER = "no_answer"


class PipelineEvaluator:
    """Asks the golden questions through the running pipeline, as replays, and scores them.

    Each question is one chat request in the replay namespace: the guardrail screens it and
    checks the draft, the indexer retrieves from the tenant's documents, and the inference
    worker drafts with the model the replay names (`model@adapter`) or, without one, with the
    tenant's live route. Citizens' services never read the replay namespace, and replays never
    become training data.
    """

    def __init__(
        self,
        items: list[GoldenItem],
        *,
        settings: BusSettings,
        tenant: str,
        concurrency: int = 2,
        within: float = 300.0,
    ) -> None:
        self._items = items
        self._settings = settings
        self._tenant = tenant
        self._within = within
        # Shared by every model this evaluator answers with, so both passes stay in the bound.
        self._bound = asyncio.Semaphore(concurrency)

    async def evaluate(self, model: ModelUnderTest) -> Evaluation:
        """Ask every golden question with `model`, collect each outcome and score them."""
        run = f"gate-{uuid.uuid4().hex[:10]}-{model.label}"
        async with ReplaySession(self._settings, name="trainer-gate") as session:
            answers = await asyncio.gather(
                *(self._ask(session, model, item, f"{run}-{item.id}") for item in self._items)
            )
        evaluation = score(list(answers))
        log.info(
            "golden_set_answered",
            run=run,
            model=model.served_as or "live route",
            questions=len(answers),
            unanswered=len(evaluation.problems),
        )
        return evaluation

    async def _ask(
        self, session: ReplaySession, model: ModelUnderTest, item: GoldenItem, correlation_id: str
    ) -> GoldenAnswer:
        request = ChatRequested(
            conversation_id=correlation_id,
            question=item.question,
            channel=Channel.REPLAY,
            training_consent=False,
        )
        async with self._bound:
            try:
                trace = await session.run(
                    request,
                    tenant=self._tenant,
                    correlation_id=correlation_id,
                    replay=Replay(of=f"golden:{item.id}", model=model.served_as),
                    within=self._within,
                )
            except ReplayError as error:
                return GoldenAnswer(item, failure=str(error))
        return answer_of(item, trace, served_as=model.served_as)


def answer_of(item: GoldenItem, trace: ReplayTrace, *, served_as: str | None) -> GoldenAnswer:
    """Read one golden question's answer from the events its replay produced."""
    if trace.dead_lettered:
        return GoldenAnswer(item, failure=f"a step was dead-lettered: {trace.dead_lettered[0]}")
    screened = trace.data_of(SCREENED) or {}
    if screened.get("verdict") == "block":
        return GoldenAnswer(item, blocked_at_input=True)
    failed = trace.data_of(FAILED)
    if failed is not None:
        return GoldenAnswer(
            item,
            failure=f"inference.failed {failed.get('error_kind')}: {failed.get('reason')}",
        )

    # The draft must come from the model asked for: a replay must never fall back silently.
    drafted = trace.data_of(DRAFTED)
    checked = trace.data_of(CHECKED) or {}
    if drafted is not None and served_as is not None:
        ref = drafted.get("model") or {}
        drafted_by = f"{ref.get('name')}@{ref.get('adapter')}" if ref.get("adapter") else None
        if drafted_by != served_as:
            return GoldenAnswer(
                item, failure=f"drafted by {drafted_by or ref.get('name')}, not {served_as}"
            )

    findings = [finding.get("kind") for finding in checked.get("findings") or []]
    return GoldenAnswer(
        item,
        text=str(drafted.get("text") or "") if drafted else "",
        groundedness=checked.get("groundedness"),
        no_answer=_disposition(trace) == NO_ANSWER or NO_ANSWER in findings,
    )


def _disposition(trace: ReplayTrace) -> str | None:
    """The final response's disposition; a holding one when nothing final came."""
    responses: list[dict[str, Any]] = [
        event.get("data") or {} for event in trace.envelopes_of(RESPONDED)
    ]
    final = [response for response in responses if response.get("final", True)]
    chosen = final[-1] if final else (responses[-1] if responses else {})
    value = chosen.get("disposition")
    return str(value) if value is not None else None
