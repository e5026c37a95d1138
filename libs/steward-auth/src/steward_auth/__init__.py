"""Strict bearer-JWT verification and role checks for Steward's HTTP edges."""

from steward_auth._errors import AccessDenied, AuthConfigError, AuthError, TokenRefused
from steward_auth._fastapi import authorize, bearer_token, require_roles
from steward_auth._keys import KeyRing, VerificationKey, load_key_ring
from steward_auth._mint import SigningKey, generate_signing_key, mint_token, write_jwks
from steward_auth._principal import Principal
from steward_auth._settings import AuthSettings
from steward_auth._verify import TokenVerifier

__all__ = [
    "AccessDenied",
    "AuthConfigError",
    "AuthError",
    "AuthSettings",
    "KeyRing",
    "Principal",
    "SigningKey",
    "TokenRefused",
    "TokenVerifier",
    "VerificationKey",
    "authorize",
    "bearer_token",
    "generate_signing_key",
    "load_key_ring",
    "mint_token",
    "require_roles",
    "write_jwks",
]
