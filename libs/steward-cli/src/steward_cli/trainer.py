"""`steward datasets export`, `steward train` and `steward report`: the trainer's commands."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from steward_bus import Service
from steward_events import DatasetKind, DatasetVersionCreated, ModelRef, TrainerRunRequested

if TYPE_CHECKING:
    from steward_trainer.settings import TrainerSettings

_REPORT = Path("steward-report.png")
datasets_app = typer.Typer(help="Training datasets kept by the trainer.", no_args_is_help=True)
console = Console()


def _settings() -> TrainerSettings:
    # The trainer is an optional part of a Steward install; its settings come with it.
    try:
        from steward_trainer.settings import TrainerSettings
    except ImportError:
        console.print("[red]error:[/red] the steward-trainer package is not installed")
        raise typer.Exit(1) from None
    return TrainerSettings()


@datasets_app.command("export")
def export(
    tenant: Annotated[str, typer.Option(help="The agency whose rows to export.")],
    kind: Annotated[DatasetKind, typer.Option(help="TRL layout.")] = DatasetKind.SFT,
) -> None:
    """Write a tenant's consenting rows as a new hashed JSONL version and announce it."""
    settings = _settings()
    version = asyncio.run(_export(settings, tenant, kind))
    console.print(
        f"{version['dataset_id']} {version['version']}  rows {version['rows']}  "
        f"sha256 {version['sha256']}  {version['uri']}"
        + ("" if version["created"] else "  (unchanged: existing version)")
    )


async def _export(settings: TrainerSettings, tenant: str, kind: DatasetKind) -> dict[str, Any]:
    from steward_trainer.datasets import export_dataset
    from steward_trainer.errors import EmptyDataset
    from steward_trainer.store import TrainerStore

    # LIMITATION: the command reads the trainer's tables directly rather than asking the
    # service over the bus; an export-request event would keep the tables the service's own.
    store = await TrainerStore.connect(settings.database_url, settings.trainer_db_schema)
    try:
        version, created = await export_dataset(store, tenant, kind, settings.trainer_data_dir)
    except EmptyDataset as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        await store.close()
    if created:
        async with Service("trainer-cli", settings) as service:
            await service.publish(
                DatasetVersionCreated(
                    dataset_id=version.dataset_id,
                    kind=kind,
                    version=version.version,
                    sha256=version.sha256,
                    rows=version.rows,
                    uri=version.uri,
                ),
                tenant=tenant,
                correlation_id=f"{version.dataset_id}/{version.version}",
            )
    return {**version.__dict__, "created": created}


def train(
    tenant: Annotated[str, typer.Option(help="The agency the run is for.")],
    version: Annotated[str, typer.Option(help="Dataset version, e.g. v0001.")],
    dataset: Annotated[str, typer.Option(help="Dataset id.")] = "feedback-sft",
    max_steps: Annotated[int | None, typer.Option(help="Training steps.")] = None,
    requested_by: Annotated[str, typer.Option(help="Pseudonymous requester.")] = "steward-cli",
) -> None:
    """Ask the trainer service, over the bus, for a LoRA run on a dataset version."""
    settings = _settings()
    from steward_trainer.base_model import MODEL_NAME

    run_id = f"run-{uuid.uuid4().hex[:12]}"
    request = TrainerRunRequested(
        run_id=run_id,
        dataset_id=dataset,
        dataset_version=version,
        base_model=ModelRef(name=MODEL_NAME, revision="packaged", backend="transformers-peft"),
        settings={"max_steps": str(max_steps)} if max_steps else {},
        requested_by=requested_by,
    )

    async def send() -> None:
        async with Service("trainer-cli", settings) as service:
            await service.publish(request, tenant=tenant, correlation_id=run_id)

    asyncio.run(send())
    console.print(f"requested {run_id}: the trainer answers with model.candidate_registered")


def report(
    output: Annotated[Path, typer.Option(help="Where to write the PNG.")] = _REPORT,
    tenant: Annotated[str | None, typer.Option(help="One agency, or all of them.")] = None,
    days: Annotated[int, typer.Option(min=1, help="How many days back.")] = 7,
) -> None:
    """Render a PNG chart of the monitoring figures of the last days."""
    settings = _settings()

    async def render() -> Path:
        from steward_trainer.report import render_report
        from steward_trainer.store import TrainerStore

        store = await TrainerStore.connect(settings.database_url, settings.trainer_db_schema)
        try:
            rendered: Path = await render_report(store, output, tenant=tenant, days=days)
            return rendered
        finally:
            await store.close()

    console.print(f"wrote {asyncio.run(render())}")


def register(app: typer.Typer) -> None:
    """Add the trainer's commands to the `steward` command."""
    app.add_typer(datasets_app, name="datasets")
    app.command()(train)
    app.command()(report)
