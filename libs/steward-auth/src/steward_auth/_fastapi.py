"""FastAPI dependencies that turn a bearer token into a Principal or a 401/403 answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from fastapi import HTTPException, Request, status

from steward_auth._errors import AccessDenied, TokenRefused
from steward_auth._principal import Principal
from steward_auth._verify import TokenVerifier

log = structlog.get_logger("steward_auth")

PrincipalDependency = Callable[[Request], Awaitable[Principal]]


def bearer_token(request: Request, cookie_name: str | None = None) -> str:
    """Take the token from the Authorization header, else from the named cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefused("Authorization header must be 'Bearer <token>'")
        return token.strip()

    if cookie_name is not None:
        cookie = request.cookies.get(cookie_name)
        if cookie:
            return cookie
    raise TokenRefused("no bearer token in the Authorization header or session cookie")


def authorize(
    principal: Principal,
    roles: tuple[str, ...],
    tenant: str | None,
) -> None:
    """Raise AccessDenied unless the principal holds one of the roles and acts for the tenant."""
    if roles and not principal.has_any_role(*roles):
        wanted = " or ".join(roles)
        raise AccessDenied(f"role {wanted} required, token has {sorted(principal.roles)}")
    if tenant is not None and tenant != principal.tenant:
        raise AccessDenied(f"token is for tenant {principal.tenant}, not {tenant}")


def require_roles(
    verifier: TokenVerifier,
    *roles: str,
    cookie_name: str | None = None,
    tenant_path_param: str = "tenant",
) -> PrincipalDependency:
    """Build a dependency that admits a verified principal holding any of the roles."""

    async def dependency(request: Request) -> Principal:
        """Verify the request's token and check its roles and the tenant in the path."""
        try:
            principal = verifier.verify(bearer_token(request, cookie_name))
        except TokenRefused as refusal:
            _log_refusal(request, status.HTTP_401_UNAUTHORIZED, refusal.reason, None)
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail=refusal.reason,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None

        try:
            authorize(principal, roles, request.path_params.get(tenant_path_param))
        except AccessDenied as denial:
            _log_refusal(request, status.HTTP_403_FORBIDDEN, denial.reason, principal)
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN, detail=denial.reason
            ) from None
        return principal

    return dependency


def _log_refusal(request: Request, code: int, reason: str, principal: Principal | None) -> None:
    """Write one structured line per refusal, naming the subject but never the token."""
    log.warning(
        "auth.refused",
        status=code,
        reason=reason,
        method=request.method,
        path=request.url.path,
        subject=principal.subject if principal else None,
        tenant=principal.tenant if principal else None,
    )
