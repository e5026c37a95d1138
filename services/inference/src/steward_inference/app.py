"""The inference service on the bus: retrieval.completed in, inference.completed or failed out."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import Field, PositiveInt, ValidationError
from steward_bus import BusSettings, Service
from steward_events import (
    Citation,
    Envelope,
    InferenceCompleted,
    InferenceFailed,
    ModelPromoted,
    ModelRef,
    PromptRef,
    RetrievalCompleted,
    RouteDisabled,
    RouteEnabled,
    Sampling,
    Usage,
)

from steward_inference._errors import (
    GenerationFailedError,
    InferenceError,
    PromptNotFoundError,
)
from steward_inference._factory import build_worker
from steward_inference._journal import DraftJournal, JournalEntry
from steward_inference._prompts import Passage
from steward_inference._routing import KillScope, ModelChoice, Promotion
from steward_inference._worker import DraftRequest
from steward_inference.settings import InferenceSettings

if TYPE_CHECKING:
    from datetime import datetime

    from steward_events import EventData

    from steward_inference._worker import Draft, InferenceWorker

log = structlog.get_logger("steward.inference")

NAME = "inference"
DEFAULT_ROUTE = "default"
# A replay names a model, or a model and one of its adapters as `model@adapter`.
ADAPTER_SEPARATOR = "@"

# The event contract requires a revision and a backend; this says one was not known.
UNRECORDED = "unrecorded"


class InferenceServiceSettings(BusSettings):
    """The bus settings plus the wiring's own (STEWARD_INFERENCE_*); the worker has its own."""

    inference_journal_dir: Path = Field(
        default=Path(".steward/inference/in-flight"),
        description="Requests accepted and not yet answered, redrafted after a restart.",
    )
    inference_drain_timeout_s: float = Field(
        default=30.0,
        ge=0,
        description="How long a stop waits for drafts in flight; the rest wait in the journal.",
    )
    inference_max_attempts: PositiveInt = Field(
        default=3,
        description="Drafts of one journaled request before it ends as inference.failed.",
    )
    # Drafting serves replays too, with the model and prompt version a replay names.
    serve_replay: bool = True


