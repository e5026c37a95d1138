"""The whole pipeline as its own processes in a folder: for demos, evaluations and tests."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from steward_auth import ensure_development_keys
from steward_bus import BusSettings, contract_topics, ensure_topics
from steward_infra import LocalBroker, LocalPostgres, LocalStack, free_port

from steward_cli.ingest import Outcome, collect_documents, front_matter, ingest_documents
from steward_cli.supervisor import Supervisor, installed_services, wait_listening

if TYPE_CHECKING:
    from collections.abc import Coroutine, Sequence

ResultT = TypeVar("ResultT")

# Every HTTP edge and the variable that sets its port.
EDGE_PORTS = {
    "gateway": "STEWARD_GATEWAY_PORT",
    "review": "STEWARD_REVIEW_HTTP_PORT",
    "ledger": "STEWARD_LEDGER_API_PORT",
    "metrics": "STEWARD_TRAINER_METRICS_PORT",
}
REPOSITORY = Path(__file__).resolve().parents[4]
CORPUS_ENVIRONMENT = "STEWARD_CORPUS"


class PipelineNotReady(Exception):
    """Some services never became ready; their logs say why."""


def corpus_folder() -> Path:
    """The shared test corpus beside the repository, or where STEWARD_CORPUS points."""
    configured = os.environ.get(CORPUS_ENVIRONMENT)
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "corpus"


def corpus_documents(folder: Path) -> list[Path]:
    """The corpus's documents: its Markdown files but the README that describes them."""
    return sorted(path for path in folder.glob("*.md") if path.name.lower() != "readme.md")


def documents_by_source_url(paths: Sequence[Path]) -> dict[str, str]:
    """Each document's file name by the source URL of its front matter, to read citations."""
    found = {}
    for path in paths:
        url = str(front_matter(path.read_text(encoding="utf-8")).get("source_url") or "")
        if url:
            found[url.strip()] = path.name
    return found


@dataclass
class Pipeline:
    """Every installed service as its own process, on a broker and a database of the caller's."""

    workdir: Path
    kafka_bootstrap: str
    database_url: str
    namespace: str = ""
    extra_environment: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    supervisor: Supervisor | None = None

    @property
    def settings(self) -> BusSettings:
        """Bus settings that reach this pipeline's broker, database and namespace."""
        return BusSettings(
            kafka_bootstrap=self.kafka_bootstrap,
            database_url=self.database_url,
            topic_namespace=self.namespace,
            otel_exporter="none",
            log_level="WARNING",
        )

    @property
    def auth_dir(self) -> Path:
        """The development key folder every edge of this pipeline trusts."""
        return self.workdir / "auth"

    @property
    def log_dir(self) -> Path:
        """Where each service writes its log."""
        return self.workdir / "logs"

    @property
    def trace_dir(self) -> Path:
        """Where each service writes its spans."""
        return self.workdir / "traces"

    def url(self, edge: str) -> str:
        """The base URL of one HTTP edge."""
        return f"http://127.0.0.1:{self.ports[edge]}"

    def token(self, roles: Sequence[str], *, tenant: str, subject: str = "e2e") -> str:
        """A development token for this pipeline's edges."""
        keys = ensure_development_keys(self.auth_dir)
        return keys.mint(subject=subject, tenant=tenant, roles=list(roles))

    def environment(self) -> dict[str, str]:
        """What every service process is started with."""
        self.ports = self.ports or {edge: free_port() for edge in EDGE_PORTS}
        return {
            "STEWARD_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "STEWARD_DATABASE_URL": self.database_url,
            "STEWARD_TOPIC_NAMESPACE": self.namespace,
            "STEWARD_OTEL_EXPORTER": "file",
            "STEWARD_TRACE_DIR": str(self.trace_dir),
            "STEWARD_AUTH_DIR": str(self.auth_dir),
            # The trainer reads the guardrail's policies by a path relative to the repository.
            "STEWARD_TRAINER_POLICY_DIR": str(REPOSITORY / "services" / "guardrail" / "policies"),
            **{variable: str(self.ports[edge]) for edge, variable in EDGE_PORTS.items()},
            **self.extra_environment,
        }

    async def start(self, ready_within: float = 300.0) -> None:
        """Create the topics, start every service and wait until each consumes and listens."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ensure_development_keys(self.auth_dir)
        environment = self.environment()
        settings = self.settings
        # The replay namespace's twins too, which the replay-serving services consume.
        await ensure_topics(
            self.kafka_bootstrap,
            contract_topics(self.namespace) + contract_topics(settings.replay_namespace),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
        self.supervisor = Supervisor(
            installed_services(), environment=environment, log_dir=self.log_dir, cwd=self.workdir
        )
        self.supervisor.start()
        waiting = await asyncio.to_thread(self.supervisor.wait_ready, ready_within)
        waiting += await asyncio.to_thread(
            wait_listening, self.ports, 0 if waiting else ready_within
        )
        if waiting:
            raise PipelineNotReady(
                f"not ready after {ready_within:.0f} s: {', '.join(waiting)}; see {self.log_dir}"
            )

    def stop(self) -> dict[str, int]:
        """Stop every service; return each one's exit status."""
        if self.supervisor is None:
            return {}
        self.supervisor.stop()
        return self.supervisor.exited()

    async def ingest(self, paths: Sequence[Path], *, tenant: str) -> list[Outcome]:
        """Ingest documents for a tenant and wait until each is indexed or rejected."""
        return await ingest_documents(self.settings, collect_documents(paths), tenant=tenant)


