"""Strict bearer-JWT verification and role checks for Steward's HTTP edges."""

from steward_auth._development import (
    DEFAULT_DEV_AUTH_DIR,
    DEV_AUDIENCE,
    DEV_ISSUER,
    DevelopmentKeys,
    edge_auth_settings,
    ensure_development_keys,
)
from steward_auth._errors import AccessDenied, AuthConfigError, AuthError, TokenRefused
from steward_auth._fastapi import authorize, bearer_token, require_roles
from steward_auth._keys import KeyRing, VerificationKey, load_key_ring
from steward_auth._mint import SigningKey, generate_signing_key, mint_token, write_jwks
from steward_auth._principal import Principal
from steward_auth._settings import AuthSettings
from steward_auth._verify import TokenVerifier

__all__ = [
    "DEFAULT_DEV_AUTH_DIR",
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "AccessDenied",
    "AuthConfigError",
    "AuthError",
    "AuthSettings",
    "DevelopmentKeys",
    "KeyRing",
    "Principal",
    "SigningKey",
    "TokenRefused",
    "TokenVerifier",
    "VerificationKey",
    "authorize",
    "bearer_token",
    "edge_auth_settings",
    "ensure_development_keys",
    "generate_signing_key",
    "load_key_ring",
    "mint_token",
    "require_roles",
    "write_jwks",
]
