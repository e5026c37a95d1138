"""Session fixtures every test folder shares: the real broker and PostgreSQL, started here."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from steward_infra import LocalBroker, LocalPostgres, LocalStack, free_port

ROOT = Path(__file__).parent

# Test modules are imported by path; the shared test kits that sit beside them in each
# package's tests folder are importable by name through this.
for tests_folder in sorted(ROOT.glob("*/*/tests")):
    if tests_folder.parts[-3] in {"libs", "services"}:
        sys.path.insert(0, str(tests_folder))


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """A broker and PostgreSQL cluster of the test session's own, on free ports."""
    data_dir = Path(os.environ.get("STEWARD_TEST_DATA_DIR", ROOT / ".steward" / "test"))
    local = LocalStack(
        broker=LocalBroker(port=free_port(), data_dir=data_dir / "broker"),
        postgres=LocalPostgres(port=free_port(), data_dir=data_dir / "postgres"),
    )
    # A cluster left running by an interrupted session holds the folder: stop it first.
    local.postgres.stop()
    local.start()
    yield local
    local.stop()


@pytest.fixture
def namespace() -> str:
    """A topic namespace of the test's own, so tests never see each other's messages."""
    return f"t{uuid.uuid4().hex[:12]}."
