"""When the ledger signs checkpoints and how long each event type keeps its payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Sign a checkpoint every `every_events` events or `every_seconds`, whichever comes first."""

    every_events: int = 1000
    every_seconds: float = 60.0

    def __post_init__(self) -> None:
        """Refuse intervals that would never or always fire."""
        if self.every_events < 1 or self.every_seconds <= 0:
            raise ValueError(
                f"Invalid checkpoint policy: every_events={self.every_events},"
                f" every_seconds={self.every_seconds}; expected at least 1 event and a positive"
                " number of seconds"
            )

    def is_due(self, events_since: int, seconds_since: float) -> bool:
        """Tell whether unsigned events have waited long enough or piled up enough."""
        if events_since <= 0:
            return False
        return events_since >= self.every_events or seconds_since >= self.every_seconds


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long the payload of each event type is kept; types not named are kept forever."""

    periods: Mapping[str, timedelta] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse negative periods."""
        for event_type, period in self.periods.items():
            if period < timedelta(0):
                raise ValueError(
                    f"Invalid retention period for {event_type}: {period}, expected >= 0"
                )

    @classmethod
    def from_days(cls, days: Mapping[str, float]) -> RetentionPolicy:
        """Build a policy from a mapping of event type to days."""
        return cls(periods={kind: timedelta(days=value) for kind, value in days.items()})
