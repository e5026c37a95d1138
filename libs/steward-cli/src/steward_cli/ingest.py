"""`steward ingest`: submit documents to ingestion and report what became of each."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from steward_bus import BusSettings, Service
from steward_events import (
    Classification,
    DocumentIndexed,
    DocumentRejected,
    DocumentSubmitted,
    spec_for,
)

from steward_cli.endpoints import bus_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

Status = Literal["indexed", "unchanged", "rejected", "no answer"]

# The event contract's bounds: inline content, identifiers, names, labels.
MAX_INLINE_CHARACTERS = 200_000
MAX_IDENTIFIER = 128
MAX_NAME = 200
MAX_LABEL_VALUE = 1_000
MAX_LABELS = 50
_IDENTIFIER_OUTSIDE = re.compile(r"[^A-Za-z0-9._:/-]+")
_URL = re.compile(r"^https?://\S{1,2040}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_STRICTNESS = [Classification.PUBLIC, Classification.INTERNAL, Classification.RESTRICTED]

console = Console()
errors = Console(stderr=True)


class IngestError(Exception):
    """A path given to `steward ingest` that names no document."""


@dataclass(frozen=True)
class SourceDocument:
    """A file to submit and the stable source id it is known by."""

    path: Path
    source_id: str


@dataclass(frozen=True)
class Outcome:
    """What became of one submitted document."""

    source_id: str
    status: Status
    version: int | None = None
    chunks: int | None = None
    detail: str = ""


def source_id_for(relative: Path) -> str:
    """A stable source id from a path relative to its root, within the contract's bounds."""
    cleaned = _IDENTIFIER_OUTSIDE.sub("-", relative.as_posix()).lstrip("._:/-") or "document"
    if len(cleaned) <= MAX_IDENTIFIER:
        return cleaned
    # Too long to keep whole: keep the end, which names the file, and a hash of the rest.
    digest = hashlib.sha256(relative.as_posix().encode()).hexdigest()[:16]
    return f"{digest}-{cleaned[-(MAX_IDENTIFIER - 17) :].lstrip('._:/-')}"


def collect_documents(paths: Iterable[Path]) -> list[SourceDocument]:
    """Every file named or inside a named folder, hidden files left out, each with its id."""
    found: dict[str, SourceDocument] = {}
    for given in paths:
        if given.is_dir():
            root = given
            files = sorted(
                path
                for path in given.rglob("*")
                if path.is_file()
                and not any(part.startswith(".") for part in path.relative_to(given).parts)
            )
        elif given.is_file():
            root, files = given.parent, [given]
        else:
            raise IngestError(f"{given} is neither a file nor a folder")
        for path in files:
            document = SourceDocument(path, source_id_for(path.relative_to(root)))
            found.setdefault(document.source_id, document)
    return list(found.values())


def front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a Markdown text as a mapping; empty when there is none."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}
    import yaml

    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _stricter(first: Classification, second: Classification) -> Classification:
    return max(first, second, key=_STRICTNESS.index)


def submission_for(
    document: SourceDocument, classification: Classification | None
) -> DocumentSubmitted:
    """The document.submitted event of one file: inline text, base64, or by path if large."""
    path = document.path
    size = path.stat().st_size
    fields: dict[str, Any] = {}
    chosen = classification or Classification.PUBLIC
    # Base64 takes 4 characters per 3 bytes; anything larger travels by path.
    data = path.read_bytes() if size <= MAX_INLINE_CHARACTERS else None
    text: str | None = None
    if data is not None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None

    if text is not None and len(text) <= MAX_INLINE_CHARACTERS:
        fields["content"] = text
        metadata = front_matter(text)
        # A document marked stricter than the flag keeps its own marking, never a looser one.
        declared = str(metadata.get("classification", "")).strip().lower()
        if declared in {level.value for level in Classification}:
            chosen = _stricter(chosen, Classification(declared))
        title = str(metadata.get("title") or "").strip()[:MAX_NAME].strip()
        source_url = str(metadata.get("source_url") or "").strip()
        language = str(metadata.get("language") or "").strip()
        fields["title"] = title or None
        fields["source_url"] = source_url if _URL.match(source_url) else None
        fields["language"] = language if _LANGUAGE.match(language) else None
        fields["metadata"] = {
            str(key)[:MAX_NAME]: str(value)[:MAX_LABEL_VALUE]
            for key, value in list(metadata.items())[:MAX_LABELS]
            if str(key).strip() and value is not None
        }
    elif data is not None and (len(data) + 2) // 3 * 4 <= MAX_INLINE_CHARACTERS:
        fields["content_base64"] = base64.b64encode(data).decode("ascii")
    else:
        # LIMITATION: a large file is submitted by path, which only an ingestion service on
        # this machine with the folder among its allowed roots can read; an upload store
        # referenced by URL would lift that.
        fields["path"] = str(path.resolve())

    return DocumentSubmitted(
        source_id=document.source_id,
        classification=chosen,
        filename=path.name[:MAX_NAME],
        **fields,
    )


