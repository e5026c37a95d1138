"""One pipeline of real service processes for the whole end-to-end session, corpus ingested."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from steward_infra import LocalStack
from steward_trainer.gguf_adapter import LORA_CONVERTER

# The pipeline kit under test is this checkout's, whichever one the shared venv points at.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "libs" / "steward-cli" / "src"))

from steward_cli.pipeline import (
    Pipeline,
    corpus_documents,
    corpus_folder,
    own_namespace,
)

TENANT = "riverland-revenue"
ROOT = Path(__file__).resolve().parents[2]
# The trainer gates candidates through this pipeline on one golden question of each kind; its
# base model cache is the one the other tests share, and the converter is `make trainer-tools`'.
TRAINER_ENVIRONMENT = {
    "STEWARD_TRAINER_GOLDEN_LIMIT": "1",
    "STEWARD_TRAINER_BASE_CACHE": str(ROOT / ".steward" / "test" / "base"),
    "STEWARD_TRAINER_LORA_CONVERTER": str(ROOT / LORA_CONVERTER),
}


async def _own_database(dsn: str) -> str:
    """Create a database of this session's own on the cluster; return its DSN."""
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return dsn.rsplit("/", 1)[0] + f"/{name}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pipeline(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    """Every service as its own process, on the session broker and a database of its own."""
    folder = corpus_folder()
    if not folder.is_dir():
        pytest.fail(f"the test corpus is missing at {folder}; set STEWARD_CORPUS")
    running = Pipeline(
        workdir=tmp_path_factory.mktemp("e2e"),
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=await _own_database(stack.postgres.dsn),
        namespace=own_namespace(),
        extra_environment=TRAINER_ENVIRONMENT,
    )
    try:
        await running.start()
        outcomes = await running.ingest(corpus_documents(folder), tenant=TENANT)
        failed = [o for o in outcomes if o.status not in {"indexed", "unchanged"}]
        assert not failed, failed
        yield running
    finally:
        exited = running.stop()
        running_still = {
            name: pid
            for name, pid in (running.supervisor.pids() if running.supervisor else {}).items()
            if name not in exited
        }
        assert not running_still, f"still running after stop: {running_still}"