class InferenceService:
    """Drafts answers in the background for retrieval results and publishes each outcome once."""

    def __init__(
        self,
        settings: InferenceServiceSettings,
        worker: InferenceWorker,
        *,
        group: str | None = None,
        instance_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.worker = worker
        self.journal = DraftJournal(settings.inference_journal_dir)
        self.bus = Service(NAME, settings, group=group)

        # Every replica must hear every switch and promotion, and rebuild them after a restart,
        # so those topics are read from their start in a consumer group of this process alone.
        # LIMITATION: switches and promotions older than the topics' retention are forgotten on
        # restart; a compacted topic or a snapshot of the route table would lift this.
        # LIMITATION: requests may be drafted before that replay has caught up after a restart;
        # waiting for the group's end offsets first would lift this.
        instance = instance_id or uuid.uuid4().hex[:12]
        self.control_bus = Service(NAME, settings, group=f"{self.bus.group}-routes-{instance}")

        # The limiter's own wait is a level check that reserves nothing, so a batch of events
        # could all pass it before any draft takes a slot; admission reserves one per draft.
        self._admission = asyncio.Semaphore(worker.limiter.limit)
        self._drafts: set[asyncio.Task[None]] = set()
        self._drafting: set[str] = set()
        self._recovery: asyncio.Task[None] | None = None
        self._stopping = False

        # Replays read three topics in no fixed order, so the newest decision per key wins.
        self._switched_at: dict[tuple[KillScope, str], datetime] = {}
        self._promoted_at: dict[str, datetime] = {}

        self.bus.subscribe(RetrievalCompleted, self.on_retrieval_completed, replayable=True)
        self.control_bus.subscribe(ModelPromoted, self.on_model_promoted)
        self.control_bus.subscribe(RouteDisabled, self.on_route_disabled)
        self.control_bus.subscribe(RouteEnabled, self.on_route_enabled)

    @property
    def in_flight(self) -> int:
        """Return how many drafts run in the background now."""
        return len(self._drafts)

    async def start(self) -> None:
        """Start the control consumers first, then drafting, then redraft what a stop left."""
        self._stopping = False
        await self.control_bus.start()

        # Claimed before consuming starts, so a redelivery of the same event is not drafted twice.
        left_over = self.journal.pending()
        self._drafting.update(entry.key for entry in left_over)
        await self.bus.start()
        self._recovery = asyncio.create_task(self._redraft(left_over))

    async def stop(self) -> None:
        """Wait for drafts in flight (up to the drain timeout), then leave the bus."""
        self._stopping = True
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)

        # Drafts keep their journal entries until published, so those cut off are not lost.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.inference_drain_timeout_s
        while self._drafts and loop.time() < deadline:
            await asyncio.wait(set(self._drafts), timeout=deadline - loop.time())
        left = list(self._drafts)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        if left:
            log.warning("drafts_left_in_journal", drafts=len(left))

        await self.bus.stop()
        await self.control_bus.stop()

    async def __aenter__(self) -> InferenceService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def on_retrieval_completed(self, event: Envelope[RetrievalCompleted]) -> None:
        """Journal the request and draft it in the background, pausing while saturated."""
        if event.id in self._drafting:
            log.info("draft_skipped", outcome="already_drafting")
            return

        # Waiting here pauses this partition's consumption: the bound on drafts in flight.
        await self._admission.acquire()
        try:
            await self.worker.limiter.wait_for_capacity()

            # Journaled before the handler returns, which is when the event counts as handled.
            self.journal.record(event.id, event.model_dump_json(), attempts=1)
        except BaseException:
            self._admission.release()
            raise

        # Events that arrive after a stop began wait in the journal for the next start.
        if self._stopping:
            self._admission.release()
            log.info("draft_deferred", outcome="deferred")
            return
        self._start_draft(event)

    async def on_model_promoted(self, event: Envelope[ModelPromoted]) -> None:
        """Move the tenant's default route to the promoted model, or a canary share of it."""
        data = event.data

        # LIMITATION: the route table keeps one model choice per tenant and every request takes
        # the default route, so promotions for other routes are skipped; per-route choices in
        # the route table would lift this.
        if data.route != DEFAULT_ROUTE:
            log.warning("promotion_skipped", route=data.route, outcome="other_route")
            return
        if not _newest(self._promoted_at, event.tenant, event.time):
            log.info("promotion_skipped", outcome="superseded")
            return
        self.worker.apply_promotion(
            Promotion(
                tenant=event.tenant,
                choice=ModelChoice(
                    model=data.model.name, revision=data.model.revision, adapter=data.model.adapter
                ),
                canary_share=data.canary_share,
            )
        )

    async def on_route_disabled(self, event: Envelope[RouteDisabled]) -> None:
        """Switch generation off for the named route or model, or for the whole tenant."""
        for scope, value in _switches(event):
            if _newest(self._switched_at, (scope, value), event.time):
                self.worker.disable(scope, value)

    async def on_route_enabled(self, event: Envelope[RouteEnabled]) -> None:
        """Switch generation back on for the named route or model, or for the whole tenant."""
        for scope, value in _switches(event):
            if _newest(self._switched_at, (scope, value), event.time):
                self.worker.enable(scope, value)

    def _start_draft(self, event: Envelope[RetrievalCompleted]) -> None:
        """Run one draft as a task that holds an admission until it ends."""
        self._drafting.add(event.id)
        task = asyncio.create_task(self._draft_and_publish(event))
        self._drafts.add(task)
        task.add_done_callback(lambda ended: self._draft_ended(ended, event.id))

    def _draft_ended(self, task: asyncio.Task[None], event_id: str) -> None:
        self._drafts.discard(task)
        self._drafting.discard(event_id)
        self._admission.release()

    async def _draft_and_publish(self, event: Envelope[RetrievalCompleted]) -> None:
        """Draft the answer, publish inference.completed or inference.failed, then forget it."""
        with structlog.contextvars.bound_contextvars(
            service=NAME,
            correlation_id=event.correlationid,
            event_id=event.id,
            tenant=event.tenant,
        ):
            outcome: EventData
            try:
                draft = await self.worker.draft_answer(draft_request(event))
                outcome = completed_event(event.data, draft)
            except InferenceError as error:
                outcome = failed_event(event.data, error, model=self._model_of(error))
            except (ValidationError, ValueError) as error:
                # A draft the contract cannot carry still ends the request, as unavailable.
                log.exception("draft_unpublishable", error_type=type(error).__name__)
                outcome = _unavailable(event.data, "draft_invalid", type(error).__name__)
            await self._publish(event, outcome)

    async def _publish(self, event: Envelope[RetrievalCompleted], outcome: EventData) -> None:
        """Publish the outcome as the answer to `event` and drop its journal entry."""
        try:
            published = await self.bus.publish(
                outcome,
                tenant=event.tenant,
                correlation_id=event.correlationid,
                subject=event.subject,
                cause=event,
            )
        except Exception:
            # LIMITATION: an outcome that cannot be published waits in the journal until the
            # next start; retrying the publish in place would answer sooner.
            log.exception("outcome_publish_failed", outcome=type(outcome).__name__)
            return

        # LIMITATION: a crash between the publish and this line drafts the request again after
        # the restart, answering twice; an event id derived from the cause would let
        # consumers drop the repeat.
        self.journal.forget(event.id)
        log.info(
            "draft_published",
            outcome=type(outcome).spec.type,
            published_id=published.id,
            error_kind=getattr(outcome, "error_kind", None),
        )

    async def _redraft(self, entries: list[JournalEntry]) -> None:
        """Draft again what a crash or stop left unanswered; give up after a few tries."""
        for entry in entries:
            try:
                event = Envelope[RetrievalCompleted].model_validate_json(entry.payload)
            except ValidationError:
                log.exception("journal_entry_invalid", event_id=entry.key)
                self.journal.forget(entry.key)
                self._drafting.discard(entry.key)
                continue

            # A request that dies with the process every time must still get an answer.
            if entry.attempts >= self.settings.inference_max_attempts:
                await self._publish(
                    event, _unavailable(event.data, "interrupted", "drafting kept being cut off")
                )
                self._drafting.discard(entry.key)
                continue
            await self._admission.acquire()
            self.journal.record(entry.key, entry.payload, attempts=entry.attempts + 1)
            log.info("draft_redrafted", event_id=entry.key, attempts=entry.attempts + 1)
            self._start_draft(event)

    def _model_of(self, error: InferenceError) -> ModelRef | None:
        """Name the model a failed generation was meant to run on, where the error says."""
        if not isinstance(error, GenerationFailedError) or not error.model:
            return None
        generator: Any = self.worker.generators.get(error.model)
        return ModelRef(
            name=error.model,
            revision=getattr(generator, "revision", None) or UNRECORDED,
            backend=getattr(generator, "backend", None) or UNRECORDED,
        )