def _outcome(envelope: Any) -> Outcome:
    data = envelope.data
    if isinstance(data, DocumentIndexed):
        return Outcome(
            data.source_id,
            "unchanged" if data.unchanged else "indexed",
            data.version,
            data.chunk_count,
            f"retired version {', '.join(map(str, data.retired_versions))}"
            if data.retired_versions
            else "",
        )
    assert isinstance(data, DocumentRejected)
    return Outcome(data.source_id, "rejected", detail=f"{data.reason.value}: {data.detail}")


async def ingest_documents(
    settings: BusSettings,
    documents: Sequence[SourceDocument],
    *,
    tenant: str,
    classification: Classification | None = None,
    idle_timeout: float = 300.0,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Submit every document and wait for each one's indexed or rejected event."""
    service = Service("ingest-cli", settings)
    timing = settings.consumer_timing()
    # A group of this run's own reads the answers from the start; none are missed.
    consumer = AIOKafkaConsumer(
        service.topic(DocumentIndexed.spec),
        service.topic(DocumentRejected.spec),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"steward-ingest-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=timing.session_timeout_ms,
        heartbeat_interval_ms=timing.heartbeat_interval_ms,
        fetch_max_wait_ms=timing.fetch_max_wait_ms,
    )
    outcomes: dict[str, Outcome] = {}
    pending: dict[bytes, str] = {}

    def settle(outcome: Outcome) -> None:
        outcomes[outcome.source_id] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    async with service:
        await consumer.start()
        try:
            # Publish every document under a correlation id of its own.
            for document in documents:
                try:
                    submission = submission_for(document, classification)
                except OSError as error:
                    settle(Outcome(document.source_id, "rejected", detail=f"unreadable: {error}"))
                    continue
                correlation = f"ingest-{uuid.uuid4().hex}"
                pending[correlation.encode()] = document.source_id
                await service.publish(submission, tenant=tenant, correlation_id=correlation)

            # The answers are keyed by correlation id, so others' records are skipped unread.
            loop = asyncio.get_running_loop()
            last_news = loop.time()
            while pending and loop.time() - last_news < idle_timeout:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        if record.key not in pending or not record.value:
                            continue
                        spec = spec_for(_event_type(record.value))
                        envelope = spec.envelope.model_validate_json(record.value)
                        del pending[record.key]
                        settle(_outcome(envelope))
                        last_news = loop.time()
        finally:
            await consumer.stop()

    for source_id in pending.values():
        settle(Outcome(source_id, "no answer", detail=f"nothing heard for {idle_timeout:.0f} s"))
    return [outcomes[document.source_id] for document in documents]


def _event_type(value: bytes) -> str:
    parsed = json.loads(value)
    return str(parsed.get("type", "")) if isinstance(parsed, dict) else ""


def summary_table(outcomes: Sequence[Outcome]) -> Table:
    """One row per document: its outcome, version, chunk count and reason."""
    table = Table(title="Ingested documents")
    for column in ("document", "outcome", "version", "chunks", "reason"):
        table.add_column(column, overflow="fold")
    styles = {"indexed": "green", "unchanged": "cyan", "rejected": "red", "no answer": "yellow"}
    for outcome in outcomes:
        table.add_row(
            outcome.source_id,
            f"[{styles[outcome.status]}]{outcome.status}[/]",
            str(outcome.version or ""),
            str(outcome.chunks if outcome.chunks is not None else ""),
            outcome.detail,
        )
    return table


def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders; folders are read recursively.")
    ],
    tenant: Annotated[str, typer.Option(help="The agency the documents belong to.")] = "default",
    classification: Annotated[
        Classification | None,
        typer.Option(help="Who may read them; a stricter front matter marking wins."),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any document is rejected.")] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait with no document answered before giving up.")
    ] = 300.0,
) -> None:
    """Submit documents to ingestion, follow them until indexed, and report each one."""
    try:
        documents = collect_documents(paths)
    except IngestError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    if not documents:
        errors.print("[red]error:[/red] no files found in the given paths")
        raise typer.Exit(2)

    # The bus logs only warnings here, so they do not break up the progress bar.
    settings = bus_settings(log_level="WARNING")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("indexing", total=len(documents))
        outcomes = asyncio.run(
            ingest_documents(
                settings,
                documents,
                tenant=tenant,
                classification=classification,
                idle_timeout=timeout,
                on_outcome=lambda outcome: progress.advance(task),
            )
        )

    console.print(summary_table(outcomes))
    counts = {status: sum(o.status == status for o in outcomes) for status in _STATUSES}
    console.print(", ".join(f"{count} {status}" for status, count in counts.items()))
    if counts["no answer"] or (strict and counts["rejected"]):
        raise typer.Exit(1)


_STATUSES: tuple[Status, ...] = ("indexed", "unchanged", "rejected", "no answer")


def register(app: typer.Typer) -> None:
    """Add `steward ingest` to the command line."""
    app.command("ingest")(ingest)
