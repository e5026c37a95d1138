"""Exceptions raised while checking a bearer token, arranged so callers catch by meaning."""

from __future__ import annotations


class AuthError(Exception):
    """Base class for every refusal or misconfiguration in steward_auth."""


class AuthConfigError(AuthError):
    """The verifier's settings or key material are unusable."""


class TokenRefused(AuthError):
    """The token is missing, malformed, unsigned, badly signed or no longer valid (HTTP 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccessDenied(AuthError):
    """The token is valid but does not grant this role or tenant (HTTP 403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
