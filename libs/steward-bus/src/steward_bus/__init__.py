"""Steward's Kafka runtime: envelope stamping, idempotent consumers, dead-letter topics, traces."""

from steward_bus.replay import ReplayError, ReplaySession, ReplayTimeout, ReplayTrace
from steward_bus.runtime import (
    BusError,
    BusStats,
    MissingContext,
    NotStarted,
    PermanentError,
    PublishFailed,
    Service,
    current_event,
)
from steward_bus.settings import BusSettings, ConsumerTiming
from steward_bus.telemetry import configure_logging, configure_tracing
from steward_bus.topics import contract_topics, ensure_topics

__all__ = [
    "BusError",
    "BusSettings",
    "BusStats",
    "ConsumerTiming",
    "MissingContext",
    "NotStarted",
    "PermanentError",
    "PublishFailed",
    "ReplayError",
    "ReplaySession",
    "ReplayTimeout",
    "ReplayTrace",
    "Service",
    "configure_logging",
    "configure_tracing",
    "contract_topics",
    "current_event",
    "ensure_topics",
]
