"""A replay-serving pipeline in one process: ingestion, indexer, guardrail, inference, ledger."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from steward_auth import AuthSettings, generate_signing_key, mint_token, write_jwks
from steward_bus import BusSettings
from steward_infra import LocalStack

ROOT = Path(__file__).resolve().parents[2]
# `steward replay` as this checkout has it.
sys.path.insert(0, str(ROOT / "libs" / "steward-cli" / "src"))

from steward_cli.ingest import collect_documents, ingest_documents  # noqa: E402
from steward_guardrail import Guardrail, OriginalsCipher  # noqa: E402
from steward_guardrail.app import GuardrailService  # noqa: E402
from steward_guardrail.embedding import shared_embedder  # noqa: E402
from steward_guardrail.settings import GuardrailSettings  # noqa: E402
from steward_indexer import ChunkEmbedder  # noqa: E402
from steward_indexer.app import IndexerService  # noqa: E402
from steward_indexer.settings import IndexerSettings  # noqa: E402
from steward_inference import (  # noqa: E402
    EmbeddedLlama,
    InferenceWorker,
    ModelChoice,
    PromptRegistry,
    RouteTable,
)
from steward_inference.app import InferenceService, InferenceServiceSettings  # noqa: E402
from steward_ingestion import WordPieceCounter  # noqa: E402
from steward_ingestion.app import IngestionService  # noqa: E402
from steward_ingestion.settings import IngestionSettings  # noqa: E402
from steward_ledger.app import LedgerService  # noqa: E402
from steward_ledger.settings import LedgerSettings  # noqa: E402

TENANT = "riverland-revenue"
POLICIES = ROOT / "services" / "guardrail" / "policies"
CORPUS = Path(os.environ.get("STEWARD_CORPUS", ROOT.parent / "shared" / "corpus"))
DOCUMENT = "003-usagov-wheres-my-refund.md"
# An earlier policy version kept in the archive: stricter about groundedness.
ARCHIVED_VERSION = "2026.11.0-test"
ISSUER, AUDIENCE = "steward-test", "steward"


@dataclass
class Stack:
    """The running services, their shared bus settings and what an auditor needs."""

    settings: BusSettings
    ledger: LedgerService
    guardrail: GuardrailService
    auditor_token: str

    @property
    def ledger_url(self) -> str:
        return f"http://127.0.0.1:{self.ledger.api_port}"


def _archive(folder: Path) -> Path:
    """The live policies plus an archived earlier version of the tenant's policy."""
    shutil.copytree(POLICIES, folder)
    live = (POLICIES / f"{TENANT}.yaml").read_text(encoding="utf-8")
    earlier = live.replace('version: "2026.12.1"', f'version: "{ARCHIVED_VERSION}"')
    earlier = earlier.replace("  min_score: 0.6", "  min_score: 0.99")
    assert earlier.count(ARCHIVED_VERSION) == 1 and "min_score: 0.99" in earlier
    (folder / "archive").mkdir()
    (folder / "archive" / f"{TENANT}-{ARCHIVED_VERSION}.yaml").write_text(earlier)
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replay_stack(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Every replay-serving service on the real broker, one document indexed."""
    if not (CORPUS / DOCUMENT).is_file():
        pytest.fail(f"the test corpus is missing at {CORPUS}; set STEWARD_CORPUS")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = tmp_path_factory.mktemp("replay")
    namespace = f"t{uuid.uuid4().hex[:12]}."

    # A database of the module's own for the ledger, which installs its schema there.
    name = f"replay_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(stack.postgres.dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    ledger_dsn = stack.postgres.dsn.rsplit("/", 1)[0] + f"/{name}"

    key = generate_signing_key("ES256", kid="replay-test")
    write_jwks(root / "jwks.json", [key])
    token = mint_token(
        key,
        subject="auditor-1",
        tenant=TENANT,
        roles=["auditor"],
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=timedelta(hours=1),
    )

    # Settings are built without `serve_replay`: each service's own default turns it on.
    bus: dict[str, Any] = {
        "kafka_bootstrap": stack.broker.bootstrap,
        "database_url": stack.postgres.dsn,
        "topic_namespace": namespace,
        "otel_exporter": "none",
        "retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.05,
    }
    ledger = LedgerService(
        LedgerSettings(
            **{**bus, "database_url": ledger_dsn},
            ledger_data_dir=root / "ledger",
            ledger_api_port=0,
            ledger_checkpoint_every_seconds=3600,
            ledger_auth=AuthSettings(
                issuer=ISSUER, audience=AUDIENCE, jwks_path=root / "jwks.json"
            ),
        )
    )
    guardrail = GuardrailService.from_settings(
        GuardrailSettings(
            **bus,
            guardrail_policy_dir=_archive(root / "policies"),
            guardrail_originals_dir=root / "originals",
            guardrail_pii_key_file=root / "pii.key",
        ),
        guardrail=Guardrail(OriginalsCipher(os.urandom(32)), embedder=shared_embedder()),
    )
    indexer = IndexerService.from_settings(
        IndexerSettings(**bus, indexer_qdrant_path=Path(":memory:")), embedder=ChunkEmbedder()
    )
    ingestion = IngestionService(
        IngestionSettings(**bus, ingestion_allowed_roots=[CORPUS]),
        counter=WordPieceCounter.for_embedding_model(),
    )
    with EmbeddedLlama() as llama:
        generator = llama.generator()
        worker = InferenceWorker(
            registry=PromptRegistry.packaged(),
            routes=RouteTable(ModelChoice(model=generator.model)),
            generators={generator.model: generator},
        )
        inference = InferenceService(
            InferenceServiceSettings(**bus, inference_journal_dir=root / "journal"), worker
        )
        async with ledger, ingestion, indexer, guardrail, inference:
            settings = BusSettings(**bus)
            outcomes = await ingest_documents(
                settings, collect_documents([CORPUS / DOCUMENT]), tenant=TENANT
            )
            assert [o.status for o in outcomes] == ["indexed"], outcomes
            yield Stack(settings, ledger, guardrail, token)
        await worker.aclose()
    admin = await asyncpg.connect(stack.postgres.dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()
