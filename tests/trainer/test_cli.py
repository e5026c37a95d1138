"""`steward datasets export` and `steward report` against the session's PostgreSQL and broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from steward_cli.main import app
from steward_trainer.settings import TrainerSettings
from steward_trainer.store import TrainerStore
from typer.testing import CliRunner

TENANT = "riverland-revenue"


async def _seed(settings: TrainerSettings) -> None:
    store = await TrainerStore.connect(settings.database_url, settings.trainer_db_schema)
    try:
        await store.note_conversation(
            TENANT, "conv-1", consent=True, question="Is Direct File free?", draft="Yes."
        )
        await store.record_review(
            TENANT,
            "review-1",
            "conv-1",
            decision="approve",
            question=None,
            draft="Yes.",
            final=None,
            decided_at=datetime.now(UTC),
        )
        now = datetime.now(UTC)
        await store.add_signals(
            [
                (TENANT, now - timedelta(days=day), "en", "chat", metric, value)
                for day in range(7)
                for metric, value in (("blocked", 0.1 * (day % 3)), ("feedback", 0.8))
            ]
        )
    finally:
        await store.close()


def test_export_and_report_commands(settings: TrainerSettings, tmp_path: Path) -> None:
    asyncio.run(_seed(settings))
    environment = {
        "STEWARD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "STEWARD_DATABASE_URL": settings.database_url,
        "STEWARD_TOPIC_NAMESPACE": settings.topic_namespace,
        "STEWARD_OTEL_EXPORTER": "none",
        "STEWARD_TRAINER_DB_SCHEMA": settings.trainer_db_schema,
        "STEWARD_TRAINER_DATA_DIR": str(settings.trainer_data_dir),
    }
    runner = CliRunner()

    exported = runner.invoke(
        app, ["datasets", "export", "--tenant", TENANT, "--kind", "sft"], env=environment
    )
    assert exported.exit_code == 0, exported.output
    assert "feedback-sft v0001" in exported.output and "rows 1" in exported.output
    empty = runner.invoke(
        app, ["datasets", "export", "--tenant", TENANT, "--kind", "dpo"], env=environment
    )
    assert empty.exit_code == 1 and "No dpo rows" in empty.output

    chart = tmp_path / "report.png"
    reported = runner.invoke(
        app, ["report", "--tenant", TENANT, "--output", str(chart)], env=environment
    )
    assert reported.exit_code == 0, reported.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
