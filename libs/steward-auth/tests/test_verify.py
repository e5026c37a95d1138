"""Every accepted and refused token shape at the verifier level."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from auth_samples import AUDIENCE, ISSUER, TokenFactory
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import ValidationError
from steward_auth import (
    AuthConfigError,
    AuthSettings,
    SigningKey,
    TokenRefused,
    TokenVerifier,
    generate_signing_key,
    mint_token,
    write_jwks,
)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "sub": "alice",
        "tenant": "agency-a",
        "roles": ["reviewer"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def test_valid_es256_token_yields_principal(
    jwks_settings: AuthSettings, make_token: TokenFactory
) -> None:
    verifier = TokenVerifier(jwks_settings)

    principal = verifier.verify(make_token(roles=["reviewer", "supervisor"]))

    assert principal.subject == "alice@agency.gov"
    assert principal.tenant == "agency-a"
    assert principal.roles == frozenset({"reviewer", "supervisor"})
    assert principal.expires_at > datetime.now(UTC)
    assert principal.token_id is not None


def test_valid_rs256_token_from_jwks(
    jwks_settings: AuthSettings, make_token: TokenFactory, rs_key: SigningKey
) -> None:
    principal = TokenVerifier(jwks_settings).verify(make_token(key=rs_key))

    assert principal.subject == "alice@agency.gov"


def test_static_pem_key_verifies_rs256(tmp_path: Path, rs_key: SigningKey) -> None:
    pem = rs_key.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(pem)
    settings = AuthSettings(issuer=ISSUER, audience=AUDIENCE, public_key_path=tmp_path / "key.pem")
    token = mint_token(
        rs_key, subject="bob", tenant="t", roles=[], issuer=ISSUER, audience=AUDIENCE
    )

    assert TokenVerifier(settings).verify(token).subject == "bob"


def test_alg_none_refused(jwks_settings: AuthSettings) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."

    with pytest.raises(TokenRefused, match="alg none"):
        TokenVerifier(jwks_settings).verify(token)


@pytest.mark.parametrize("alg", ["None", "NONE"])
def test_alg_none_in_other_case_refused(jwks_settings: AuthSettings, alg: str) -> None:
    token = f"{_b64({'alg': alg})}.{_b64(_claims())}."

    with pytest.raises(TokenRefused, match="alg none"):
        TokenVerifier(jwks_settings).verify(token)


def test_hs256_signed_with_public_key_refused(
    jwks_settings: AuthSettings, rs_key: SigningKey
) -> None:
    # The classic confusion: an attacker HMAC-signs with the published public key.
    public_pem = rs_key.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "kid": "rs-1"})
    body = _b64(_claims())
    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    with pytest.raises(TokenRefused, match="algorithm HS256 refused"):
        TokenVerifier(jwks_settings).verify(token)


def test_algorithm_not_bound_to_the_named_key_refused(
    jwks_settings: AuthSettings, rs_key: SigningKey
) -> None:
    # An RS256 signature presented under the ES256 key's kid.
    token = jwt.encode(_claims(), rs_key.private_key, algorithm="RS256", headers={"kid": "es-1"})

    with pytest.raises(TokenRefused, match="bound to ES256"):
        TokenVerifier(jwks_settings).verify(token)


def test_unexpected_algorithm_refused(jwks_settings: AuthSettings) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    token = jwt.encode(_claims(), key, algorithm="ES384", headers={"kid": "es-1"})

    with pytest.raises(TokenRefused, match="algorithm ES384 refused"):
        TokenVerifier(jwks_settings).verify(token)


def test_wrong_key_with_trusted_kid_refused(
    jwks_settings: AuthSettings, make_token: TokenFactory
) -> None:
    impostor = generate_signing_key("ES256", kid="es-1")

    with pytest.raises(TokenRefused, match="signature does not verify"):
        TokenVerifier(jwks_settings).verify(make_token(key=impostor))


def test_unknown_kid_refused(jwks_settings: AuthSettings, make_token: TokenFactory) -> None:
    stranger = generate_signing_key("ES256", kid="elsewhere")

    with pytest.raises(TokenRefused, match="no trusted key with kid 'elsewhere'"):
        TokenVerifier(jwks_settings).verify(make_token(key=stranger))


def test_expired_token_refused(jwks_settings: AuthSettings, make_token: TokenFactory) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=2)

    with pytest.raises(TokenRefused, match="expired"):
        TokenVerifier(jwks_settings).verify(make_token(now=long_ago))


def test_expiry_within_leeway_accepted(
    jwks_settings: AuthSettings, make_token: TokenFactory
) -> None:
    just_expired = datetime.now(UTC) - timedelta(minutes=60, seconds=10)

    principal = TokenVerifier(jwks_settings).verify(make_token(now=just_expired))

    assert principal.subject == "alice@agency.gov"


def test_token_not_yet_valid_refused(
    jwks_settings: AuthSettings, make_token: TokenFactory
) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)

    with pytest.raises(TokenRefused, match="not valid yet"):
        TokenVerifier(jwks_settings).verify(make_token(now=later))


def test_wrong_issuer_refused(jwks_settings: AuthSettings, make_token: TokenFactory) -> None:
    with pytest.raises(TokenRefused, match="wrong issuer"):
        TokenVerifier(jwks_settings).verify(make_token(issuer="https://id.example.gov.evil"))


def test_issuer_prefix_is_not_a_match(tmp_path: Path, es_key: SigningKey) -> None:
    settings = AuthSettings(
        issuer=ISSUER, audience=AUDIENCE, jwks_path=write_jwks(tmp_path / "k.json", [es_key])
    )
    token = jwt.encode(_claims(iss="https://id.example"), es_key.private_key, algorithm="ES256")

    with pytest.raises(TokenRefused, match="wrong issuer"):
        TokenVerifier(settings).verify(token)


def test_wrong_audience_refused(jwks_settings: AuthSettings, make_token: TokenFactory) -> None:
    with pytest.raises(TokenRefused, match="wrong audience"):
        TokenVerifier(jwks_settings).verify(make_token(audience="steward-ledger"))


@pytest.mark.parametrize("claim", ["exp", "nbf", "iss", "aud", "sub"])
def test_missing_required_claim_refused(
    jwks_settings: AuthSettings, es_key: SigningKey, claim: str
) -> None:
    token = jwt.encode(
        _claims(**{claim: None}), es_key.private_key, algorithm="ES256", headers={"kid": "es-1"}
    )

    with pytest.raises(TokenRefused, match=claim):
        TokenVerifier(jwks_settings).verify(token)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"tenant": None}, "claim tenant"),
        ({"tenant": ""}, "claim tenant"),
        ({"roles": "reviewer"}, "claim roles"),
        ({"roles": ["reviewer", 3]}, "claim roles"),
    ],
)
def test_malformed_identity_claims_refused(
    jwks_settings: AuthSettings,
    es_key: SigningKey,
    overrides: dict[str, object],
    reason: str,
) -> None:
    token = jwt.encode(
        _claims(**overrides), es_key.private_key, algorithm="ES256", headers={"kid": "es-1"}
    )

    with pytest.raises(TokenRefused, match=reason):
        TokenVerifier(jwks_settings).verify(token)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 9000])
def test_garbage_refused(jwks_settings: AuthSettings, token: str) -> None:
    with pytest.raises(TokenRefused):
        TokenVerifier(jwks_settings).verify(token)


def test_shared_secret_needs_explicit_permission() -> None:
    with pytest.raises(ValidationError, match="allow_shared_secret"):
        AuthSettings(issuer=ISSUER, audience=AUDIENCE, shared_secret="s" * 40)


def test_short_shared_secret_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        AuthSettings(
            issuer=ISSUER, audience=AUDIENCE, shared_secret="short", allow_shared_secret=True
        )


def test_hs256_accepted_when_embedded_profile_allows_it() -> None:
    key = generate_signing_key("HS256", kid="dev")
    settings = AuthSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        shared_secret=key.private_key.decode(),
        allow_shared_secret=True,
    )
    token = mint_token(key, subject="dev", tenant="t", roles=[], issuer=ISSUER, audience=AUDIENCE)

    assert TokenVerifier(settings).verify(token).subject == "dev"


def test_asymmetric_verifier_refuses_hs256_even_with_a_matching_secret(
    jwks_settings: AuthSettings,
) -> None:
    key = generate_signing_key("HS256", kid="es-1")
    token = mint_token(key, subject="dev", tenant="t", roles=[], issuer=ISSUER, audience=AUDIENCE)

    with pytest.raises(TokenRefused, match="algorithm HS256 refused"):
        TokenVerifier(jwks_settings).verify(token)


def test_settings_need_exactly_one_key_source(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        AuthSettings(issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValidationError, match="exactly one"):
        AuthSettings(
            issuer=ISSUER,
            audience=AUDIENCE,
            jwks_path=tmp_path / "a.json",
            public_key_path=tmp_path / "b.pem",
        )


def test_jwks_with_symmetric_key_refused_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}))

    with pytest.raises(AuthConfigError, match="HS256 is not one of"):
        TokenVerifier(AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=path))


def test_jwks_with_weak_rsa_key_refused(tmp_path: Path) -> None:
    weak = SigningKey("weak", "RS256", rsa.generate_private_key(65537, 1024))
    path = write_jwks(tmp_path / "jwks.json", [weak])

    with pytest.raises(AuthConfigError, match="1024 bits"):
        TokenVerifier(AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=path))


def test_jwks_encryption_keys_never_verify(
    tmp_path: Path, es_key: SigningKey, make_token: TokenFactory
) -> None:
    signing = generate_signing_key("ES256", kid="sig")
    encryption = {**es_key.public_jwk(), "use": "enc"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [signing.public_jwk(), encryption]}))
    verifier = TokenVerifier(AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=path))

    with pytest.raises(TokenRefused, match="no trusted key"):
        verifier.verify(make_token(key=es_key))


def test_unreadable_jwks_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"

    with pytest.raises(AuthConfigError, match=r"missing\.json"):
        TokenVerifier(AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=path))
