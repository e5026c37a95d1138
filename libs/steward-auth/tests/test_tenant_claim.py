"""A verified tenant always fits the event contract's tenant ids."""

from __future__ import annotations

import pytest
from steward_auth import (
    AuthSettings,
    TokenRefused,
    TokenVerifier,
    generate_signing_key,
    mint_token,
    write_jwks,
)


@pytest.mark.parametrize("tenant", ["../../etc", "Riverland-Revenue", "-x", "a" * 64])
def test_a_tenant_claim_outside_the_tenant_id_rule_is_refused(tmp_path, tenant: str) -> None:
    key = generate_signing_key()
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, [key])
    verifier = TokenVerifier(AuthSettings(issuer="iss", audience="aud", jwks_path=jwks))
    token = mint_token(
        key, subject="ann", tenant=tenant, roles=["citizen"], issuer="iss", audience="aud"
    )

    with pytest.raises(TokenRefused, match="tenant id"):
        verifier.verify(token)

    good = mint_token(
        key,
        subject="ann",
        tenant="riverland-revenue",
        roles=["citizen"],
        issuer="iss",
        audience="aud",
    )
    assert verifier.verify(good).tenant == "riverland-revenue"
