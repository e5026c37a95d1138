"""The reviewer web page and JSON API, driven over ASGI with real tokens and a real queue."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from review_samples import MovableClock, new_item
from steward_auth import generate_signing_key
from steward_review import DecisionKind, ItemStatus, RecordingSink, ReviewerPseudonyms, ReviewQueue
from steward_review.web import SESSION_COOKIE, format_time_left

TokenFactory = Callable[..., str]


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match is not None, "page carries no form token"
    return match.group(1)


async def _sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/sign-in", data={"token": token})


def test_time_left_wording() -> None:
    assert format_time_left(timedelta(minutes=75, seconds=30)) == "1 h 15 min left"
    assert format_time_left(timedelta(minutes=-4)) == "overdue by 4 min"


async def test_sign_in_sets_a_strict_http_only_cookie(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    response = await _sign_in(client, make_token())

    assert response.status_code == 303
    assert response.headers["location"] == "/queue"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


@pytest.mark.parametrize(
    ("overrides", "expected_status", "reason"),
    [
        ({"audience": "steward-ledger"}, 401, "wrong audience"),
        ({"now": datetime.now(UTC) - timedelta(days=1)}, 401, "expired"),
        ({"roles": ("citizen",)}, 403, "role reviewer or supervisor required"),
    ],
)
async def test_sign_in_refusals_say_why_and_set_no_cookie(
    client: httpx.AsyncClient,
    make_token: TokenFactory,
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, object],
    expected_status: int,
    reason: str,
) -> None:
    token = make_token(**overrides)

    response = await _sign_in(client, token)

    assert response.status_code == expected_status
    assert reason in response.text
    assert "set-cookie" not in response.headers
    printed = capsys.readouterr()
    assert "auth.refused" in printed.out
    assert token not in printed.out + printed.err


async def test_queue_page_without_session_shows_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/queue")

    assert response.status_code == 401
    assert "Sign in" in response.text
    assert "refused" not in response.text


async def test_stale_session_shows_the_refusal_reason(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    client.cookies.set(SESSION_COOKIE, make_token(now=datetime.now(UTC) - timedelta(days=1)))

    response = await client.get("/queue")

    assert response.status_code == 401
    assert "Sign-in refused: token expired" in response.text


async def test_queue_page_lists_only_the_tenants_items_with_time_left(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory, clock: MovableClock
) -> None:
    await queue.enqueue(new_item("mine"))
    await queue.enqueue(new_item("theirs", tenant="courts"))
    clock.advance(timedelta(minutes=40))
    await _sign_in(client, make_token())

    page = await client.get("/queue")

    assert page.status_code == 200
    assert "mine" in page.text
    assert "theirs" not in page.text
    assert "3 h 20 min left" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_queue_filters_apply(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory
) -> None:
    await queue.enqueue(new_item("asked", reason="citizen_asked"))
    await queue.enqueue(new_item("unsure", reason="low_confidence"))
    await _sign_in(client, make_token())

    page = await client.get("/queue", params={"reason": "citizen_asked"})

    assert "/items/asked" in page.text
    assert "/items/unsure" not in page.text


async def test_form_flow_claim_edit_and_decide(
    client: httpx.AsyncClient,
    queue: ReviewQueue,
    make_token: TokenFactory,
    sink: RecordingSink,
    pseudonyms: ReviewerPseudonyms,
) -> None:
    await queue.enqueue(new_item("a"))
    await _sign_in(client, make_token())
    csrf = _csrf((await client.get("/queue")).text)

    claimed = await client.post("/queue/claim-next", data={"csrf": csrf})
    assert claimed.headers["location"] == "/items/a"
    item_page = await client.get("/items/a")
    assert "Submit decision" in item_page.text
    decided = await client.post(
        "/items/a/decision",
        data={"csrf": csrf, "kind": "edit", "edited_answer": "File by April 15, 2027."},
    )

    assert decided.status_code == 303
    assert "Decided" in (await client.get(decided.headers["location"])).text
    assert sink.decisions[0].kind is DecisionKind.EDIT
    assert sink.decisions[0].citizen_answer == "File by April 15, 2027."
    assert sink.decisions[0].reviewer_ids == (pseudonyms.of("ann@agency-a.gov"),)


async def test_form_rejection_without_reason_is_shown_again(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory
) -> None:
    await queue.enqueue(new_item("a"))
    await _sign_in(client, make_token())
    csrf = _csrf((await client.get("/queue")).text)
    await client.post("/items/a/claim", data={"csrf": csrf})

    response = await client.post("/items/a/decision", data={"csrf": csrf, "kind": "reject"})

    assert response.status_code == 422
    assert "a rejection needs a reason" in response.text
    assert (await queue.get("agency-a", "a")).status is ItemStatus.OPEN


async def test_form_post_without_csrf_token_is_refused(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory
) -> None:
    await queue.enqueue(new_item("a"))
    await _sign_in(client, make_token())

    response = await client.post("/queue/claim-next", data={"csrf": "0" * 64})

    assert response.status_code == 403
    assert (await queue.get("agency-a", "a")).claimed_by is None


async def test_other_tenants_item_page_is_not_found(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory
) -> None:
    await queue.enqueue(new_item("secret", tenant="courts"))
    await _sign_in(client, make_token())

    response = await client.get("/items/secret")

    assert response.status_code == 404
    assert "When is the tax deadline" not in response.text


async def test_sign_out_clears_the_cookie(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _sign_in(client, make_token())
    csrf = _csrf((await client.get("/queue")).text)

    response = await client.post("/sign-out", data={"csrf": csrf})

    assert response.status_code == 303
    assert (await client.get("/queue")).status_code == 401


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_api_claim_and_decide(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    headers = _bearer(make_token())

    listed = await client.get("/api/tenants/agency-a/items", headers=headers)
    claimed = await client.post("/api/tenants/agency-a/claim-next", headers=headers)
    empty = await client.post("/api/tenants/agency-a/claim-next", headers=headers)
    decided = await client.post(
        "/api/tenants/agency-a/items/a/decision",
        headers=headers,
        json={"kind": "reject", "reason": "outdated"},
    )

    assert listed.json()[0]["item_id"] == "a"
    assert listed.json()[0]["time_left_s"] == 240 * 60
    assert claimed.json()["item_id"] == "a"
    assert empty.status_code == 204
    assert decided.json()["status"] == "decided"
    assert sink.decisions[0].declined is True


async def test_api_refuses_cookie_sessions(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _sign_in(client, make_token())

    response = await client.get("/api/tenants/agency-a/items")

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/tenants/courts/items", 403),
        ("/api/tenants/agency-a/items/missing", 404),
    ],
)
async def test_api_scopes_by_tenant(
    client: httpx.AsyncClient, make_token: TokenFactory, path: str, expected: int
) -> None:
    response = await client.get(path, headers=_bearer(make_token()))

    assert response.status_code == expected


async def test_api_maps_domain_errors(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory
) -> None:
    await queue.enqueue(new_item("a"))
    ann = _bearer(make_token("ann"))
    bob = _bearer(make_token("bob"))
    await client.post("/api/tenants/agency-a/items/a/claim", headers=ann)

    taken = await client.post("/api/tenants/agency-a/items/a/claim", headers=bob)
    not_held = await client.post(
        "/api/tenants/agency-a/items/a/decision", headers=bob, json={"kind": "approve"}
    )
    invalid = await client.post(
        "/api/tenants/agency-a/items/a/decision", headers=ann, json={"kind": "edit"}
    )

    assert (taken.status_code, not_held.status_code, invalid.status_code) == (409, 409, 422)
    assert "another reviewer holds its lease" in taken.json()["detail"]


async def test_escalated_items_need_the_supervisor_role(
    client: httpx.AsyncClient, queue: ReviewQueue, make_token: TokenFactory
) -> None:
    await queue.enqueue(new_item("a"))
    ann = _bearer(make_token("ann"))
    boss = _bearer(make_token("boss", roles=("supervisor",)))
    await client.post("/api/tenants/agency-a/items/a/claim", headers=ann)
    await client.post(
        "/api/tenants/agency-a/items/a/decision", headers=ann, json={"kind": "escalate"}
    )

    reviewer_try = await client.post("/api/tenants/agency-a/items/a/claim", headers=ann)
    supervisor_try = await client.post("/api/tenants/agency-a/items/a/claim", headers=boss)

    assert reviewer_try.status_code == 409
    assert supervisor_try.status_code == 200


def _unsigned(token: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    return f"{header.decode()}.{token.split('.')[1]}."


REFUSED_TOKENS: dict[str, tuple[Callable[[TokenFactory], str], int]] = {
    "alg none": (lambda make: _unsigned(make()), 401),
    "unexpected alg": (
        lambda make: make(key=generate_signing_key("HS256", kid="review-test")),
        401,
    ),
    "wrong key": (lambda make: make(key=generate_signing_key("ES256", kid="review-test")), 401),
    "expired": (lambda make: make(now=datetime.now(UTC) - timedelta(hours=3)), 401),
    "wrong issuer": (lambda make: make(issuer="https://id.elsewhere.gov"), 401),
    "wrong audience": (lambda make: make(audience="steward-gateway"), 401),
    "another tenant": (lambda make: make(tenant="courts"), 403),
    "missing role": (lambda make: make(roles=("auditor",)), 403),
}


@pytest.mark.parametrize("case", list(REFUSED_TOKENS))
async def test_review_api_refuses_bad_tokens_without_logging_them(
    client: httpx.AsyncClient,
    make_token: TokenFactory,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    build, expected_status = REFUSED_TOKENS[case]
    token = build(make_token)
    caplog.set_level(logging.DEBUG)

    listed = await client.get("/api/tenants/agency-a/items", headers=_bearer(token))
    claimed = await client.post("/api/tenants/agency-a/claim-next", headers=_bearer(token))

    assert (listed.status_code, claimed.status_code) == (expected_status, expected_status)
    printed = capsys.readouterr()
    logged = printed.out + printed.err + caplog.text
    assert logged.count("auth.refused") >= 2
    assert token not in logged
    assert token not in listed.text
