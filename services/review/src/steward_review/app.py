"""The review desk on the bus: queues review.requested, serves reviewers, publishes outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from steward_auth import AuthError, TokenVerifier
from steward_bus import PermanentError, Service, configure_logging
from steward_events import ReviewRequested

from steward_review.errors import ItemUnavailable, ReviewError
from steward_review.model import (
    GuardrailFinding,
    NewReviewItem,
    Passage,
    Priority,
    ReviewContext,
)
from steward_review.pseudonym import ReviewerPseudonyms
from steward_review.publishing import BusDecisionSink
from steward_review.queue import ReviewQueue, create_review_pool
from steward_review.settings import ReviewSettings
from steward_review.web import create_web_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    import asyncpg
    from steward_events import Envelope

log = structlog.get_logger("steward_review.app")

SERVICE_NAME = "review"


class ReviewService:
    """The review queue fed from the bus, the reviewers' web app, and the outbox timers."""

    def __init__(self, settings: ReviewSettings) -> None:
        self.settings = settings
        self.policies = settings.policy_book()
        self.verifier = TokenVerifier(settings.auth_settings())
        self.pseudonyms = ReviewerPseudonyms(settings.pseudonym_secret())
        self.service = Service(SERVICE_NAME, settings)
        self.service.subscribe(ReviewRequested, self._on_review_requested)
        self._pool: asyncpg.Pool | None = None
        self._queue: ReviewQueue | None = None
        self._server: _EmbeddedServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._timers: list[asyncio.Task[None]] = []

    @property
    def queue(self) -> ReviewQueue:
        """The review queue; exists once the service has started."""
        if self._queue is None:
            raise ReviewError("the review service is not started")
        return self._queue

    @property
    def http_port(self) -> int:
        """The port the web app listens on (useful when the setting is 0)."""
        if self._socket is None:
            raise ReviewError("the review service is not started")
        port: int = self._socket.getsockname()[1]
        return port

    async def start(self) -> None:
        """Open the queue, start consuming, then serve reviewers and run the timers."""
        settings = self.settings

        # The queue must exist before the first review.requested arrives.
        self._pool = await create_review_pool(settings.database_url)
        self._queue = ReviewQueue(
            self._pool,
            policies=self.policies,
            sink=BusDecisionSink(self.service, self.policies),
            lease=settings.lease,
        )
        await self._queue.install_schema()
        await self.service.start()

        # The socket is bound and listening before uvicorn starts, so no request is refused.
        app = create_web_app(
            self._queue, self.verifier, self.pseudonyms, cookie_secure=settings.cookie_secure
        )
        self._socket = _listen(settings.review_http_host, settings.review_http_port)
        self._server = _EmbeddedServer(
            uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
        )
        self._server_task = asyncio.create_task(self._server.serve(sockets=[self._socket]))

        # Overdue items are flagged, and outbox records a failed publish left behind resent.
        self._timers = [
            asyncio.create_task(
                _every(settings.review_escalate_interval_s, "escalate_overdue", self._escalate)
            ),
            asyncio.create_task(
                _every(settings.review_deliver_interval_s, "deliver_pending", self._deliver)
            ),
        ]
        log.info(
            "review.started",
            http=f"{settings.review_http_host}:{self.http_port}",
            tenants_with_policy=sorted(self.policies.tenants),
        )

    async def stop(self) -> None:
        """Stop serving first, so no decision starts, then the timers, the bus and the pool."""
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
            self._server = self._server_task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        for timer in self._timers:
            timer.cancel()
        for timer in self._timers:
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        self._timers = []
        await self.service.stop()
        if self._pool is not None:
            await self._pool.close()
            self._pool = self._queue = None
        log.info("review.stopped")

    async def __aenter__(self) -> ReviewService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _on_review_requested(self, event: Envelope[Any]) -> None:
        """Store a review request as a queue item; a repeat of the same event is ignored."""
        try:
            item = await self.queue.enqueue(review_item(event))
        except ItemUnavailable as error:
            # The id belongs to another tenant's item: retrying cannot change that.
            raise PermanentError(str(error)) from error
        log.info(
            "review.enqueued",
            item_id=item.item_id,
            priority=item.priority.value,
            stage=item.context.stage,
            due_at=item.due_at.isoformat(),
        )

    async def _escalate(self) -> None:
        await self.queue.escalate_overdue()

    async def _deliver(self) -> None:
        await self.queue.deliver_pending()


def review_item(event: Envelope[Any]) -> NewReviewItem:
    """Map a review.requested event to the queue's item: the event id is the item id."""
    request: ReviewRequested = event.data
    policy = request.policy
    return NewReviewItem(
        item_id=event.id,
        tenant=event.tenant,
        correlation_id=event.correlationid,
        reason=request.reason or "no reason given",
        priority=Priority(request.priority.value),
        question=request.question,
        draft_answer=request.draft_answer or "",
        passages=tuple(
            Passage(
                chunk_id=passage.chunk_id,
                text=passage.text,
                document_id=passage.document_id,
                title=passage.title or "",
                score=passage.score,
                document_version=passage.document_version,
                content_hash=passage.content_hash,
                source_url=passage.source_url,
                section_path=tuple(passage.section_path),
            )
            for passage in request.passages
        ),
        findings=tuple(
            GuardrailFinding(
                check=finding.kind.value,
                verdict=finding.label,
                detail=finding.detail or "",
                score=finding.score,
            )
            for finding in request.findings
        ),
        requested_at=event.time,
        context=ReviewContext(
            conversation_id=request.conversation_id,
            stage=request.stage.value,
            language=request.language,
            groundedness=request.groundedness,
            policy_id=policy.policy_id,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            subject=request.subject,
            training_consent=request.training_consent,
            traceparent=event.traceparent,
        ),
    )


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM and SIGINT to the service that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn replaces the process's signal handlers and re-raises the signal on exit;
        # here the service owns those signals and stops the server itself.
        yield


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen on a TCP socket, so the port is known and open before serving starts."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise ReviewError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    listener.listen(128)
    return listener


async def _every(interval: float, name: str, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` every `interval` seconds, logging a failure and carrying on."""
    while True:
        try:
            await work()
        except Exception:
            log.exception("review.timer_failed", timer=name)
        await asyncio.sleep(interval)


async def serve(review: ReviewService) -> None:
    """Run the review service until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with review:
        await stop.wait()


def main() -> None:
    """Entry point of `python -m steward_review`: configure, start, run until told to stop."""
    settings = ReviewSettings()
    configure_logging(SERVICE_NAME, settings)
    try:
        review = ReviewService(settings)
    except (ReviewError, AuthError) as error:
        # Settings and key errors name the file or variable, never key material.
        log.error("review.refused_to_start", error=str(error))
        raise SystemExit(f"review: {error}") from None
    asyncio.run(serve(review))
