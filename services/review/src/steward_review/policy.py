"""Per-tenant review policy: SLA per priority, the two-reviewer rule and citizen messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from steward_review.errors import PolicyError
from steward_review.model import Priority

DEFAULT_SLA_MINUTES = {
    Priority.URGENT: 15,
    Priority.HIGH: 60,
    Priority.NORMAL: 240,
    Priority.LOW: 1440,
}


class TenantPolicy(BaseModel):
    """How one agency wants its review items handled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sla_minutes: dict[Priority, PositiveInt] = Field(
        default_factory=lambda: dict(DEFAULT_SLA_MINUTES)
    )
    high_impact: bool = False
    contact_route: str = Field(default="the agency's public contact line", max_length=300)
    decline_message: str = Field(
        default=(
            "We could not give an answer to this question here. Please contact {contact_route}."
        ),
        max_length=5_000,
    )
    # Short enough to travel in an event's short-text field.
    holding_message: str | None = Field(
        default="A person is still checking the answer to your question; thank you for waiting.",
        max_length=1_000,
    )
    ai_notice: str | None = Field(
        default="This answer was drafted with an AI assistant and checked by a person.",
        max_length=1_000,
    )

    def due_at(self, priority: Priority, requested_at: datetime) -> datetime:
        """Return when an item of this priority must be decided."""
        minutes = self.sla_minutes.get(priority, DEFAULT_SLA_MINUTES[priority])
        return requested_at + timedelta(minutes=minutes)

    def decline_text(self) -> str:
        """Return what the citizen reads when a reviewer rejects the answer."""
        return self.decline_message.format(contact_route=self.contact_route)


class PolicyBook(BaseModel):
    """The default policy and each tenant's overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: TenantPolicy = Field(default_factory=TenantPolicy)
    tenants: dict[str, TenantPolicy] = Field(default_factory=dict)

    def for_tenant(self, tenant: str) -> TenantPolicy:
        """Return the tenant's policy, or the default for a tenant not named."""
        return self.tenants.get(tenant, self.default)

    @classmethod
    def from_mapping(cls, document: dict[str, Any]) -> PolicyBook:
        """Build a book where each tenant entry overrides only the default's fields it names."""
        default = TenantPolicy.model_validate(document.get("default") or {})
        tenants = {
            name: TenantPolicy.model_validate({**default.model_dump(), **(overrides or {})})
            for name, overrides in (document.get("tenants") or {}).items()
        }
        return cls(default=default, tenants=tenants)

    @classmethod
    def from_yaml(cls, path: Path) -> PolicyBook:
        """Load a policy book from a YAML file with `default` and `tenants` keys."""
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise PolicyError(f"cannot read review policy {path}: {error}") from error
        if not isinstance(document, dict):
            raise PolicyError(f"review policy {path} must be a mapping, got {type(document)}")

        try:
            return cls.from_mapping(document)
        except ValidationError as error:
            raise PolicyError(f"review policy {path} is malformed: {error}") from error
