"""The reviewers' HTTP API and server-rendered web page."""

# No postponed annotations: FastAPI resolves the route signatures built inside create_web_app.

import hashlib
import hmac
import secrets
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

import structlog
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from steward_auth import (
    AccessDenied,
    Principal,
    TokenRefused,
    TokenVerifier,
    authorize,
    require_roles,
)

from steward_review.errors import InvalidDecision, ItemNotFound, ItemUnavailable, LeaseNotHeld
from steward_review.model import (
    DecisionKind,
    DecisionOutcome,
    DecisionRequest,
    ItemStatus,
    Priority,
    QueueEntry,
    Reviewer,
    ReviewItem,
)
from steward_review.pseudonym import ReviewerPseudonyms
from steward_review.queue import ReviewQueue

log = structlog.get_logger("steward_review.web")

SESSION_COOKIE = "steward_review_session"
DESK_ROLES = ("reviewer", "supervisor")
_HERE = Path(__file__).parent
T = TypeVar("T")
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_ERROR_STATUS = {
    ItemNotFound: status.HTTP_404_NOT_FOUND,
    ItemUnavailable: status.HTTP_409_CONFLICT,
    LeaseNotHeld: status.HTTP_409_CONFLICT,
    InvalidDecision: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def format_time_left(left: timedelta) -> str:
    """Say how long remains on an SLA, or how long ago it passed, in whole minutes."""
    minutes = int(abs(left.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    amount = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"{amount} left" if left >= timedelta(0) else f"overdue by {amount}"


def create_web_app(
    queue: ReviewQueue,
    verifier: TokenVerifier,
    pseudonyms: ReviewerPseudonyms,
    *,
    cookie_secure: bool = True,
    csrf_secret: bytes | None = None,
) -> FastAPI:
    """Build the review desk's FastAPI app: HTML pages for people and a JSON API under /api."""
    app = FastAPI(title="Steward review desk", docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=_HERE / "templates")
    templates.env.filters["time_left"] = format_time_left
    # LIMITATION: without a shared csrf_secret, replicas behind one load balancer reject each
    # other's forms; pass the same secret to every replica to lift it.
    csrf_key = csrf_secret or secrets.token_bytes(32)

    page_principal = require_roles(verifier, *DESK_ROLES, cookie_name=SESSION_COOKIE)
    api_principal = require_roles(verifier, *DESK_ROLES)
    PagePrincipal = Annotated[Principal, Depends(page_principal)]
    ApiPrincipal = Annotated[Principal, Depends(api_principal)]

    def reviewer_of(principal: Principal) -> Reviewer:
        """Turn a verified principal into the pseudonymous reviewer the queue knows."""
        # LIMITATION: a token names one tenant, so a supervisor serving several agencies needs
        # one sign-in per agency; a tenants claim would lift it.
        return Reviewer(
            pseudonym=pseudonyms.of(principal.subject),
            tenant=principal.tenant,
            supervisor=principal.has_any_role("supervisor"),
        )

    def csrf_token(request: Request) -> str:
        """Bind a form token to the session cookie, so another site cannot post our forms."""
        session = request.cookies.get(SESSION_COOKIE, "")
        return hmac.new(csrf_key, session.encode(), hashlib.sha256).hexdigest()

    def check_csrf(request: Request, submitted: str) -> None:
        """Refuse a form post whose token does not match the session."""
        if not hmac.compare_digest(csrf_token(request), submitted):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "form token missing or stale")

    def render(
        request: Request, template: str, context: dict[str, Any], code: int = 200
    ) -> HTMLResponse:
        """Render a page with the values every page needs."""
        base = {"csrf": csrf_token(request), "now": queue.now(), "notice": None}
        return templates.TemplateResponse(request, template, {**base, **context}, code)

    def redirect(path: str, **query: str) -> RedirectResponse:
        """Answer a form post with 303 See Other, so a reload does not post again."""
        target = f"{path}?{urlencode(query)}" if query else path
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)
        if error.status_code == status.HTTP_401_UNAUTHORIZED:
            # A first visit has no session yet: ask to sign in without calling it a refusal.
            signed_in = SESSION_COOKIE in request.cookies
            context = {"reason": error.detail if signed_in else None}
            return render(request, "sign_in.html", context, error.status_code)
        return render(request, "error.html", {"reason": error.detail}, error.status_code)

    @app.get("/desk.css", include_in_schema=False)
    async def stylesheet() -> PlainTextResponse:
        css = (_HERE / "static" / "desk.css").read_text(encoding="utf-8")
        return PlainTextResponse(css, media_type="text/css")

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/")
    async def home() -> RedirectResponse:
        return RedirectResponse("/queue", status_code=status.HTTP_303_SEE_OTHER)

    @app.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_page(request: Request) -> HTMLResponse:
        return render(request, "sign_in.html", {"reason": None})

    @app.post("/sign-in")
    async def sign_in(request: Request, token: Annotated[str, Form()]) -> Response:
        # LIMITATION: reviewers paste a token minted elsewhere; an OpenID Connect code flow
        # against the agency's identity provider would replace this form.
        # Check the token now, so a bad one is refused here rather than on the next page.
        token = token.strip()
        try:
            principal = verifier.verify(token)
            authorize(principal, DESK_ROLES, None)
        except (TokenRefused, AccessDenied) as refusal:
            code = 401 if isinstance(refusal, TokenRefused) else 403
            log.warning("auth.refused", status=code, reason=refusal.reason, path="/sign-in")
            return render(request, "sign_in.html", {"reason": refusal.reason}, code)

        response = redirect("/queue")
        lifetime = principal.expires_at - datetime.now(UTC)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=max(int(lifetime.total_seconds()), 0),
            httponly=True,
            secure=cookie_secure,
            samesite="strict",
            path="/",
        )
        log.info("review.signed_in", reviewer=pseudonyms.of(principal.subject))
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        check_csrf(request, csrf)
        response = redirect("/sign-in")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/queue", response_class=HTMLResponse)
    async def queue_page(
        request: Request,
        principal: PagePrincipal,
        status_filter: Annotated[ItemStatus | None, Query(alias="status")] = None,
        priority: Annotated[Priority | None, Query()] = None,
        reason: Annotated[str | None, Query(max_length=200)] = None,
        overdue: Annotated[bool, Query()] = False,
        notice: Annotated[str | None, Query(max_length=300)] = None,
    ) -> HTMLResponse:
        entries = await queue.list_items(
            principal.tenant,
            statuses=[status_filter] if status_filter else None,
            priority=priority,
            reason=reason or None,
            overdue_only=overdue,
        )
        context = {
            "principal": principal,
            "reviewer": reviewer_of(principal),
            "entries": entries,
            "filters": {
                "status": status_filter.value if status_filter else "",
                "priority": priority.value if priority else "",
                "reason": reason or "",
                "overdue": overdue,
            },
            "statuses": list(ItemStatus),
            "priorities": list(Priority),
            "notice": notice,
        }
        return render(request, "queue.html", context)

    @app.post("/queue/claim-next")
    async def claim_next_form(
        request: Request, principal: PagePrincipal, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        check_csrf(request, csrf)
        claim = await queue.claim_next(reviewer_of(principal))
        if claim is None:
            return redirect("/queue", notice="Nothing is waiting that you can claim.")
        return redirect(f"/items/{claim.item_id}")

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    async def item_page(
        request: Request,
        item_id: str,
        principal: PagePrincipal,
        notice: Annotated[str | None, Query(max_length=300)] = None,
    ) -> HTMLResponse:
        item = await _answer_domain_errors(queue.get(principal.tenant, item_id))
        return render(request, "item.html", _item_context(item, principal, notice))

    @app.post("/items/{item_id}/claim")
    async def claim_form(
        request: Request, item_id: str, principal: PagePrincipal, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        check_csrf(request, csrf)
        try:
            await queue.claim(reviewer_of(principal), item_id)
        except ItemUnavailable as error:
            return redirect(f"/items/{item_id}", notice=f"Not claimed: {error.reason}.")
        return redirect(f"/items/{item_id}")

    @app.post("/items/{item_id}/release")
    async def release_form(
        request: Request, item_id: str, principal: PagePrincipal, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        check_csrf(request, csrf)
        await queue.release(reviewer_of(principal), item_id)
        return redirect("/queue", notice="Released; the item is back in the queue.")

    @app.post("/items/{item_id}/decision", response_class=HTMLResponse)
    async def decision_form(
        request: Request,
        item_id: str,
        principal: PagePrincipal,
        kind: Annotated[DecisionKind, Form()],
        edited_answer: Annotated[str, Form()] = "",
        reason: Annotated[str, Form(max_length=1000)] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        decision = DecisionRequest(
            kind=kind,
            edited_answer=edited_answer if kind is DecisionKind.EDIT else None,
            reason=reason or None,
        )
        try:
            outcome = await queue.decide(reviewer_of(principal), item_id, decision)
        except (InvalidDecision, LeaseNotHeld) as error:
            item = await _answer_domain_errors(queue.get(principal.tenant, item_id))
            context = _item_context(item, principal, str(error))
            context["form"] = {
                "kind": kind.value,
                "edited_answer": edited_answer,
                "reason": reason,
            }
            return render(request, "item.html", context, _ERROR_STATUS[type(error)])
        return redirect("/queue", notice=_outcome_notice(outcome))

    def _item_context(
        item: ReviewItem, principal: Principal, notice: str | None
    ) -> dict[str, Any]:
        """Everything the item page shows."""
        reviewer = reviewer_of(principal)
        now = queue.now()
        return {
            "principal": principal,
            "item": item,
            "time_left": item.time_left(now),
            "holding": item.claimed_by == reviewer.pseudonym and item.lease_live(now),
            "held_by_other": item.claimed_by != reviewer.pseudonym and item.lease_live(now),
            "can_escalate": item.status is not ItemStatus.ESCALATED,
            "kinds": list(DecisionKind),
            "form": {"kind": "approve", "edited_answer": item.draft_answer, "reason": ""},
            "notice": notice,
        }

    @app.get("/api/tenants/{tenant}/items")
    async def api_list(
        tenant: str,
        principal: ApiPrincipal,
        status_filter: Annotated[ItemStatus | None, Query(alias="status")] = None,
        priority: Annotated[Priority | None, Query()] = None,
        reason: Annotated[str | None, Query(max_length=200)] = None,
        overdue: Annotated[bool, Query()] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        entries = await queue.list_items(
            tenant,
            statuses=[status_filter] if status_filter else None,
            priority=priority,
            reason=reason,
            overdue_only=overdue,
            limit=limit,
        )
        return [_entry_json(entry) for entry in entries]

    @app.get("/api/tenants/{tenant}/items/{item_id}")
    async def api_get(tenant: str, item_id: str, principal: ApiPrincipal) -> dict[str, Any]:
        item = await _answer_domain_errors(queue.get(tenant, item_id))
        return item.model_dump(mode="json")

    @app.post("/api/tenants/{tenant}/claim-next")
    async def api_claim_next(tenant: str, principal: ApiPrincipal) -> Response:
        claim = await queue.claim_next(reviewer_of(principal))
        if claim is None:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        return JSONResponse(claim.model_dump(mode="json"))

    @app.post("/api/tenants/{tenant}/items/{item_id}/claim")
    async def api_claim(tenant: str, item_id: str, principal: ApiPrincipal) -> dict[str, Any]:
        claim = await _answer_domain_errors(queue.claim(reviewer_of(principal), item_id))
        return claim.model_dump(mode="json")

    @app.post("/api/tenants/{tenant}/items/{item_id}/release", status_code=204)
    async def api_release(tenant: str, item_id: str, principal: ApiPrincipal) -> None:
        await queue.release(reviewer_of(principal), item_id)

    @app.post("/api/tenants/{tenant}/items/{item_id}/decision")
    async def api_decide(
        tenant: str, item_id: str, decision: DecisionRequest, principal: ApiPrincipal
    ) -> dict[str, Any]:
        deciding = queue.decide(reviewer_of(principal), item_id, decision)
        outcome = await _answer_domain_errors(deciding)
        return outcome.model_dump(mode="json")

    return app


async def _answer_domain_errors(call: Awaitable[T]) -> T:
    """Await a queue call, turning domain errors into HTTP answers with their message."""
    try:
        result = await call
    except (ItemNotFound, ItemUnavailable, LeaseNotHeld, InvalidDecision) as error:
        raise HTTPException(_ERROR_STATUS[type(error)], str(error)) from error
    return result


def _entry_json(entry: QueueEntry) -> dict[str, Any]:
    """One queue row as JSON, with the SLA time left in seconds."""
    return {
        **entry.item.model_dump(mode="json"),
        "time_left_s": entry.time_left.total_seconds(),
        "lease_live": entry.lease_live,
    }


def _outcome_notice(outcome: DecisionOutcome) -> str:
    """Tell the reviewer what their decision did."""
    if outcome.status is ItemStatus.AWAITING_SECOND:
        return "Your vote is recorded; a second reviewer must agree before the citizen hears back."
    if outcome.status is ItemStatus.ESCALATED:
        return "Escalated to a supervisor."
    assert outcome.decision is not None
    return f"Decided ({outcome.decision.kind.value}); the answer goes to the citizen."
