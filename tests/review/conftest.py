"""The review service on the session's broker and PostgreSQL, a fake guardrail and an observer."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from steward_auth import ensure_development_keys
from steward_bus import Service
from steward_events import ChatResponded, Envelope, ReviewDecided, ReviewEscalated
from steward_infra import LocalStack
from steward_review.app import ReviewService
from steward_review.settings import ReviewSettings

# Under --import-mode=importlib test folders are not on the import path, so the shared
# samples beside this file are put there explicitly.
sys.path.insert(0, str(Path(__file__).parent))

from review_wiring_samples import POLICY, Desk, Observed


@pytest.fixture(scope="module")
async def database(stack: LocalStack) -> AsyncIterator[str]:
    """A database of this module's own, so no other test's items can fall due here."""
    name = f"review_it_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.postgres.dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    yield stack.postgres.dsn.rsplit("/", 1)[0] + f"/{name}"

    admin = await asyncpg.connect(stack.postgres.dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="module")
def review_settings(
    stack: LocalStack, database: str, tmp_path_factory: pytest.TempPathFactory
) -> ReviewSettings:
    folder: Path = tmp_path_factory.mktemp("review")
    policy = folder / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return ReviewSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=database,
        topic_namespace=f"t{uuid.uuid4().hex[:12]}.",
        otel_exporter="none",
        auth_dir=folder / "auth",
        review_pseudonym_secret_file=folder / "pseudonym.key",
        review_policy_path=policy,
        review_http_port=0,
        review_escalate_interval_s=0.2,
        review_deliver_interval_s=0.2,
    )


@pytest.fixture(scope="module")
async def desk(review_settings: ReviewSettings) -> AsyncIterator[Desk]:
    observed = Observed()
    observer = Service("observer", review_settings)

    @observer.handles(ReviewDecided)
    async def on_decided(event: Envelope[Any]) -> None:
        observed.decided[event.correlationid].append(event)

    @observer.handles(ReviewEscalated)
    async def on_escalated(event: Envelope[Any]) -> None:
        observed.escalated[event.correlationid].append(event)

    @observer.handles(ChatResponded)
    async def on_responded(event: Envelope[Any]) -> None:
        observed.responded[event.correlationid].append(event)

    review = ReviewService(review_settings)
    guardrail = Service("guardrail", review_settings)
    async with review, guardrail, observer:
        base_url = f"http://127.0.0.1:{review.http_port}"
        async with httpx.AsyncClient(base_url=base_url) as http:
            keys = ensure_development_keys(review_settings.auth_dir)
            yield Desk(review, guardrail, observer, observed, keys, http)
