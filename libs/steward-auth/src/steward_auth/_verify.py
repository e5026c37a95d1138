"""Strict verification of a bearer JWT into a Principal."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
)

from steward_auth._errors import TokenRefused
from steward_auth._keys import KeyRing, load_key_ring
from steward_auth._principal import Principal
from steward_auth._settings import AuthSettings

REQUIRED_CLAIMS = ("exp", "nbf", "iss", "aud", "sub")

# A real token is a few hundred bytes; a huge one is an attempt to make parsing expensive.
MAX_TOKEN_BYTES = 8192

# The same rule as the event contract's tenant ids, so a verified tenant always fits an event.
_TENANT = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class TokenVerifier:
    """Checks signature, algorithm, expiry, not-before, issuer and audience of bearer tokens."""

    def __init__(self, settings: AuthSettings, key_ring: KeyRing | None = None) -> None:
        self._settings = settings
        self._keys = key_ring if key_ring is not None else load_key_ring(settings)

    @property
    def settings(self) -> AuthSettings:
        """The settings this verifier was built from."""
        return self._settings

    def verify(self, token: str) -> Principal:
        """Return the principal a token names, or raise TokenRefused with a reason."""
        if not token or len(token) > MAX_TOKEN_BYTES:
            raise TokenRefused(f"token length {len(token)} is outside 1..{MAX_TOKEN_BYTES}")

        # Pick the key and algorithm from our own ring; the header only names a candidate.
        header = _unverified_header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise TokenRefused("unsigned token (alg none) refused")
        if algorithm not in self._keys.algorithms:
            raise TokenRefused(
                f"algorithm {algorithm} refused, expected one of {sorted(self._keys.algorithms)}"
            )
        kid = header.get("kid")
        key = self._keys.find(kid if isinstance(kid, str) else None)
        if key is None:
            raise TokenRefused(f"no trusted key with kid {kid!r}")
        if key.algorithm != algorithm:
            raise TokenRefused(f"algorithm {algorithm} refused for a key bound to {key.algorithm}")

        claims = self._decode(token, key.key, algorithm)

        return self._principal(claims)

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        """Verify the signature and registered claims, translating each failure to a reason."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except ExpiredSignatureError as error:
            raise TokenRefused("token expired") from error
        except ImmatureSignatureError as error:
            raise TokenRefused("token not valid yet (nbf in the future)") from error
        except InvalidIssuerError as error:
            raise TokenRefused(f"wrong issuer, expected {self._settings.issuer}") from error
        except InvalidAudienceError as error:
            raise TokenRefused(f"wrong audience, expected {self._settings.audience}") from error
        except MissingRequiredClaimError as error:
            raise TokenRefused(f"required claim {error.claim} missing") from error
        except InvalidSignatureError as error:
            raise TokenRefused("signature does not verify with the trusted key") from error
        except InvalidTokenError as error:
            # PyJWT messages describe the structure, never echo the token itself.
            raise TokenRefused(f"invalid token: {error}") from error
        return claims

    def _principal(self, claims: dict[str, Any]) -> Principal:
        """Build a Principal from verified claims, refusing missing tenant or malformed roles."""
        subject = claims["sub"]
        tenant = claims.get(self._settings.tenant_claim)
        roles = claims.get(self._settings.roles_claim, [])
        if not isinstance(subject, str) or not subject:
            raise TokenRefused("claim sub must be a non-empty string")
        if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
            raise TokenRefused(
                f"claim {self._settings.tenant_claim} must be a tenant id: lowercase letters, "
                "digits and inner hyphens, at most 63 characters"
            )
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise TokenRefused(f"claim {self._settings.roles_claim} must be a list of strings")

        token_id = claims.get("jti")
        return Principal(
            subject=subject,
            tenant=tenant,
            roles=frozenset(roles),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
            token_id=token_id if isinstance(token_id, str) else None,
        )


def _unverified_header(token: str) -> dict[str, Any]:
    """Read the JOSE header so the verifier can refuse before touching any key."""
    try:
        header = jwt.get_unverified_header(token)
    except InvalidTokenError as error:
        raise TokenRefused(f"malformed token: {error}") from error
    return header
