"""`make demo` and `make eval`: questions through the whole pipeline on the shared corpus."""

from __future__ import annotations

import argparse
import shutil
import statistics
import uuid
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml
from rich.console import Console
from rich.table import Table

from steward_cli.pipeline import (
    REPOSITORY,
    Answer,
    Pipeline,
    ask,
    corpus_documents,
    corpus_folder,
    documents_by_source_url,
    own_namespace,
    private_stack,
    run_stoppable,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

TENANT = "riverland-revenue"
DISPOSITIONS = ("answered", "no_answer", "declined", "under_review", "unavailable")
console = Console()


class QuestionSetError(Exception):
    """A question file that is not a mapping with a `questions` list."""


@dataclass(frozen=True)
class Question:
    """One question of a set and what the pipeline should do with it."""

    question: str
    kind: str = "answerable"
    locale: str | None = None
    documents: tuple[str, ...] = ()


def load_questions(path: Path) -> list[Question]:
    """Read a question set (YAML with a `questions` list)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict) or not isinstance(loaded.get("questions"), list):
        raise QuestionSetError(f"{path} must hold a mapping with a 'questions' list")
    return [
        Question(
            question=str(item["question"]),
            kind=str(item.get("kind", "answerable")),
            locale=item.get("locale"),
            documents=tuple(item.get("documents") or ()),
        )
        for item in loaded["questions"]
    ]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


@asynccontextmanager
async def started_pipeline(
    name: str, sources: Sequence[Path] | None = None
) -> AsyncIterator[Pipeline]:
    """A broker, PostgreSQL and every service of this run's own, with documents ingested.

    `sources` are files or folders to ingest; by default the shared corpus.
    """
    data_dir = REPOSITORY / ".steward" / "runs" / f"{name}-{uuid.uuid4().hex[:8]}"
    stack = private_stack(data_dir)
    console.print(f"starting a private stack and every service in {data_dir}")
    stack.start()
    pipeline = Pipeline(
        workdir=data_dir / "work",
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        namespace=own_namespace(),
    )
    try:
        await pipeline.start()
        documents = list(sources) if sources else corpus_documents(corpus_folder())
        shown = ", ".join(str(s) for s in sources) if sources else str(corpus_folder())
        console.print(f"ingesting from {shown}")
        outcomes = await pipeline.ingest(documents, tenant=TENANT)
        counts = Counter(outcome.status for outcome in outcomes)
        console.print(", ".join(f"{count} {status}" for status, count in counts.items()))
        yield pipeline
    finally:
        pipeline.stop()
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def verify_ledger(pipeline: Pipeline, client: httpx.AsyncClient) -> bool:
    """Export the tenant's whole ledger from the auditor API and check it offline."""
    from steward_ledger_proofs import verify_bundle

    token = pipeline.token(["auditor"], tenant=TENANT, subject="evaluation-auditor")
    bundle = pipeline.workdir / "ledger-bundle.jsonl"
    # The ledger is this run's own, so everything since the epoch is this run's events.
    response = await client.get(
        f"{pipeline.url('ledger')}/v1/exports",
        params={"occurred_from": "1970-01-01T00:00:00+00:00"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        console.print(f"[red]ledger export refused:[/red] {response.status_code}")
        return False
    bundle.write_bytes(response.content)
    report = verify_bundle(bundle)
    if not report.ok:
        console.print(f"[red]ledger verification FAILED[/red] at {report.first_failed_seq}")
        console.print(str(report.reason), markup=False)
        return False
    console.print(
        f"ledger verification OK: {report.events_checked} events, "
        f"{report.checkpoints_checked} checkpoints, tree size {report.tree_size}"
    )
    return True


async def demo(questions: Sequence[Question]) -> int:
    """Ask each question, print answer, citations, disposition and latency, then verify."""
    async with started_pipeline("demo") as pipeline:
        token = pipeline.token(["citizen"], tenant=TENANT, subject="demo-citizen")
        async with httpx.AsyncClient(base_url=pipeline.url("gateway"), timeout=300) as client:
            for item in questions:
                answer = await ask(client, token, item.question, locale=item.locale)
                _print_answer(item, answer)
            return 0 if await verify_ledger(pipeline, client) else 1


def _print_answer(item: Question, answer: Answer) -> None:
    console.rule(item.question, style="cyan")
    console.print(answer.body.get("answer") or "(no answer)", markup=False)
    for citation in answer.body.get("citations") or []:
        console.print(
            f"  [{citation['number']}] {citation.get('title')}  {citation.get('source_url')}",
            markup=False,
            highlight=False,
        )
    if answer.body.get("ai_notice") and answer.disposition == "answered":
        console.print(answer.body["ai_notice"], style="dim", markup=False)
    console.print(
        f"disposition [bold]{answer.disposition}[/bold]  latency {answer.seconds:.2f} s"
        f"  correlation id {answer.body.get('correlation_id')}"
    )


def _as_expected(item: Question, answer: Answer, by_url: dict[str, str]) -> bool:
    """Whether the pipeline did what the question set asks of this question."""
    if item.kind in {"injection", "off_scope"}:
        return answer.disposition == "declined"
    if item.kind == "unanswerable":
        return answer.disposition in {"no_answer", "declined", "under_review"}
    cited = set(answer.cited_files(by_url))
    return answer.disposition == "answered" and bool(cited & set(item.documents))


async def evaluate(questions: Sequence[Question]) -> int:
    """Run the question set and report rates, citation correctness and latency."""
    by_url = documents_by_source_url(corpus_documents(corpus_folder()))
    results: list[tuple[Question, Answer]] = []
    async with started_pipeline("eval") as pipeline:
        async with httpx.AsyncClient(base_url=pipeline.url("gateway"), timeout=300) as client:
            for number, item in enumerate(questions, 1):
                # Each question comes from a citizen of its own, as it would at the front door;
                # one client asking them all would meet the gateway's per-client rate limit.
                token = pipeline.token(
                    ["citizen"], tenant=TENANT, subject=f"eval-citizen-{number}"
                )
                answer = await ask(client, token, item.question, locale=item.locale)
                results.append((item, answer))
                verdict = "ok" if _as_expected(item, answer, by_url) else "no"
                shown = answer.disposition or f"HTTP {answer.status_code}"
                console.print(
                    f"{number:>3}/{len(questions)} {item.kind:<12} {shown:<13}"
                    f" {answer.seconds:6.2f} s  {verdict} {item.question}",
                    markup=False,
                    highlight=False,
                )
            verified = await verify_ledger(pipeline, client)
    _report(results, by_url)
    return 0 if verified else 1


def _report(results: Sequence[tuple[Question, Answer]], by_url: dict[str, str]) -> None:
    total = len(results) or 1
    dispositions = Counter(answer.disposition for _, answer in results)
    table = Table(title="Pipeline evaluation")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for disposition in DISPOSITIONS:
        share = dispositions.get(disposition, 0) / total
        table.add_row(f"{disposition} rate", f"{share:.0%} ({dispositions.get(disposition, 0)})")

    # Citation correctness: of the answerable questions answered, how many cite a right document.
    answered = [
        (item, answer)
        for item, answer in results
        if item.kind == "answerable" and answer.disposition == "answered"
    ]
    right = sum(bool(set(a.cited_files(by_url)) & set(i.documents)) for i, a in answered)
    table.add_row("citation correctness", f"{right}/{len(answered)} answered answerable")
    for kind in ("answerable", "unanswerable", "injection", "off_scope"):
        of_kind = [(i, a) for i, a in results if i.kind == kind]
        expected = sum(_as_expected(i, a, by_url) for i, a in of_kind)
        table.add_row(f"{kind} as expected", f"{expected}/{len(of_kind)}")
    latencies = [answer.seconds for _, answer in results]
    table.add_row("latency p50", f"{statistics.median(latencies) if latencies else 0:.2f} s")
    table.add_row("latency p95", f"{percentile(latencies, 0.95):.2f} s")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `demo|eval [QUESTIONS]` and run it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["demo", "eval"])
    parser.add_argument("questions", type=Path, nargs="?")
    arguments = parser.parse_args(argv)
    default = "demo-questions.yaml" if arguments.mode == "demo" else "pipeline-questions.yaml"
    questions = load_questions(arguments.questions or REPOSITORY / "eval" / default)
    run: Any = demo if arguments.mode == "demo" else evaluate
    return int(run_stoppable(run(questions)))


if __name__ == "__main__":
    raise SystemExit(main())
