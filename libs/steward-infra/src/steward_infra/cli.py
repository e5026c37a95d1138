"""`python -m steward_infra up|down|status`: the embedded infrastructure from the shell."""

from __future__ import annotations

import typer
from rich.console import Console

from steward_infra.processes import InfraError
from steward_infra.stack import LocalStack

app = typer.Typer(help="Start, check and stop Steward's embedded broker and PostgreSQL.")
console = Console(stderr=True)


@app.command()
def up() -> None:
    """Start the broker and PostgreSQL (a no-op for what already runs) and wait until ready."""
    stack = LocalStack.from_settings()
    try:
        broker_started = stack.broker.start()
        postgres_started = stack.postgres.start()
    except InfraError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(
        f"broker   {stack.broker.bootstrap}  {'started' if broker_started else 'already running'}"
    )
    console.print(
        f"postgres {stack.postgres.dsn}  {'started' if postgres_started else 'already running'}"
    )


@app.command()
def down() -> None:
    """Stop the broker and PostgreSQL if they run."""
    stack = LocalStack.from_settings()
    broker_stopped = stack.broker.stop()
    postgres_stopped = stack.postgres.stop()
    console.print(f"broker   {'stopped' if broker_stopped else 'was not running'}")
    console.print(f"postgres {'stopped' if postgres_stopped else 'was not running'}")


@app.command()
def status() -> None:
    """Say whether each component runs; exit 1 when one does not."""
    stack = LocalStack.from_settings()
    broker, postgres = stack.broker.pid(), stack.postgres.pid()
    console.print(
        f"broker   {stack.broker.bootstrap}  {'pid ' + str(broker) if broker else 'down'}"
    )
    console.print(
        f"postgres {stack.postgres.dsn}  {'pid ' + str(postgres) if postgres else 'down'}"
    )
    if broker is None or postgres is None:
        raise typer.Exit(1)


@app.command()
def env() -> None:
    """Print shell exports that point services at the stack."""
    for key, value in LocalStack.from_settings().environment().items():
        print(f"export {key}={value}")
