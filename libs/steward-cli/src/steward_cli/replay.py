"""`steward replay`: re-run a recorded request with chosen versions and compare the outcomes."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from steward_bus import BusSettings, ReplayError, ReplaySession
from steward_bus.replay import CHECKED, DRAFTED, FAILED, RESPONDED, RETRIEVED, SCREENED
from steward_events import Channel, ChatRequested, Replay

from steward_cli.endpoints import (
    TOKEN_ENVIRONMENT,
    AuditorTokenOption,
    LedgerUrlOption,
    bus_settings,
    ledger_url,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

console = Console()
errors = Console(stderr=True)

SEALED_MARK = "steward_sealed"

REQUESTED = ChatRequested.spec.type


@dataclass
class Outcome:
    """How one run of a request ended, and which versions produced it."""

    correlation_id: str
    disposition: str | None = None
    answer: str | None = None
    citations: list[str] = field(default_factory=list)
    reason: str | None = None
    input_verdict: str | None = None
    output_verdict: str | None = None
    findings: list[str] = field(default_factory=list)
    groundedness: float | None = None
    passages: int | None = None
    model: str | None = None
    prompt: str | None = None
    policy: str | None = None
    inference_error: str | None = None


@dataclass
class ReplayReport:
    """The recorded outcome beside the replayed one."""

    original: Outcome
    replay: Outcome
    overrides: dict[str, str | None]


# What a stage reports when it does not know a version or model a replay asked for.
UNKNOWN_OVERRIDES = ("model_not_served", "adapter_not_found", "prompt_not_found")
UNKNOWN_POLICY = "unknown_policy_version"


def unknown_override(outcome: Outcome) -> str | None:
    """The reason a replay could not use an override it asked for, if that is how it ended."""
    error = outcome.inference_error or ""
    if error.startswith(UNKNOWN_OVERRIDES):
        return error
    return next((finding for finding in outcome.findings if UNKNOWN_POLICY in finding), None)


def outcome_of(correlation_id: str, events: Iterable[dict[str, Any]]) -> Outcome:
    """Read one run's outcome from its events (CloudEvents dicts, in the order they came)."""
    outcome = Outcome(correlation_id)
    responses: list[dict[str, Any]] = []
    for event in events:
        kind, data = event.get("type"), event.get("data")
        if not isinstance(data, dict):
            continue
        if kind == RESPONDED:
            responses.append(data)
        elif kind == SCREENED:
            outcome.input_verdict = data.get("verdict")
            outcome.policy = _policy(data.get("policy"))
            outcome.findings += _findings("input", data.get("findings"))
        elif kind == CHECKED:
            outcome.output_verdict = data.get("verdict")
            outcome.groundedness = data.get("groundedness")
            outcome.findings += _findings("output", data.get("findings"))
            output_policy = _policy(data.get("policy"))
            if output_policy and output_policy != outcome.policy:
                outcome.policy = f"{outcome.policy} / output {output_policy}"
        elif kind == RETRIEVED:
            outcome.passages = len(data.get("passages") or [])
        elif kind == DRAFTED:
            outcome.model = _model(data.get("model"))
            prompt = data.get("prompt") or {}
            outcome.prompt = f"{prompt.get('template_id')} v{prompt.get('version')}"
        elif kind == FAILED:
            outcome.inference_error = f"{data.get('error_kind')}: {data.get('reason')}"
            outcome.model = _model(data.get("model")) or outcome.model

    # A final response ends the request; a holding one says it went to a person.
    if responses:
        response = next((r for r in reversed(responses) if r.get("final", True)), responses[-1])
        outcome.disposition = response.get("disposition")
        outcome.answer = response.get("answer")
        outcome.reason = response.get("reason")
        outcome.citations = [_citation(c) for c in response.get("citations") or []]
    return outcome


def replay_request(recorded: Sequence[dict[str, Any]], correlation_id: str) -> dict[str, Any]:
    """The recorded chat.requested of a timeline; refuse one whose question is unreadable."""
    requests = [event for event in recorded if event.get("type") == REQUESTED]
    if not requests:
        raise ReplayError(
            f"no {REQUESTED} is recorded for correlation id {correlation_id!r} in this tenant"
        )
    request = requests[0]
    data = request.get("data")
    if data is None:
        raise ReplayError(
            f"the request of {correlation_id!r} was pruned by retention; its question is gone"
        )
    question = data.get("question")
    if isinstance(question, dict) and SEALED_MARK in question:
        raise ReplayError(
            f"the question of {correlation_id!r} is sealed and its data subject's key was "
            "erased, so it can no longer be read or replayed"
        )
    return dict(request)