def draft_request(event: Envelope[RetrievalCompleted]) -> DraftRequest:
    """The worker's request for one retrieval result, with a replay's model and prompt."""
    data = event.data
    replay = event.replay
    model, adapter = (None, None)
    if replay is not None and replay.model:
        model, _, named_adapter = replay.model.partition(ADAPTER_SEPARATOR)
        adapter = named_adapter or None
    prompt_version = None
    if replay is not None and replay.prompt:
        prompt_version = prompt_version_of(replay.prompt)
    return DraftRequest(
        correlation_id=event.correlationid,
        tenant=event.tenant,
        question=data.question,
        passages=tuple(
            Passage(chunk_id=p.chunk_id, text=p.text, document_id=p.document_id)
            for p in data.passages
        ),
        route=DEFAULT_ROUTE,
        # Templates are written per language, not per regional variant.
        language=data.language.split("-")[0] if data.language else None,
        prompt_version=prompt_version,
        model=model,
        adapter=adapter,
    )


def prompt_version_of(text: str) -> int:
    """A prompt version as a replay names it, '1' or 'v1', or `PromptNotFoundError`."""
    digits = text.strip().removeprefix("v")
    if not (digits.isascii() and digits.isdigit()):
        raise PromptNotFoundError(
            f"Prompt version {text!r} is not a version number; expected e.g. '2' or 'v2'"
        )
    return int(digits)


