"""Keys, settings and a token factory shared by the steward_auth tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from steward_auth import AuthSettings, SigningKey, generate_signing_key, mint_token, write_jwks

# Under --import-mode=importlib test folders are not on the import path, so the shared
# samples beside this file are put there explicitly.
sys.path.insert(0, str(Path(__file__).parent))

from auth_samples import AUDIENCE, ISSUER, TokenFactory


@pytest.fixture(scope="session")
def es_key() -> SigningKey:
    return generate_signing_key("ES256", kid="es-1")


@pytest.fixture(scope="session")
def rs_key() -> SigningKey:
    return generate_signing_key("RS256", kid="rs-1")


@pytest.fixture
def jwks_settings(tmp_path: Path, es_key: SigningKey, rs_key: SigningKey) -> AuthSettings:
    path = write_jwks(tmp_path / "jwks.json", [es_key, rs_key])
    return AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=path)


@pytest.fixture
def make_token(es_key: SigningKey) -> TokenFactory:
    def factory(key: SigningKey | None = None, **overrides: Any) -> str:
        claims: dict[str, Any] = {
            "subject": "alice@agency.gov",
            "tenant": "agency-a",
            "roles": ["reviewer"],
            "issuer": ISSUER,
            "audience": AUDIENCE,
        }
        claims.update(overrides)
        return mint_token(key or es_key, **claims)

    return factory
