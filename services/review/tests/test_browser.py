"""A reviewer signs in, claims, edits and approves an item in headless Chromium, scripts off."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Callable

import pytest
import uvicorn
from fastapi import FastAPI
from review_samples import new_item
from steward_review import DecisionKind, RecordingSink, ReviewerPseudonyms, ReviewQueue

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason=f"Debian's chromium is not installed at {CHROMIUM}"
)


@pytest.fixture
async def desk_url(web_app: FastAPI) -> AsyncIterator[str]:
    # A socket listening before the server starts queues the browser's first request.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web_app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))

    yield f"http://127.0.0.1:{port}"

    server.should_exit = True
    await serving
    listener.close()


async def test_reviewer_signs_in_claims_edits_and_approves(
    desk_url: str,
    queue: ReviewQueue,
    sink: RecordingSink,
    make_token: Callable[..., str],
    pseudonyms: ReviewerPseudonyms,
) -> None:
    await queue.enqueue(new_item("permit-42", draft="Permits take 10 days.\nApply online.\n"))
    await queue.enqueue(new_item("other-tenant", tenant="courts"))
    token = make_token("rosa@agency-a.gov")

    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()

        # Sign in with the keyboard only.
        await page.goto(f"{desk_url}/queue")
        await page.get_by_label("Access token").focus()
        await page.keyboard.insert_text(token)
        await page.keyboard.press("Tab")
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert page.url == f"{desk_url}/queue"
        queue_text = await page.locator("main").inner_text()
        assert "permit-42" in queue_text
        assert "other-tenant" not in queue_text
        assert "3 h 59 min left" in queue_text or "4 h 0 min left" in queue_text

        # Claim from the queue row.
        await page.get_by_role("button", name="Claim permit-42").focus()
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert page.url == f"{desk_url}/items/permit-42"
        assert "Permits take 10 days." in await page.locator("#draft").inner_text()

        # Edit the draft and submit the decision.
        await page.locator("#kind-edit").focus()
        await page.keyboard.press("Space")
        await page.locator("#edited_answer").fill("Permits take 15 working days.\nApply online.")
        await page.locator("#submit-decision").focus()
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        assert page.url.startswith(f"{desk_url}/queue?notice=")
        notice = await page.get_by_role("status").inner_text()

        cookies = await context.cookies()
        await browser.close()

    assert "Decided (edit)" in notice
    session = next(cookie for cookie in cookies if cookie["name"] == "steward_review_session")
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert len(sink.decisions) == 1
    decision = sink.decisions[0]
    assert decision.item_id == "permit-42"
    assert decision.kind is DecisionKind.EDIT
    assert decision.citizen_answer == "Permits take 15 working days.\nApply online."
    assert "-Permits take 10 days.\n" in (decision.diff or "")
    assert "+Permits take 15 working days.\n" in (decision.diff or "")
    assert decision.reviewer_ids == (pseudonyms.of("rosa@agency-a.gov"),)
    assert "rosa" not in decision.model_dump_json()
