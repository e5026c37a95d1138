"""A fresh database per test in the session's PostgreSQL, keys, tokens and a movable clock."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from steward_auth import (
    AuthSettings,
    SigningKey,
    TokenVerifier,
    generate_signing_key,
    mint_token,
    write_jwks,
)
from steward_infra import LocalStack
from steward_review import (
    PolicyBook,
    RecordingSink,
    ReviewerPseudonyms,
    ReviewQueue,
    TenantPolicy,
)
from steward_review.web import create_web_app

# Under --import-mode=importlib test folders are not on the import path, so the shared
# samples beside this file are put there explicitly.
sys.path.insert(0, str(Path(__file__).parent))

from review_samples import AUDIENCE, ISSUER, LEASE, MovableClock


@pytest.fixture
async def pool(stack: LocalStack) -> AsyncIterator[asyncpg.Pool]:
    # A database of the test's own in the session's cluster, named apart from other runs.
    name = f"review_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.postgres.dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    dsn = stack.postgres.dsn.rsplit("/", 1)[0] + f"/{name}"
    async with asyncpg.create_pool(dsn, min_size=1, max_size=10) as created:
        yield created

    admin = await asyncpg.connect(stack.postgres.dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def policies() -> PolicyBook:
    return PolicyBook(
        default=TenantPolicy(contact_route="311 or help@agency-a.gov"),
        tenants={
            "agency-a": TenantPolicy(contact_route="311 or help@agency-a.gov"),
            "courts": TenantPolicy(high_impact=True, contact_route="the court clerk"),
        },
    )


@pytest.fixture
async def queue(
    pool: asyncpg.Pool, policies: PolicyBook, sink: RecordingSink, clock: MovableClock
) -> ReviewQueue:
    created = ReviewQueue(pool, policies=policies, sink=sink, lease=LEASE, clock=clock)
    await created.install_schema()
    return created


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key("ES256", kid="review-test")


@pytest.fixture
def verifier(tmp_path: Path, signing_key: SigningKey) -> TokenVerifier:
    jwks = write_jwks(tmp_path / "jwks.json", [signing_key])
    return TokenVerifier(AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=jwks))


@pytest.fixture
def pseudonyms() -> ReviewerPseudonyms:
    return ReviewerPseudonyms(b"review-desk-test-secret-0123456789abcdef")


@pytest.fixture
def make_token(signing_key: SigningKey) -> Callable[..., str]:
    def factory(
        subject: str = "ann@agency-a.gov",
        *,
        tenant: str = "agency-a",
        roles: tuple[str, ...] = ("reviewer",),
        key: SigningKey | None = None,
        **overrides: Any,
    ) -> str:
        claims: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, **overrides}
        signer = key or signing_key
        return mint_token(signer, subject=subject, tenant=tenant, roles=list(roles), **claims)

    return factory


@pytest.fixture
def web_app(
    queue: ReviewQueue, verifier: TokenVerifier, pseudonyms: ReviewerPseudonyms
) -> FastAPI:
    return create_web_app(queue, verifier, pseudonyms, cookie_secure=False)


@pytest.fixture
async def client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as created:
        yield created
