"""`steward trace`: the span tree of one citizen request, from the local span files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.tree import Tree
from steward_bus import BusSettings

CORRELATION_ATTRIBUTE = "steward.correlation_id"
console = Console()


@dataclass
class Span:
    """One finished span as the OpenTelemetry SDK writes it with `to_json`."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    start: datetime
    end: datetime
    status: str
    attributes: dict[str, Any]
    children: list[Span] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        """How long the span took, in milliseconds."""
        return (self.end - self.start).total_seconds() * 1_000

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Span:
        """Read one line of a span file."""
        context = document["context"]
        return cls(
            name=document["name"],
            trace_id=context["trace_id"],
            span_id=context["span_id"],
            parent_id=document.get("parent_id"),
            service=document.get("resource", {}).get("attributes", {}).get("service.name", "?"),
            start=_timestamp(document["start_time"]),
            end=_timestamp(document["end_time"]),
            status=document.get("status", {}).get("status_code", "UNSET"),
            attributes=document.get("attributes") or {},
        )


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_spans(folder: Path) -> tuple[list[Span], int]:
    """Every span in the folder's `*.jsonl` files, and how many lines could not be read."""
    spans: list[Span] = []
    unreadable = 0
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    spans.append(Span.from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    # A span half written by a process still running, or a foreign line.
                    unreadable += 1
    return spans, unreadable


def trace_roots(spans: list[Span], correlation_id: str) -> list[Span]:
    """The root spans of every trace that has a span of this correlation id, earliest first."""
    traces = {
        span.trace_id
        for span in spans
        if span.attributes.get(CORRELATION_ATTRIBUTE) == correlation_id
    }
    chosen = {span.span_id: span for span in spans if span.trace_id in traces}
    roots: list[Span] = []
    for span in sorted(chosen.values(), key=lambda s: s.start):
        parent = chosen.get(span.parent_id) if span.parent_id else None
        # A span whose parent was not exported (sampled out, still open) is shown as a root.
        if parent is None:
            roots.append(span)
        else:
            parent.children.append(span)
    return roots


def render(span: Span, origin: datetime, tree: Tree | None = None) -> Tree:
    """A rich tree of a span and its children with offsets and durations."""
    offset = (span.start - origin).total_seconds() * 1_000
    colour = "red" if span.status == "ERROR" else "green"
    label = (
        f"[bold]{span.service}[/bold] {span.name}  "
        f"[{colour}]{span.duration_ms:.1f} ms[/{colour}]  [dim]+{offset:.1f} ms[/dim]"
    )
    node = tree.add(label) if tree is not None else Tree(label)
    for child in span.children:
        render(child, origin, node)
    return node


def trace(
    correlation_id: Annotated[str, typer.Argument(help="The correlation id of one request.")],
    trace_dir: Annotated[
        Path | None,
        typer.Option(help="Folder of span files (default: STEWARD_TRACE_DIR or .steward/traces)."),
    ] = None,
) -> None:
    """Print the span tree of a request, with each span's duration."""
    folder = trace_dir or BusSettings().trace_dir
    if not folder.is_dir():
        console.print(f"[red]error:[/red] no span folder at {folder}")
        raise typer.Exit(1)
    spans, unreadable = load_spans(folder)
    roots = trace_roots(spans, correlation_id)
    if not roots:
        console.print(
            f"no spans with {CORRELATION_ATTRIBUTE}={correlation_id} in {folder} "
            f"({len(spans)} spans read)"
        )
        raise typer.Exit(1)
    origin = min(root.start for root in roots)
    for root in roots:
        console.print(render(root, origin))
    if unreadable:
        console.print(f"[dim]{unreadable} unreadable lines skipped[/dim]")