async def fetch_timeline(url: str, token: str, correlation_id: str) -> list[dict[str, Any]]:
    """The recorded events of a correlation id from the auditor API, personal data opened."""
    import httpx

    try:
        async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
            response = await client.get(
                f"/v1/timelines/{correlation_id}",
                params={"open_personal_data": "true"},
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.TransportError as error:
        raise ReplayError(
            f"cannot reach the auditor API at {url}: {type(error).__name__}; "
            "is the ledger running? (--url or $STEWARD_LEDGER_API_PORT)"
        ) from None
    if response.status_code != 200:
        raise ReplayError(
            f"the auditor API answered {response.status_code}: {response.text[:300]}"
        )
    return [item["event"] for item in response.json()["events"]]


async def run_replay(
    settings: BusSettings,
    recorded: Sequence[dict[str, Any]],
    correlation_id: str,
    *,
    model: str | None = None,
    prompt_version: str | None = None,
    policy_version: str | None = None,
    within: float = 300.0,
) -> ReplayReport:
    """Publish the recorded request into the replay namespace and wait for its outcome."""
    request = replay_request(recorded, correlation_id)
    original = outcome_of(correlation_id, recorded)

    # A new correlation and conversation: the replay shares no state with the citizen's.
    replay_id = f"replay-{uuid.uuid4().hex}"
    data = ChatRequested.model_validate(request["data"]).model_copy(
        update={
            "conversation_id": replay_id,
            "channel": Channel.REPLAY,
            "training_consent": False,
        }
    )
    replay = Replay(of=correlation_id, model=model, prompt=prompt_version, policy=policy_version)
    async with ReplaySession(settings, name="replay-cli") as session:
        # The subject is kept, so the ledger seals the replay's question under the same key.
        trace = await session.run(
            data,
            tenant=str(request["tenant"]),
            correlation_id=replay_id,
            subject=request.get("subject"),
            replay=replay,
            within=within,
        )
    if trace.dead_lettered:
        raise ReplayError(
            f"a step of replay {replay_id} was dead-lettered: {trace.dead_lettered[0]}"
        )
    overrides = {
        "model": model,
        "prompt_version": prompt_version,
        "policy_version": policy_version,
    }
    return ReplayReport(original, outcome_of(replay_id, trace.events), overrides)


def _policy(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    return f"{ref.get('policy_id')} {ref.get('version')} ({str(ref.get('sha256'))[:12]})"


def _model(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    name = f"{ref.get('name')} {ref.get('revision')}"
    if ref.get("adapter"):
        name += f" + {ref['adapter']}"
    return f"{name} [{ref.get('backend')}]"


def _citation(citation: dict[str, Any]) -> str:
    version = citation.get("document_version")
    document = f"{citation.get('document_id')}" + (f" v{version}" if version else "")
    title = citation.get("title")
    return f"[{citation.get('number')}] {title + ' - ' if title else ''}{document}"


def _findings(stage: str, findings: Any) -> list[str]:
    return [f"{stage} {f.get('kind')}/{f.get('label')}" for f in findings or []]


def comparison_table(report: ReplayReport) -> Table:
    """Original and replay side by side, one row per part of the outcome."""
    chosen = ", ".join(f"{k}={v}" for k, v in report.overrides.items() if v) or "live versions"
    table = Table(title=f"Replay of {report.original.correlation_id} ({chosen})")
    table.add_column("", style="bold")
    table.add_column("original", overflow="fold")
    table.add_column("replay", overflow="fold")
    original, replayed = asdict(report.original), asdict(report.replay)
    for name in original:
        left, right = _cell(original[name]), _cell(replayed[name])
        if not left and not right:
            continue
        style = "" if left == right or name == "correlation_id" else "yellow"
        table.add_row(name.replace("_", " "), left, f"[{style}]{right}[/]" if style else right)
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def replay(
    correlation_id: Annotated[str, typer.Argument(help="The recorded request to re-run.")],
    model: Annotated[
        str | None,
        typer.Option(help="A model the inference worker serves, or MODEL@ADAPTER."),
    ] = None,
    prompt_version: Annotated[
        str | None, typer.Option(help="Prompt template version, e.g. 1 or v1.")
    ] = None,
    policy_version: Annotated[
        str | None,
        typer.Option(help="Guardrail policy version, the live one or one kept in the archive."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the outcome.")] = 300.0,
    url: LedgerUrlOption = None,
    token: AuditorTokenOption = None,
) -> None:
    """Re-run a recorded request in the replay namespace and compare it with the original.

    Citizens never see a replay: the gateway and the review desk do not read the replay
    namespace, and a replay that would go to review reports that verdict instead.
    """
    bearer = token or os.environ.get(TOKEN_ENVIRONMENT)
    if not bearer:
        errors.print(f"[red]error:[/red] no token: pass --token or set {TOKEN_ENVIRONMENT}")
        raise typer.Exit(2)
    if prompt_version is not None and not prompt_version.removeprefix("v").isdigit():
        errors.print(
            f"[red]error:[/red] --prompt-version {prompt_version!r}: expected e.g. 2 or v2"
        )
        raise typer.Exit(2)

    async def run() -> ReplayReport:
        recorded = await fetch_timeline(url or ledger_url(), bearer, correlation_id)
        return await run_replay(
            bus_settings(log_level="WARNING"),
            recorded,
            correlation_id,
            model=model,
            prompt_version=prompt_version.removeprefix("v") if prompt_version else None,
            policy_version=policy_version,
            within=timeout,
        )

    try:
        report = asyncio.run(run())
    except ReplayError as error:
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    else:
        console.print(comparison_table(report))
    unknown = unknown_override(report.replay)
    if unknown:
        errors.print(f"[red]error:[/red] the replay did not run as asked: {unknown}")
        raise typer.Exit(1)
