"""Fixtures for the ledger service tests: a fresh database, settings, and auditor tokens."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from steward_auth import AuthSettings, SigningKey, generate_signing_key, mint_token, write_jwks
from steward_infra import LocalStack

ROOT = Path(__file__).resolve().parents[2]

# The `steward ledger` commands live in this checkout's steward-cli; look there first. The
# folder itself holds the shared helper module, which importlib mode does not find alone.
sys.path.insert(0, str(ROOT / "libs" / "steward-cli" / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from steward_ledger.settings import LedgerSettings  # noqa: E402

ISSUER = "steward-test"
AUDIENCE = "steward"


@pytest.fixture(scope="session")
def auth_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, Path]:
    """An ES256 key whose public half is the only one in the ledger's JWKS file."""
    key = generate_signing_key("ES256", kid="ledger-test")
    jwks = tmp_path_factory.mktemp("auth") / "jwks.json"
    write_jwks(jwks, [key])
    return key, jwks


@pytest.fixture(scope="session")
def token(auth_key: tuple[SigningKey, Path]) -> Callable[..., str]:
    """Mint a token for a tenant and roles, signed with the trusted key unless told otherwise."""

    def mint(
        tenant: str,
        *roles: str,
        key: SigningKey | None = None,
        audience: str = AUDIENCE,
        lifetime: timedelta = timedelta(minutes=10),
    ) -> str:
        return mint_token(
            key or auth_key[0],
            subject=f"{tenant}-person",
            tenant=tenant,
            roles=list(roles),
            issuer=ISSUER,
            audience=audience,
            lifetime=lifetime,
        )

    return mint


@pytest.fixture
async def ledger_database(stack: LocalStack) -> AsyncIterator[str]:
    """A database of the test's own on the session's PostgreSQL, dropped afterwards."""
    name = f"ledger_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.postgres.dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = stack.postgres.dsn.rsplit("/", 1)[0] + f"/{name}"
        yield dsn
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def ledger_settings(
    stack: LocalStack,
    namespace: str,
    ledger_database: str,
    tmp_path: Path,
    auth_key: tuple[SigningKey, Path],
) -> LedgerSettings:
    """Ledger settings on the session's stack, in the test's own namespace and database."""
    return LedgerSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=ledger_database,
        topic_namespace=namespace,
        otel_exporter="none",
        retry_max_seconds=0.05,
        ledger_data_dir=tmp_path / "ledger",
        ledger_api_port=0,
        ledger_auth=AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=auth_key[1]),
    )
