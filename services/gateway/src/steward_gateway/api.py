"""The gateway's HTTP surface: chat completions, ask, conversations, feedback and documents."""

# No `from __future__ import annotations`: FastAPI resolves the dependencies declared inside
# create_api from their annotations, which must therefore be real objects.
import time
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
import structlog
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from steward_auth import Principal, TokenVerifier, bearer_token, require_roles
from steward_bus import PublishFailed
from steward_events import (
    ChatRequested,
    ChatResponded,
    Classification,
    DocumentSubmitted,
    EventData,
    FeedbackSubmitted,
    Rating,
    new_event_id,
)
from steward_events.types import Channel, Identifier, Labels, LanguageTag, Name

from steward_gateway.conversations import ConversationStore, Turn
from steward_gateway.errors import UnknownConversation
from steward_gateway.openai_shape import (
    ChatCompletionRequest,
    NoQuestion,
    citation_view,
    completion,
    finish_reason,
    question_of,
    steward_block,
    stream_events,
)
from steward_gateway.pseudonyms import SubjectPseudonyms
from steward_gateway.ratelimit import RateLimiter
from steward_gateway.settings import GatewaySettings

log = structlog.get_logger("steward.gateway")
_tracer = trace.get_tracer("steward.gateway")

CITIZEN = "citizen"
ADMIN = "admin"
DOCUMENTS_PATH = "/v1/documents"
_PENDING_TEXT = (
    "Your question is still being worked on. The answer will appear at {url} once it is ready."
)


class Outbox(Protocol):
    """Where the gateway's events go: the bus service, seen only through its publish call."""

    async def publish(
        self,
        data: EventData,
        *,
        tenant: str | None = None,
        correlation_id: str | None = None,
        subject: str | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class GatewayParts:
    """Everything the HTTP layer uses, built once by the app."""

    settings: GatewaySettings
    outbox: Outbox
    conversations: ConversationStore
    verifier: TokenVerifier
    pseudonyms: SubjectPseudonyms
    limiter: RateLimiter


@dataclass(frozen=True)
class Caller:
    """A verified caller: tenant, pseudonym and clearance; never the raw subject."""

    tenant: str
    pseudonym: str
    clearance: Classification | None


class AskRequest(BaseModel):
    """A citizen's question to the agency's assistant."""

    question: str = Field(min_length=1)
    conversation_id: Identifier | None = None
    locale: LanguageTag | None = None
    human_requested: bool = False
    training_consent: bool = False


class FeedbackRequest(BaseModel):
    """A rating, comment or correction of one answer."""

    conversation_id: Identifier
    correlation_id: Identifier | None = Field(
        default=None, description="The answered request, as /v1/ask returned it."
    )
    rating: Rating
    comment: str | None = Field(default=None, max_length=20_000)
    correction: str | None = Field(default=None, max_length=20_000)
    language: LanguageTag | None = None
    training_consent: bool = False


class DocumentRequest(BaseModel):
    """A document to ingest, its text inline."""

    source_id: Identifier
    classification: Classification
    content: str = Field(min_length=1)
    title: Name | None = None
    source_url: str | None = Field(default=None, pattern=r"^https?://\S{1,2040}$")
    language: LanguageTag | None = None
    media_type: Name = "text/markdown"
    filename: Name | None = None
    metadata: Labels = Field(default_factory=dict)


class BodyLimit:
    """Refuses request bodies over the limit with 413 before any handler reads them."""

    def __init__(self, app: ASGIApp, *, default_limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default_limit)

        # A declared length over the limit is refused without reading a byte.
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, int(declared), limit)
            return

        # Otherwise read up to the limit and replay the body to the app.
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > limit:
                await _too_large(scope, send, len(body), limit, at_least=more)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(
    scope: Scope, send: Send, size: int, limit: int, *, at_least: bool = False
) -> None:
    size_text = f"at least {size}" if at_least else str(size)
    log.info("gateway.body_refused", path=scope["path"], size=size, limit=limit)
    response = JSONResponse(
        {"detail": f"request body is {size_text} bytes; {scope['path']} takes at most {limit}"},
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)


