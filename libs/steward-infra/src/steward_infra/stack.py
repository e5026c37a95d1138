"""The embedded stack as one unit: the broker and PostgreSQL, configured from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from steward_infra.broker import LocalBroker
from steward_infra.postgres import LocalPostgres


class InfraSettings(BaseSettings):
    """Where the embedded infrastructure lives and listens (prefix STEWARD_)."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    data_dir: Path = Path(".steward")
    broker_port: int = Field(default=9092, ge=1, le=65535)
    pg_port: int = Field(default=5433, ge=1, le=65535)


@dataclass(frozen=True)
class LocalStack:
    """The broker and PostgreSQL cluster that the embedded profile runs on."""

    broker: LocalBroker
    postgres: LocalPostgres

    @classmethod
    def from_settings(cls, settings: InfraSettings | None = None) -> LocalStack:
        """The stack described by the environment, or by the given settings."""
        settings = settings or InfraSettings()
        return cls(
            broker=LocalBroker(port=settings.broker_port, data_dir=settings.data_dir / "broker"),
            postgres=LocalPostgres(port=settings.pg_port, data_dir=settings.data_dir / "postgres"),
        )

    def start(self) -> list[str]:
        """Start both components, each a no-op when it already runs; name those started."""
        started = ["broker"] if self.broker.start() else []
        try:
            if self.postgres.start():
                started.append("postgres")
        except Exception:
            if started:
                self.broker.stop()
            raise
        return started

    def stop_started(self, started: list[str]) -> None:
        """Stop the components a `start()` call reported starting, and no others."""
        if "broker" in started:
            self.broker.stop()
        if "postgres" in started:
            self.postgres.stop()

    def stop(self) -> None:
        """Stop both components."""
        self.broker.stop()
        self.postgres.stop()

    def environment(self) -> dict[str, str]:
        """The variables that point Steward's services at this stack."""
        return {
            "STEWARD_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "STEWARD_DATABASE_URL": self.postgres.dsn,
        }
