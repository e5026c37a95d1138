"""Draft a grounded answer: route, render, generate within bounds, cite, and record provenance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import structlog

from steward_inference._attribution import attribute_sentences
from steward_inference._citations import parse_citations
from steward_inference._errors import GenerationFailedError, RouteUnavailableError
from steward_inference._generation import GenerationRequest, TokenUsage
from steward_inference._language import detect_language
from steward_inference._limiter import InFlightLimiter
from steward_inference._quoting import quote_answer
from steward_inference._routing import (
    KillScope,
    ModelChoice,
    Promotion,
    ResolvedRoute,
    RouteTable,
)

if TYPE_CHECKING:
    from steward_inference._generation import Generator
    from steward_inference._prompts import (
        Passage,
        PromptRef,
        PromptRegistry,
        RenderedPrompt,
        SamplingParams,
    )

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

DEFAULT_PROMPT_ID = "grounded-answer"

# The backend a draft names when no model wrote it: none, or a quoted passage sentence.
NO_BACKEND = "none"
QUOTE_BACKEND = "passage-quote"


@dataclass(frozen=True)
class DraftRequest:
    """A redacted question with its retrieved passages, as retrieval.completed carries them."""

    correlation_id: str
    tenant: str
    question: str
    passages: tuple[Passage, ...]
    route: str = "default"
    language: str | None = None
    prompt_id: str = DEFAULT_PROMPT_ID
    prompt_version: int | None = None
    seed: int | None = None
    max_tokens: int | None = None
    # A replay's choice: a model this worker serves (and an adapter for it), not the route's.
    model: str | None = None
    adapter: str | None = None


@dataclass(frozen=True)
class Citation:
    """A [n] marker in the answer and the chunk it points to."""

    number: int
    chunk_id: str
    document_id: str | None


@dataclass(frozen=True)
class ModelRef:
    """The model that wrote a draft, as the replay records need it."""

    name: str
    revision: str | None
    adapter: str | None
    backend: str
    canary: bool


@dataclass(frozen=True)
class Draft:
    """A draft answer and everything that produced it."""

    correlation_id: str
    text: str
    citations: tuple[Citation, ...]
    unknown_citations: tuple[int, ...]
    abstained: bool
    citations_attributed: bool
    language: str
    passage_chunk_ids: tuple[str, ...]
    model: ModelRef
    prompt: PromptRef
    sampling: SamplingParams
    usage: TokenUsage
    latency_ms: float
    finish_reason: str


@dataclass(eq=False)
class _InFlight:
    """A request the kill switch may have to stop while it waits or generates."""

    route: ResolvedRoute
    task: asyncio.Future[Any] | None = None
    stopped_by: tuple[KillScope, str] | None = field(default=None)


class InferenceWorker:
    """Turns requests into drafts within an in-flight bound, honouring routes and switches."""

    def __init__(
        self,
        *,
        registry: PromptRegistry,
        routes: RouteTable,
        generators: Mapping[str, Generator],
        max_in_flight: int = 8,
    ) -> None:
        self.registry = registry
        self.routes = routes
        self.generators = dict(generators)
        self.limiter = InFlightLimiter(max_in_flight)
        self._in_flight: set[_InFlight] = set()

    async def draft_answer(self, request: DraftRequest) -> Draft:
        """Render, generate and cite an answer; raise an InferenceError subclass on failure."""
        started = time.perf_counter()

        # A switched-off route fails here, before the request waits for anything.
        route = self.routes.resolve(
            tenant=request.tenant, route=request.route, correlation_id=request.correlation_id
        )
        if request.model is not None:
            route = self._chosen_route(route, request)
        template = self.registry.get(request.prompt_id, request.prompt_version)
        language = request.language or detect_language(request.question)
        if language not in template.languages:
            language = "en"
        rendered = template.render(
            question=request.question, passages=request.passages, language=language
        )
        sampling = rendered.sampling.overridden(seed=request.seed, max_tokens=request.max_tokens)

        # Without passages there is nothing to ground an answer in, so the model is not asked.
        if not rendered.passages:
            draft = self._unwritten_draft(
                request, route, rendered, sampling, started, text=None, finish_reason="no_passages"
            )
            self._log_outcome(request, draft.finish_reason)
            return draft

        # In a language the template answers by quoting, the sentence covering the question
        # is the answer, and the passages not answering it is an honest no-answer.
        if rendered.answer == "quote":
            quote = quote_answer(request.question, [p.text for p in rendered.passages])
            draft = self._unwritten_draft(
                request,
                route,
                rendered,
                sampling,
                started,
                text=quote.text if quote else None,
                finish_reason="quoted" if quote else "no_quote",
            )
            self._log_outcome(request, draft.finish_reason)
            return draft

        generator = self.generators.get(route.choice.model)
        if generator is None:
            raise GenerationFailedError(
                f"No backend serves model {route.choice.model!r} for tenant {request.tenant!r}; "
                f"served models: {sorted(self.generators)}",
                reason="model_not_served",
                model=route.choice.model,
                attempts=0,
            )

        entry = _InFlight(route=route)
        self._in_flight.add(entry)
        try:
            await self._take_slot(entry)
            try:
                self.routes.ensure_enabled(route)
                generation = await self._stoppable(
                    entry,
                    generator.generate(
                        GenerationRequest(
                            messages=rendered.messages,
                            sampling=sampling,
                            adapter=route.choice.adapter,
                        )
                    ),
                )
            finally:
                self.limiter.release()

            # A backend that swallowed the cancel still must not deliver a stopped answer.
            if entry.stopped_by is not None:
                self._raise_stopped(entry)
        except (GenerationFailedError, RouteUnavailableError) as error:
            self._log_outcome(request, error.reason)
            raise
        finally:
            self._in_flight.discard(entry)

        # Markers map back to the numbered passages the model saw, in the order shown.
        text = generation.text.strip()
        markers = parse_citations(text, len(rendered.passages))
        abstained = _says_no_answer(generation.text, rendered.no_answer)
        attributed = False
        if not markers.valid and not markers.unknown and not abstained:
            # Small models often cite nothing; cite the passages that each sentence restates,
            # and record that the markers were added, not written by the model.
            attribution = attribute_sentences(text, [p.text for p in rendered.passages])
            if attribution.numbers:
                text, attributed = attribution.text, True
                markers = parse_citations(text, len(rendered.passages))
        citations = tuple(
            Citation(
                number=number,
                chunk_id=rendered.passages[number - 1].chunk_id,
                document_id=rendered.passages[number - 1].document_id,
            )
            for number in markers.valid
        )
        draft = Draft(
            correlation_id=request.correlation_id,
            text=text,
            citations=citations,
            citations_attributed=attributed,
            unknown_citations=markers.unknown,
            abstained=abstained,
            language=language,
            passage_chunk_ids=tuple(passage.chunk_id for passage in rendered.passages),
            model=ModelRef(
                name=generation.model,
                revision=route.choice.revision or generation.revision,
                adapter=generation.adapter,
                backend=generation.backend,
                canary=route.canary,
            ),
            prompt=rendered.prompt,
            sampling=sampling,
            usage=generation.usage,
            latency_ms=(time.perf_counter() - started) * 1000,
            finish_reason=generation.finish_reason,
        )
        self._log_outcome(request, "completed")
        return draft

    @staticmethod
    def _unwritten_draft(
        request: DraftRequest,
        route: ResolvedRoute,
        rendered: RenderedPrompt,
        sampling: SamplingParams,
        started: float,
        *,
        text: str | None,
        finish_reason: str,
    ) -> Draft:
        """A draft no model wrote: a quoted passage sentence, or the no-answer sentence."""
        markers = parse_citations(text or "", len(rendered.passages))
        return Draft(
            correlation_id=request.correlation_id,
            text=text or rendered.no_answer,
            citations=tuple(
                Citation(
                    number=number,
                    chunk_id=rendered.passages[number - 1].chunk_id,
                    document_id=rendered.passages[number - 1].document_id,
                )
                for number in markers.valid
            ),
            unknown_citations=(),
            abstained=text is None,
            citations_attributed=False,
            language=rendered.language,
            passage_chunk_ids=tuple(passage.chunk_id for passage in rendered.passages),
            model=ModelRef(
                name=route.choice.model,
                revision=route.choice.revision,
                adapter=route.choice.adapter,
                backend=QUOTE_BACKEND if text is not None else NO_BACKEND,
                canary=route.canary,
            ),
            prompt=rendered.prompt,
            sampling=sampling,
            usage=TokenUsage(prompt_tokens=0, completion_tokens=0),
            latency_ms=(time.perf_counter() - started) * 1000,
            finish_reason=finish_reason,
        )

    def _chosen_route(self, route: ResolvedRoute, request: DraftRequest) -> ResolvedRoute:
        """The route with the model a replay named, which must be one this worker serves."""
        assert request.model is not None
        if request.model not in self.generators:
            raise GenerationFailedError(
                f"Model {request.model!r} is not served by this worker; "
                f"served models: {sorted(self.generators)}",
                reason="model_not_served",
                model=request.model,
                attempts=0,
            )
        chosen = ResolvedRoute(
            tenant=route.tenant,
            route=route.route,
            choice=ModelChoice(model=request.model, adapter=request.adapter),
            canary=False,
        )
        # The kill switch covers a chosen model as much as a routed one.
        self.routes.ensure_enabled(chosen)
        return chosen

    def apply_promotion(self, promotion: Promotion) -> None:
        """Apply a model.promoted decision to the route table."""
        self.routes.promote(promotion)
        log.info(
            "model_promoted",
            tenant=promotion.tenant,
            model=promotion.choice.model,
            adapter=promotion.choice.adapter,
            canary_share=promotion.canary_share,
        )

    def disable(self, scope: KillScope | str, value: str) -> int:
        """Switch generation off for a tenant, route or model and stop matching requests now."""
        self.routes.disable(scope, value)

        # Requests already waiting or generating end with RouteUnavailableError, not later.
        stopped = 0
        for entry in list(self._in_flight):
            hit = self.routes.stopped_by(entry.route)
            if hit is not None and entry.task is not None and not entry.task.done():
                entry.stopped_by = hit
                entry.task.cancel()
                stopped += 1
        log.info("route_disabled", scope=str(scope), value=value, stopped_in_flight=stopped)
        return stopped

    def enable(self, scope: KillScope | str, value: str) -> None:
        """Switch generation back on for a tenant, route or model."""
        self.routes.enable(scope, value)
        log.info("route_enabled", scope=str(scope), value=value)

    async def aclose(self) -> None:
        """Close every backend."""
        for generator in self.generators.values():
            await generator.aclose()

    async def _take_slot(self, entry: _InFlight) -> None:
        """Wait for an in-flight slot in a way the kill switch can interrupt."""
        acquiring = asyncio.ensure_future(self.limiter.acquire())
        try:
            await self._stoppable(entry, acquiring)
        except BaseException:
            # The slot may have been granted in the same tick the caller was cancelled.
            if acquiring.done() and not acquiring.cancelled() and acquiring.exception() is None:
                self.limiter.release()
            raise

    async def _stoppable(self, entry: _InFlight, step: Awaitable[_T]) -> _T:
        """Await one step as a task the kill switch can cancel, turning that into unavailable."""
        task = asyncio.ensure_future(step)
        entry.task = task
        try:
            return await task
        except asyncio.CancelledError:
            # Only a cancel from disable() becomes unavailable; the caller's own cancel stands.
            current = asyncio.current_task()
            if entry.stopped_by is None or (current is not None and current.cancelling()):
                raise
            self._raise_stopped(entry)
        finally:
            entry.task = None

    @staticmethod
    def _raise_stopped(entry: _InFlight) -> NoReturn:
        assert entry.stopped_by is not None
        scope, value = entry.stopped_by
        raise RouteUnavailableError(
            f"Generation was stopped for {scope.value} {value!r} while the request was in flight",
            scope=scope.value,
            value=value,
        )

    @staticmethod
    def _log_outcome(request: DraftRequest, outcome: str) -> None:
        log.info(
            "draft_answer",
            correlation_id=request.correlation_id,
            tenant=request.tenant,
            route=request.route,
            outcome=outcome,
        )


def _says_no_answer(text: str, no_answer: str) -> bool:
    """Return whether the model used the template's no-answer sentence."""
    normalized = " ".join(text.lower().split())
    return " ".join(no_answer.lower().rstrip(".").split()) in normalized