def create_api(parts: GatewayParts) -> FastAPI:
    """Build the FastAPI app over the gateway's parts."""
    settings = parts.settings
    api = FastAPI(title="Steward gateway", version="1", docs_url=None, redoc_url=None)
    api.add_middleware(
        BodyLimit,
        default_limit=settings.gateway_max_body_bytes,
        limits={DOCUMENTS_PATH: settings.gateway_max_document_bytes},
    )
    citizen_token = require_roles(parts.verifier, CITIZEN)
    admin_token = require_roles(parts.verifier, ADMIN)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # Name the fields and what was wrong, never echo the input: it may be a question.
        problems = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", "")}
            for item in error.errors()[:20]
        ]
        summary = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}" for problem in problems
        )
        return JSONResponse(
            {"detail": f"invalid request: {summary}", "errors": problems},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @api.exception_handler(PublishFailed)
    async def bus_unavailable(request: Request, error: PublishFailed) -> JSONResponse:
        # Nothing was queued: the caller may retry the same request safely.
        log.warning("gateway.publish_failed", path=request.url.path, error=str(error))
        return JSONResponse(
            {
                "detail": "the request could not be queued: the event bus is unavailable; "
                "retry later",
                "disposition": "unavailable",
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.gateway_retry_after_seconds)},
        )

    def caller_of(request: Request, principal: Principal) -> Caller:
        caller = Caller(
            tenant=principal.tenant,
            pseudonym=parts.pseudonyms.of(principal.tenant, principal.subject),
            clearance=_clearance(request, settings.gateway_clearance_claim),
        )
        wait = parts.limiter.take(f"{caller.tenant}/{caller.pseudonym}")
        if wait > 0:
            log.info("gateway.rate_limited", tenant=caller.tenant, path=request.url.path)
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"rate limit of {settings.gateway_rate_per_minute:g} requests per minute "
                f"(burst {settings.gateway_rate_burst}) reached; retry in {wait:.1f} s",
                headers={"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        return caller

    async def citizen(
        request: Request, principal: Annotated[Principal, Depends(citizen_token)]
    ) -> Caller:
        return caller_of(request, principal)

    async def admin(
        request: Request, principal: Annotated[Principal, Depends(admin_token)]
    ) -> Caller:
        return caller_of(request, principal)

    async def citizen_reading(
        request: Request, principal: Annotated[Principal, Depends(citizen_token)]
    ) -> Caller:
        # Status polls are not rate limited: they only read this replica's memory.
        return Caller(
            tenant=principal.tenant,
            pseudonym=parts.pseudonyms.of(principal.tenant, principal.subject),
            clearance=None,
        )

    async def ask_pipeline(
        caller: Caller,
        *,
        route: str,
        question: str,
        conversation_id: str | None,
        locale: str | None,
        human_requested: bool,
        training_consent: bool,
        channel: Channel,
    ) -> tuple[Turn, ChatResponded | None]:
        """Publish the question, then wait for its first reply within the configured time."""
        if len(question) > settings.gateway_max_question_chars:
            raise HTTPException(
                status_code=status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"question is {len(question)} characters; "
                f"at most {settings.gateway_max_question_chars} are taken",
            )
        # PostgreSQL-backed consumers (the ledger among them) cannot store NUL, and no other
        # control character but line breaks and tabs belongs in a question.
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in question):
            raise HTTPException(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="question holds a control character; only text, tabs and line breaks",
            )
        if not question.strip():
            raise HTTPException(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="question is empty once whitespace is removed",
            )
        correlation_id = new_event_id()
        conversation = conversation_id or f"conv-{new_event_id()}"
        started = time.perf_counter()
        with _tracer.start_as_current_span(
            f"POST {route}",
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": "POST",
                "http.route": route,
                "steward.tenant": caller.tenant,
                "steward.correlation_id": correlation_id,
            },
        ) as span:
            # The turn is open before publishing, so even an instant reply finds it.
            turn = parts.conversations.open_turn(
                tenant=caller.tenant,
                conversation_id=conversation,
                owner=caller.pseudonym,
                correlation_id=correlation_id,
            )
            try:
                await parts.outbox.publish(
                    ChatRequested(
                        conversation_id=conversation,
                        question=question,
                        locale=locale,
                        channel=channel,
                        human_requested=human_requested,
                        clearance=caller.clearance,
                        subject=caller.pseudonym,
                        training_consent=training_consent,
                    ),
                    tenant=caller.tenant,
                    correlation_id=correlation_id,
                    subject=caller.pseudonym,
                )
            except PublishFailed:
                parts.conversations.withdraw(turn)
                raise
            reply = await parts.conversations.wait(turn, settings.gateway_wait_seconds)
            outcome = reply.disposition.value if reply else "pending"
            span.set_attribute("steward.disposition", outcome)
        log.info(
            "gateway.asked",
            route=route,
            correlation_id=correlation_id,
            tenant=caller.tenant,
            outcome=outcome,
            final=reply.final if reply else False,
            wait_ms=round((time.perf_counter() - started) * 1_000, 1),
        )
        return turn, reply

    def status_url(request: Request, conversation_id: str) -> str:
        return str(request.url_for("conversation", conversation_id=conversation_id))

    @api.post("/v1/ask", response_model=None)
    async def ask(
        body: AskRequest, request: Request, caller: Annotated[Caller, Depends(citizen)]
    ) -> JSONResponse:
        """Ask a question; the answer, or a 202 with the status URL when it takes longer."""
        turn, reply = await ask_pipeline(
            caller,
            route="/v1/ask",
            question=body.question,
            conversation_id=body.conversation_id,
            locale=body.locale,
            human_requested=body.human_requested,
            training_consent=body.training_consent,
            channel=Channel.API,
        )
        conversation_id = turn.conversation_id
        url = status_url(request, conversation_id)
        if reply is None:
            return JSONResponse(
                {
                    "correlation_id": turn.correlation_id,
                    "conversation_id": conversation_id,
                    "disposition": None,
                    "status": "pending",
                    "status_url": url,
                },
                status_code=status.HTTP_202_ACCEPTED,
                headers={"Location": url},
            )
        return JSONResponse(
            {
                **_reply_view(reply, settings.gateway_ai_notice),
                "correlation_id": turn.correlation_id,
                "conversation_id": conversation_id,
                "status": "final" if reply.final else "under_review",
                "status_url": url,
            }
        )

    @api.post("/v1/chat/completions", response_model=None)
    async def chat_completions(
        body: ChatCompletionRequest, request: Request, caller: Annotated[Caller, Depends(citizen)]
    ) -> JSONResponse | StreamingResponse:
        """OpenAI-compatible chat: the last user message is the question."""
        try:
            question = question_of(body)
        except NoQuestion as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(error)) from None
        turn, reply = await ask_pipeline(
            caller,
            route="/v1/chat/completions",
            question=question,
            conversation_id=body.conversation_id,
            locale=body.locale,
            human_requested=body.human_requested,
            training_consent=body.training_consent,
            channel=Channel.CHAT,
        )
        conversation_id = turn.conversation_id
        url = status_url(request, conversation_id)
        steward = {
            **steward_block(
                reply,
                correlation_id=turn.correlation_id,
                status_url=url,
                notice=settings.gateway_ai_notice,
            ),
            "conversation_id": conversation_id,
        }
        # Chat front ends expect a message, so a late answer is a message with the status URL.
        content = reply.answer if reply else _PENDING_TEXT.format(url=url)
        completion_id = f"chatcmpl-{turn.correlation_id}"
        headers = {"X-Steward-Correlation-Id": turn.correlation_id}
        if body.stream:
            return StreamingResponse(
                stream_events(
                    completion_id=completion_id,
                    model=body.model,
                    content=content,
                    finish=finish_reason(reply),
                    steward=steward,
                    chunk_chars=settings.gateway_stream_chunk_chars,
                ),
                media_type="text/event-stream",
                headers={**headers, "Cache-Control": "no-cache"},
            )
        return JSONResponse(
            completion(
                completion_id=completion_id,
                model=body.model,
                content=content,
                finish_reason=finish_reason(reply),
                steward=steward,
            ),
            headers=headers,
        )

    @api.get("/v1/conversations/{conversation_id}", name="conversation")
    async def conversation(
        conversation_id: str, caller: Annotated[Caller, Depends(citizen_reading)]
    ) -> dict[str, Any]:
        """The turns of one of the caller's conversations, with the latest reply of each."""
        try:
            kept = parts.conversations.conversation(
                tenant=caller.tenant, conversation_id=conversation_id, owner=caller.pseudonym
            )
        except UnknownConversation as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
        turns = []
        for turn in kept.turns:
            view: dict[str, Any] = {"correlation_id": turn.correlation_id}
            if turn.reply is None:
                view.update(status="pending", disposition=None, final=False)
            else:
                view.update(
                    _reply_view(turn.reply, settings.gateway_ai_notice),
                    status="final" if turn.final else "under_review",
                )
            turns.append(view)
        return {"conversation_id": conversation_id, "turns": turns}

    @api.post("/v1/feedback", status_code=status.HTTP_202_ACCEPTED)
    async def feedback(
        body: FeedbackRequest, caller: Annotated[Caller, Depends(citizen)]
    ) -> dict[str, Any]:
        """Record a rating, comment or correction of an answer."""
        correlation_id = body.correlation_id or new_event_id()
        envelope = await parts.outbox.publish(
            FeedbackSubmitted(
                conversation_id=body.conversation_id,
                rating=body.rating,
                comment=body.comment,
                correction=body.correction,
                language=body.language,
                subject=caller.pseudonym,
                training_consent=body.training_consent,
            ),
            tenant=caller.tenant,
            correlation_id=correlation_id,
            subject=caller.pseudonym,
        )
        log.info(
            "gateway.feedback_submitted",
            correlation_id=correlation_id,
            tenant=caller.tenant,
            event_id=envelope.id,
            rating=body.rating.value,
        )
        return {"event_id": envelope.id, "correlation_id": correlation_id}

    @api.post(DOCUMENTS_PATH, status_code=status.HTTP_202_ACCEPTED)
    async def documents(
        body: DocumentRequest, caller: Annotated[Caller, Depends(admin)]
    ) -> dict[str, Any]:
        """Submit a document for ingestion into the caller's tenant."""
        correlation_id = new_event_id()
        envelope = await parts.outbox.publish(
            DocumentSubmitted(
                source_id=body.source_id,
                classification=body.classification,
                source_url=body.source_url,
                title=body.title,
                language=body.language,
                media_type=body.media_type,
                filename=body.filename,
                content=body.content,
                metadata=body.metadata,
            ),
            tenant=caller.tenant,
            correlation_id=correlation_id,
            subject=caller.pseudonym,
        )
        log.info(
            "gateway.document_submitted",
            correlation_id=correlation_id,
            tenant=caller.tenant,
            event_id=envelope.id,
            source_id=body.source_id,
            size=len(body.content),
        )
        return {
            "event_id": envelope.id,
            "correlation_id": correlation_id,
            "source_id": body.source_id,
        }

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the HTTP server answers."""
        return {"status": "ok"}

    return api


def _reply_view(reply: ChatResponded, notice: str) -> dict[str, Any]:
    ai_notice = reply.ai_notice or notice
    # The released text ends with the notice for clients that show only text; this view
    # carries the notice in its own field, so the answer does not repeat it.
    answer = reply.answer.strip()
    if reply.ai_notice and answer.endswith(reply.ai_notice.strip()):
        answer = answer[: -len(reply.ai_notice.strip())].rstrip()
    return {
        "disposition": reply.disposition.value,
        "answer": answer,
        "citations": [citation_view(citation) for citation in reply.citations],
        "ai_notice": ai_notice,
        "language": reply.language,
        "reason": reply.reason,
        "final": reply.final,
    }


def _clearance(request: Request, claim: str) -> Classification | None:
    """The caller's clearance claim, read from a token the verifier has already accepted."""
    # The signature was checked by the auth dependency; Principal has no field for this claim.
    claims = jwt.decode(bearer_token(request), options={"verify_signature": False})
    value = claims.get(claim)
    if value is None:
        return None
    try:
        return Classification(value)
    except ValueError:
        allowed = [c.value for c in Classification]
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"claim {claim} must be one of {allowed}, got {str(value)[:40]!r}",
        ) from None
