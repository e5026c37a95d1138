"""The `steward` command."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from steward_bus import BusSettings, contract_topics, ensure_topics
from steward_infra import InfraError, InfraSettings, LocalStack

from steward_cli import ask, ingest, replay, token, trace, trainer
from steward_cli.ledger import ledger_app
from steward_cli.supervisor import Supervisor, installed_services, wait_listening
from steward_cli.token import DEFAULT_TENANT
from steward_cli.watch import InfraWatch

app = typer.Typer(help="Steward: governed LLM services for public agencies.", no_args_is_help=True)
infra_app = typer.Typer(help="The embedded broker and PostgreSQL.", no_args_is_help=True)
app.add_typer(infra_app, name="infra")
app.add_typer(ledger_app, name="ledger")
trainer.register(app)
ingest.register(app)
app.command("ask")(ask.ask)
app.command("token")(token.token)
app.command("trace")(trace.trace)
app.command("replay")(replay.replay)
console = Console()


def _start_infra() -> tuple[LocalStack, list[str]]:
    stack = LocalStack.from_settings(InfraSettings())
    try:
        started = stack.start()
    except InfraError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    return stack, started


# Where the HTTP edges listen, with the variables that move them.
_EDGES = (
    ("gateway", "STEWARD_GATEWAY_PORT", 8080, "/v1"),
    ("review desk", "STEWARD_REVIEW_HTTP_PORT", 8082, "/"),
    ("auditor API", "STEWARD_LEDGER_API_PORT", 8083, "/docs"),
    ("metrics", "STEWARD_TRAINER_METRICS_PORT", 9464, "/metrics"),
)


def _edge_ports() -> dict[str, int]:
    return {name: int(os.environ.get(variable, default)) for name, variable, default, _ in _EDGES}


def _edge_urls() -> str:
    ports = _edge_ports()
    return "  ".join(f"{name} http://127.0.0.1:{ports[name]}{path}" for name, _, _, path in _EDGES)


def _ingest_after_start(settings: BusSettings, folder: Path, tenant: str) -> bool:
    """Ingest a folder for a tenant while the services run; False when a document failed."""
    documents = ingest.collect_documents([folder])
    console.print(f"ingesting {len(documents)} documents from {folder} for tenant {tenant}")
    outcomes = asyncio.run(ingest.ingest_documents(settings, documents, tenant=tenant))
    console.print(ingest.summary_table(outcomes))
    return all(outcome.status in {"indexed", "unchanged"} for outcome in outcomes)


@app.command()
def up(
    keep_infra: bool = typer.Option(False, help="Leave the broker and PostgreSQL running."),
    startup_timeout: float = typer.Option(180.0, help="Seconds to wait for every service."),
    ingest_path: Annotated[
        Path | None,
        typer.Option(
            "--ingest",
            exists=True,
            help="Once every service is ready, ingest these documents (a file or folder).",
        ),
    ] = None,
    tenant: Annotated[
        str, typer.Option(help="The agency that --ingest files under.")
    ] = DEFAULT_TENANT,
) -> None:
    """Run the embedded stack and every service until Ctrl-C."""
    stack, started = _start_infra()
    environment = stack.environment()
    settings = BusSettings(
        kafka_bootstrap=environment["STEWARD_KAFKA_BOOTSTRAP"],
        database_url=environment["STEWARD_DATABASE_URL"],
    )
    # The replay namespace's topics too: guardrail, indexer and inference serve replays.
    topics = contract_topics(settings.topic_namespace) + contract_topics(settings.replay_namespace)
    created = asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap,
            topics,
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
    )
    services = installed_services()
    supervisor = Supervisor(
        services,
        environment=environment,
        log_dir=InfraSettings().data_dir.resolve() / "logs",
    )

    ingesting = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        # An ingest under way is interrupted first; the `finally` below stops the services.
        if ingesting:
            raise KeyboardInterrupt
        supervisor.stop()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    supervisor.start()
    try:
        with console.status(f"starting {len(services)} services (logs in {supervisor.log_dir})"):
            waiting = supervisor.wait_ready(startup_timeout)
            waiting += wait_listening(_edge_ports(), 0 if waiting else startup_timeout)
        if waiting:
            console.print(
                f"[yellow]not ready after {startup_timeout:.0f} s:[/yellow] {', '.join(waiting)}; "
                f"see {supervisor.log_dir}"
            )
        console.print(
            f"[green]Steward is up[/green]  kafka {settings.kafka_bootstrap}  "
            f"postgres {environment['STEWARD_DATABASE_URL']}  topics {len(created)} created\n"
            f"services {', '.join(s.name for s in services) or 'none'}\n"
            f"{_edge_urls()}"
        )
        if ingest_path is not None and not supervisor.stopping:
            ingesting = True
            ingested = _ingest_after_start(
                settings.model_copy(update={"log_level": "WARNING"}), ingest_path, tenant
            )
            ingesting = False
            if not ingested:
                console.print("[yellow]some documents were not indexed;[/yellow] see the table")
        if not supervisor.stopping:
            console.print(
                f"[green]ready[/green]  gateway http://127.0.0.1:{_edge_ports()['gateway']}/v1"
                f'  try: steward ask "How do I check the status of my refund?" --tenant {tenant}'
                "\n(Ctrl-C stops)"
            )
        infra = InfraWatch(stack, topics, partitions=settings.topic_partitions)

        def keep_infra_running() -> None:
            for component in infra.check():
                lost = "; topics created again, in-flight events lost" * (component == "broker")
                console.print(f"[yellow]{component} had stopped and was restarted[/yellow]{lost}")

        supervisor.watch(keep_infra_running)
    except KeyboardInterrupt:
        console.print("interrupted")
    finally:
        supervisor.stop()
        if not keep_infra:
            # What was already running before `up` is left running.
            stack.stop_started(started)
        console.print("Steward stopped.")


@infra_app.command("up")
def infra_up() -> None:
    """Start the broker and PostgreSQL and leave them running."""
    stack, _ = _start_infra()
    for key, value in stack.environment().items():
        console.print(f"{key}={value}")


@infra_app.command("down")
def infra_down() -> None:
    """Stop the broker and PostgreSQL."""
    LocalStack.from_settings(InfraSettings()).stop()
    console.print("stopped")
