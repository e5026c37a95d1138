"""Alerts from the monitoring of live traffic."""

from __future__ import annotations

from enum import StrEnum

from steward_events.envelope import EventData, event_type
from steward_events.types import Labels, Name, NonNegativeInt, ShortText


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@event_type("monitor.alert_raised", 1)
class MonitorAlertRaised(EventData):
    """A monitored figure crossed its threshold."""

    alert_id: Name
    metric: Name
    value: float
    threshold: float
    window_seconds: NonNegativeInt
    dimensions: Labels
    severity: Severity
    message: ShortText
