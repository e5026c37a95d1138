"""Development signing keys and tokens for tests and the embedded profile."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from steward_auth._errors import AuthConfigError

DEVELOPMENT_ALGORITHMS = ("ES256", "RS256", "HS256")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key (or shared secret) that mints tokens, with its kid and algorithm."""

    kid: str
    algorithm: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        """Return the public half as a JWK carrying kid, alg and use."""
        if self.algorithm == "RS256":
            jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        elif self.algorithm == "ES256":
            jwk = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        else:
            raise AuthConfigError(
                f"a {self.algorithm} key has no public half to publish in a JWKS"
            )
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def generate_signing_key(algorithm: str = "ES256", kid: str | None = None) -> SigningKey:
    """Create a fresh key for one of ES256, RS256 or HS256."""
    kid = kid or uuid.uuid4().hex[:12]
    if algorithm == "ES256":
        return SigningKey(kid, algorithm, ec.generate_private_key(ec.SECP256R1()))
    if algorithm == "RS256":
        return SigningKey(kid, algorithm, rsa.generate_private_key(65537, 2048))
    if algorithm == "HS256":
        return SigningKey(kid, algorithm, secrets.token_urlsafe(48).encode())
    raise AuthConfigError(f"algorithm {algorithm} unsupported, expected {DEVELOPMENT_ALGORITHMS}")


def write_jwks(path: Path, keys: list[SigningKey]) -> Path:
    """Write the public halves of the keys as a JWKS document and return its path."""
    document = {"keys": [key.public_jwk() for key in keys]}
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def mint_token(
    key: SigningKey,
    *,
    subject: str,
    tenant: str,
    roles: list[str],
    issuer: str,
    audience: str,
    lifetime: timedelta = timedelta(hours=1),
    now: datetime | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """Sign a token with every claim the verifier requires."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "iss": issuer,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    claims.update(extra_claims or {})

    return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})
