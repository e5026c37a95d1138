"""Operator controls: the kill switch for generation."""

from __future__ import annotations

from pydantic import model_validator

from steward_events.envelope import EventData, event_type
from steward_events.types import Name, Pseudonym, ShortText


class _Scope(EventData):
    """What a control applies to: a tenant's route, a model, or everything if all are empty."""

    route: Name | None = None
    model: Name | None = None
    actor: Pseudonym
    reason: ShortText

    @model_validator(mode="after")
    def _reason_given(self) -> _Scope:
        if not self.reason.strip():
            raise ValueError("a reason is required")
        return self


@event_type("control.route_disabled", 1)
class RouteDisabled(_Scope):
    """Stop generation for the tenant, a route or a model, effective at once."""


@event_type("control.route_enabled", 1)
class RouteEnabled(_Scope):
    """Resume generation that a RouteDisabled stopped."""
