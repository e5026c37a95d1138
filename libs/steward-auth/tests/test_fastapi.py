"""The require_roles dependency answers 401/403 with a reason and never logs the token."""

# No postponed annotations here: FastAPI must resolve dependencies that live in a fixture.

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from auth_samples import TokenFactory
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from steward_auth import (
    AuthSettings,
    Principal,
    TokenVerifier,
    generate_signing_key,
    require_roles,
)

COOKIE = "steward_session"


@pytest.fixture
def client(jwks_settings: AuthSettings) -> TestClient:
    verifier = TokenVerifier(jwks_settings)
    app = FastAPI()
    reviewer = require_roles(verifier, "reviewer", "supervisor", cookie_name=COOKIE)
    supervisor = require_roles(verifier, "supervisor", cookie_name=COOKIE)

    @app.get("/tenants/{tenant}/queue")
    async def queue(
        tenant: str, principal: Annotated[Principal, Depends(reviewer)]
    ) -> dict[str, str]:
        return {"subject": principal.subject, "tenant": tenant}

    @app.get("/tenants/{tenant}/escalations")
    async def escalations(
        tenant: str, principal: Annotated[Principal, Depends(supervisor)]
    ) -> dict[str, str]:
        return {"subject": principal.subject}

    return TestClient(app)


def _unsigned(token: str) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    return f"{header.decode()}.{token.split('.')[1]}."


def _refused_cases(make_token: TokenFactory) -> dict[str, tuple[str, str, int, str]]:
    """Name each refused case: (token, path, expected status, expected reason fragment)."""
    queue = "/tenants/agency-a/queue"
    good = make_token()
    return {
        "alg none": (_unsigned(good), queue, 401, "alg none"),
        "unexpected alg": (
            make_token(key=generate_signing_key("HS256", kid="es-1")),
            queue,
            401,
            "algorithm HS256 refused",
        ),
        "wrong key": (
            make_token(key=generate_signing_key("ES256", kid="es-1")),
            queue,
            401,
            "signature",
        ),
        "expired": (
            make_token(now=datetime.now(UTC) - timedelta(days=1)),
            queue,
            401,
            "expired",
        ),
        "wrong issuer": (make_token(issuer="https://evil.example"), queue, 401, "issuer"),
        "wrong audience": (make_token(audience="steward-ledger"), queue, 401, "audience"),
        "another tenant": (make_token(tenant="agency-b"), queue, 403, "tenant agency-b"),
        "missing role": (make_token(roles=["citizen"]), queue, 403, "role"),
        "reviewer on supervisor route": (
            make_token(roles=["reviewer"]),
            "/tenants/agency-a/escalations",
            403,
            "supervisor",
        ),
    }


CASES = [
    "alg none",
    "unexpected alg",
    "wrong key",
    "expired",
    "wrong issuer",
    "wrong audience",
    "another tenant",
    "missing role",
    "reviewer on supervisor route",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("carrier", ["header", "cookie"])
def test_refused_token_answers_with_reason_and_stays_out_of_logs(
    client: TestClient,
    make_token: TokenFactory,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    case: str,
    carrier: str,
) -> None:
    token, path, expected_status, reason = _refused_cases(make_token)[case]
    caplog.set_level(logging.DEBUG)

    if carrier == "header":
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    else:
        client.cookies.set(COOKIE, token)
        response = client.get(path)

    assert response.status_code == expected_status
    assert reason in response.json()["detail"]
    if expected_status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    printed = capsys.readouterr()
    logged = printed.out + printed.err + caplog.text
    assert "auth.refused" in logged
    assert reason in logged
    assert token not in logged
    signature = token.rsplit(".", 1)[1]
    assert not signature or signature not in logged
    assert token not in response.text


def test_missing_token_is_401(client: TestClient) -> None:
    response = client.get("/tenants/agency-a/queue")

    assert response.status_code == 401
    assert "no bearer token" in response.json()["detail"]


def test_non_bearer_scheme_is_401(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get(
        "/tenants/agency-a/queue", headers={"Authorization": f"Basic {make_token()}"}
    )

    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


def test_valid_token_admits_principal(client: TestClient, make_token: TokenFactory) -> None:
    response = client.get(
        "/tenants/agency-a/queue", headers={"Authorization": f"Bearer {make_token()}"}
    )

    assert response.status_code == 200
    assert response.json() == {"subject": "alice@agency.gov", "tenant": "agency-a"}


def test_supervisor_passes_any_of_roles(client: TestClient, make_token: TokenFactory) -> None:
    token = make_token(roles=["supervisor"])

    queue = client.get("/tenants/agency-a/queue", headers={"Authorization": f"Bearer {token}"})
    escalations = client.get(
        "/tenants/agency-a/escalations", headers={"Authorization": f"Bearer {token}"}
    )

    assert (queue.status_code, escalations.status_code) == (200, 200)
