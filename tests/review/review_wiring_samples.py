"""What the review service tests share: tenants, the policy, and the running desk's parts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from steward_auth import DevelopmentKeys
    from steward_bus import Service
    from steward_events import Envelope
    from steward_review.app import ReviewService

TENANT = "agency-a"
OTHER_TENANT = "agency-b"
CONTACT_ROUTE = "311 or help@agency-a.gov"
POLICY = f"""
default:
  contact_route: "{CONTACT_ROUTE}"
  sla_minutes: {{urgent: 15, high: 60, normal: 240, low: 1440}}
"""


@dataclass
class Observed:
    """Events the observer consumed, by correlation id."""

    decided: dict[str, list[Envelope[Any]]] = field(default_factory=lambda: defaultdict(list))
    escalated: dict[str, list[Envelope[Any]]] = field(default_factory=lambda: defaultdict(list))
    responded: dict[str, list[Envelope[Any]]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Desk:
    """A running review service and what a test needs around it."""

    review: ReviewService
    guardrail: Service
    observer: Service
    observed: Observed
    keys: DevelopmentKeys
    http: httpx.AsyncClient

    def token(self, tenant: str = TENANT, roles: tuple[str, ...] = ("reviewer",)) -> str:
        return self.keys.mint(subject=f"ann@{tenant}.gov", tenant=tenant, roles=list(roles))
