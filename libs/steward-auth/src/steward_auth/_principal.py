"""The verified identity a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """A subject of one tenant holding a set of roles, taken from a verified token."""

    subject: str
    tenant: str
    roles: frozenset[str]
    expires_at: datetime
    token_id: str | None = None

    def has_any_role(self, *roles: str) -> bool:
        """Tell whether the principal holds at least one of the given roles."""
        return not self.roles.isdisjoint(roles)