def completed_event(retrieval: RetrievalCompleted, draft: Draft) -> InferenceCompleted:
    """The inference.completed event for a draft, with the retrieval facts carried over."""
    # Citations name the document version and source of the passage they point to.
    passages = {passage.chunk_id: passage for passage in retrieval.passages}
    citations = []
    for citation in draft.citations:
        passage = passages[citation.chunk_id]
        citations.append(
            Citation(
                number=citation.number,
                chunk_id=citation.chunk_id,
                document_id=passage.document_id,
                document_version=passage.document_version,
                title=passage.title,
                source_url=passage.source_url,
                section_path=passage.section_path,
            )
        )

    return InferenceCompleted(
        conversation_id=retrieval.conversation_id,
        question=retrieval.question,
        language=_answer_language(retrieval.language, draft.language),
        channel=retrieval.channel,
        subject=retrieval.subject,
        training_consent=retrieval.training_consent,
        text=draft.text,
        citations=citations,
        passages=retrieval.passages,
        model=ModelRef(
            name=draft.model.name,
            revision=draft.model.revision or UNRECORDED,
            adapter=draft.model.adapter,
            backend=draft.model.backend,
        ),
        prompt=PromptRef(
            template_id=draft.prompt.id,
            version=str(draft.prompt.version),
            sha256=draft.prompt.sha256,
        ),
        sampling=Sampling(
            temperature=draft.sampling.temperature,
            top_p=draft.sampling.top_p,
            max_tokens=draft.sampling.max_tokens,
            seed=draft.sampling.seed,
        ),
        usage=Usage(
            prompt_tokens=draft.usage.prompt_tokens,
            completion_tokens=draft.usage.completion_tokens,
        ),
        latency_ms=draft.latency_ms,
        finish_reason=draft.finish_reason,
        citations_attributed=draft.citations_attributed,
    )


def failed_event(
    retrieval: RetrievalCompleted, error: InferenceError, *, model: ModelRef | None
) -> InferenceFailed:
    """The inference.failed event for an error the worker raised."""
    return InferenceFailed(
        conversation_id=retrieval.conversation_id,
        reason=str(error)[:1_000],
        error_kind=error.reason,
        attempts=getattr(error, "attempts", 0),
        model=model,
        language=retrieval.language,
    )


def _unavailable(retrieval: RetrievalCompleted, kind: str, reason: str) -> InferenceFailed:
    return InferenceFailed(
        conversation_id=retrieval.conversation_id,
        reason=reason,
        error_kind=kind,
        attempts=0,
        language=retrieval.language,
    )


def _answer_language(asked: str | None, answered: str) -> str:
    """Keep the asked tag (with its region) when the answer is in that language."""
    if asked and asked.split("-")[0] == answered:
        return asked
    return answered


def _switches(
    event: Envelope[RouteDisabled] | Envelope[RouteEnabled],
) -> list[tuple[KillScope, str]]:
    """The switches a control event names: its route and model, or else its whole tenant."""
    # LIMITATION: route and model switches apply to every tenant, since the route table keys
    # switches by one scope; switches keyed by tenant and scope together would lift this.
    named = []
    if event.data.route:
        named.append((KillScope.ROUTE, event.data.route))
    if event.data.model:
        named.append((KillScope.MODEL, event.data.model))
    return named or [(KillScope.TENANT, event.tenant)]


def _newest(seen: dict[Any, datetime], key: Any, at: datetime) -> bool:
    """Record `at` for `key` and return True unless a newer decision was already applied."""
    if key in seen and seen[key] > at:
        return False
    seen[key] = at
    return True


async def serve() -> None:
    """Run the inference service until SIGTERM or SIGINT."""
    settings = InferenceServiceSettings()
    worker = build_worker(InferenceSettings())
    service = InferenceService(settings, worker)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)

    try:
        await service.start()
        await stop.wait()
    finally:
        await service.stop()
        await worker.aclose()


def main() -> None:
    """Entry point of `python -m steward_inference`."""
    asyncio.run(serve())
