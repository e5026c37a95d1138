"""Which model answers for a tenant, the canary share, and the kill switch."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from steward_inference._errors import RouteUnavailableError


@dataclass(frozen=True)
class ModelChoice:
    """A base model, its revision and optionally a LoRA adapter on top of it."""

    model: str
    revision: str | None = None
    adapter: str | None = None


@dataclass(frozen=True)
class Promotion:
    """A model.promoted decision: the choice a tenant moves to and the share it gets."""

    tenant: str
    choice: ModelChoice
    canary_share: float = 1.0


@dataclass(frozen=True)
class ResolvedRoute:
    """The model choice one request gets, and whether it fell in the canary share."""

    tenant: str
    route: str
    choice: ModelChoice
    canary: bool


class KillScope(StrEnum):
    """What a kill switch names: a tenant, a route (use case) or a model or adapter."""

    TENANT = "tenant"
    ROUTE = "route"
    MODEL = "model"


@dataclass(frozen=True)
class _TenantModels:
    stable: ModelChoice
    canary: ModelChoice | None = None
    canary_share: float = 0.0


def canary_bucket(tenant: str, correlation_id: str) -> float:
    """Map a correlation id to [0, 1) the same way on every worker and every retry."""
    digest = hashlib.sha256(f"{tenant}\x00{correlation_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class RouteTable:
    """Per-tenant active models with canaries, and switches that stop generation at once."""

    def __init__(self, default: ModelChoice) -> None:
        self.default = default
        self._tenants: dict[str, _TenantModels] = {}
        self._disabled: set[tuple[KillScope, str]] = set()

    def promote(self, promotion: Promotion) -> None:
        """Apply a promotion: a full share replaces the stable model, a partial one is a canary."""
        share = promotion.canary_share
        if not 0.0 <= share <= 1.0:
            raise ValueError(
                f"canary_share for tenant {promotion.tenant!r} must be within [0, 1], got {share}"
            )
        current = self._tenants.get(promotion.tenant, _TenantModels(stable=self.default))

        # LIMITATION: promotions apply in arrival order; a sequence number on model.promoted
        # would let a redelivered older promotion be ignored.

        # A zero share withdraws the canary; a full share makes the choice the stable model.
        if share == 0.0:
            updated = _TenantModels(stable=current.stable)
        elif share == 1.0:
            updated = _TenantModels(stable=promotion.choice)
        else:
            updated = _TenantModels(
                stable=current.stable, canary=promotion.choice, canary_share=share
            )
        self._tenants[promotion.tenant] = updated

    def resolve(self, *, tenant: str, route: str, correlation_id: str) -> ResolvedRoute:
        """Pick the model for one request, or raise RouteUnavailableError if it is switched off."""
        models = self._tenants.get(tenant, _TenantModels(stable=self.default))
        in_canary = (
            models.canary is not None
            and canary_bucket(tenant, correlation_id) < models.canary_share
        )
        choice = models.canary if in_canary and models.canary is not None else models.stable

        resolved = ResolvedRoute(tenant=tenant, route=route, choice=choice, canary=in_canary)
        self.ensure_enabled(resolved)
        return resolved

    def ensure_enabled(self, resolved: ResolvedRoute) -> None:
        """Raise RouteUnavailableError if any switch covers this tenant, route or model."""
        hit = self.stopped_by(resolved)
        if hit is not None:
            scope, value = hit
            raise RouteUnavailableError(
                f"Generation is disabled for {scope.value} {value!r} (tenant {resolved.tenant!r}, "
                f"route {resolved.route!r}, model {resolved.choice.model!r})",
                scope=scope.value,
                value=value,
            )

    def stopped_by(self, resolved: ResolvedRoute) -> tuple[KillScope, str] | None:
        """Return the switch that stops this route, or None when generation may go ahead."""
        candidates = [
            (KillScope.TENANT, resolved.tenant),
            (KillScope.ROUTE, resolved.route),
            (KillScope.MODEL, resolved.choice.model),
        ]
        if resolved.choice.adapter is not None:
            candidates.append((KillScope.MODEL, resolved.choice.adapter))
        for candidate in candidates:
            if candidate in self._disabled:
                return candidate
        return None

    def disable(self, scope: KillScope | str, value: str) -> None:
        """Stop generation for a tenant, route or model until enabled again."""
        self._disabled.add((KillScope(scope), value))

    def enable(self, scope: KillScope | str, value: str) -> None:
        """Resume generation for a tenant, route or model; enabling an open one does nothing."""
        self._disabled.discard((KillScope(scope), value))

    def disabled(self) -> set[tuple[KillScope, str]]:
        """Return the switches now off."""
        return set(self._disabled)
