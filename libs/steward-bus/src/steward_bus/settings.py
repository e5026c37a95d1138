"""Settings every Steward service reads from the environment (prefix STEWARD_)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

REPLAY_PREFIX = "replay."


@dataclass(frozen=True)
class ConsumerTiming:
    """Group-membership and fetch timing for Kafka consumers."""

    session_timeout_ms: int
    heartbeat_interval_ms: int
    fetch_max_wait_ms: int


# The embedded broker polls fetches, so latency follows fetch_max_wait_ms, and group joins
# wait half the session timeout; real Kafka refuses session timeouts under 6 s.
_EMBEDDED_TIMING = ConsumerTiming(
    session_timeout_ms=2_000, heartbeat_interval_ms=300, fetch_max_wait_ms=10
)
_KAFKA_TIMING = ConsumerTiming(
    session_timeout_ms=10_000, heartbeat_interval_ms=3_000, fetch_max_wait_ms=500
)


class BusSettings(BaseSettings):
    """Bus, database and telemetry settings; each service's settings class extends this one."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    profile: Literal["embedded", "kafka"] = "embedded"
    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://steward@127.0.0.1:5433/steward"
    topic_namespace: str = Field(
        default="",
        pattern=r"^([a-z0-9-]{1,40}\.)?$",
        description="Prefix for every topic, e.g. 't1234.' for a test of its own.",
    )
    serve_replay: bool = Field(
        default=False,
        description=(
            "Also consume the replay twins of the topics a service marks as replayable, in the "
            "same consumers; effects of a replayed event go to the replay namespace."
        ),
    )
    publish_timeout_ms: PositiveInt = Field(
        default=10_000,
        description="How long a publish waits for the broker before it fails.",
    )
    topic_partitions: PositiveInt = 3
    topic_replication: PositiveInt = 1
    max_batch: PositiveInt = 500
    retry_attempts: PositiveInt = 3
    retry_initial_seconds: float = Field(default=0.05, gt=0)
    retry_max_seconds: float = Field(default=2.0, gt=0)
    processed_retention_days: PositiveInt = 7
    processed_synchronous_commit: bool = Field(
        default=False,
        description=(
            "Wait for the WAL flush when recording processed event ids. Off, only a crash of "
            "PostgreSQL itself can lose the newest records, which at worst re-delivers events."
        ),
    )
    commit_interval_ms: PositiveInt = Field(
        default=200,
        description="How often handled offsets are committed; a crash re-delivers at most this.",
    )
    session_timeout_ms: PositiveInt | None = None
    heartbeat_interval_ms: PositiveInt | None = None
    fetch_max_wait_ms: PositiveInt | None = None

    otel_exporter: Literal["none", "console", "file", "otlp"] = "file"
    otel_endpoint: str | None = None
    trace_sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded; a request keeps its first service's choice.",
    )
    trace_dir: Path = Path(".steward/traces")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @property
    def replay_namespace(self) -> str:
        """The prefix of the replay namespace, which citizens' services never read."""
        return self.topic_namespace + REPLAY_PREFIX

    def consumer_timing(self) -> ConsumerTiming:
        """The profile's consumer timing with any explicit overrides applied."""
        base = _EMBEDDED_TIMING if self.profile == "embedded" else _KAFKA_TIMING
        return ConsumerTiming(
            session_timeout_ms=self.session_timeout_ms or base.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_interval_ms or base.heartbeat_interval_ms,
            fetch_max_wait_ms=self.fetch_max_wait_ms or base.fetch_max_wait_ms,
        )

    @property
    def idempotent_producer(self) -> bool:
        """Kafka's idempotent producer; the embedded broker cannot do it."""
        return self.profile == "kafka"