@dataclass
class Answer:
    """What the gateway answered to one question, once final or under review."""

    status_code: int
    body: dict[str, Any]
    seconds: float

    @property
    def disposition(self) -> str | None:
        """answered, no_answer, declined, under_review, unavailable; None while pending."""
        value = self.body.get("disposition")
        return str(value) if value is not None else None

    @property
    def cited_urls(self) -> list[str]:
        """The source URLs of the documents the answer cites, in citation order."""
        return [str(c.get("source_url") or "") for c in self.body.get("citations") or []]

    def cited_files(self, by_url: dict[str, str]) -> list[str]:
        """The file names of the cited documents, given each file's source URL."""
        return [by_url.get(url, url) for url in self.cited_urls]


async def ask(
    client: httpx.AsyncClient,
    token: str,
    question: str,
    *,
    locale: str | None = None,
    settle_timeout: float = 300.0,
) -> Answer:
    """Ask through the gateway and poll its status URL until the answer is no longer pending."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    response = await client.post(
        "/v1/ask",
        json={"question": question, "locale": locale, "conversation_id": None},
        headers=headers,
    )
    body: dict[str, Any] = response.json()
    deadline = started + settle_timeout
    while response.status_code == 202 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        kept = (await client.get(body["status_url"], headers=headers)).json()
        turn = next(t for t in kept["turns"] if t["correlation_id"] == body["correlation_id"])
        if turn.get("status") != "pending":
            body = {**body, **turn}
            break
    return Answer(response.status_code, body, time.monotonic() - started)


def own_namespace() -> str:
    """A topic namespace no other run shares."""
    return f"run{uuid.uuid4().hex[:10]}."


def private_stack(data_dir: Path) -> LocalStack:
    """A broker and PostgreSQL of a run's own, on free ports, keeping data in `data_dir`."""
    return LocalStack(
        broker=LocalBroker(port=free_port(), data_dir=data_dir / "broker"),
        postgres=LocalPostgres(port=free_port(), data_dir=data_dir / "postgres"),
    )


def run_stoppable(work: Coroutine[Any, Any, ResultT]) -> ResultT:
    """Run `work` so that SIGTERM, like Ctrl-C, cancels it and its cleanup still runs."""

    async def guarded() -> ResultT:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await work

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        raise SystemExit(128 + signal.SIGTERM) from None
