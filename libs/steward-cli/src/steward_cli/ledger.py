"""`steward ledger`: check an exported bundle offline, or fetch one from the auditor API."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from steward_cli.endpoints import (
    TOKEN_ENVIRONMENT,
    AuditorTokenOption,
    LedgerUrlOption,
    ledger_url,
)

if TYPE_CHECKING:
    from steward_ledger_proofs import VerificationReport

ledger_app = typer.Typer(help="The audit ledger: verify and export bundles.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@ledger_app.command()
def verify(
    bundle: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="An exported bundle (JSON lines)."
        ),
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            exists=True,
            dir_okay=False,
            help="The ledger's Ed25519 public key (PEM) to pin; else the bundle's own is used.",
        ),
    ] = None,
) -> None:
    """Check every event, proof and signed checkpoint of a bundle, with no database."""
    # Imported here so the rest of the command line works where the ledger library is absent.
    from steward_ledger_proofs import LedgerProofError, public_key_from_pem, verify_bundle

    try:
        trusted = public_key_from_pem(public_key.read_bytes()) if public_key else None
    except (LedgerProofError, ValueError) as error:
        errors.print(f"[red]error:[/red] {public_key} is not an Ed25519 public key: {error}")
        raise typer.Exit(2) from None

    report = verify_bundle(bundle, trusted_public_key=trusted)
    if not report.ok:
        where = (
            f"seq {report.first_failed_seq}"
            if report.first_failed_seq is not None
            else "the bundle header"
        )
        console.print(f"FAILED at {where}: {report.reason}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(_summary(report), markup=False, highlight=False)
    if report.kind == "events":
        errors.print(
            "note: a bundle of selected events (a correlation id) proves each event is in the "
            "log, not that none of the selection was left out; a time-range bundle proves that"
        )
    if trusted is None:
        errors.print(
            "note: the signing key was taken from the bundle itself; pass --public-key to pin it"
        )


@ledger_app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the bundle.")],
    correlation_id: Annotated[str | None, typer.Option(help="One correlation id.")] = None,
    occurred_from: Annotated[datetime | None, typer.Option(help="Start of a time range.")] = None,
    occurred_to: Annotated[datetime | None, typer.Option(help="End of the range.")] = None,
    url: LedgerUrlOption = None,
    token: AuditorTokenOption = None,
) -> None:
    """Download a bundle of the token's tenant from the auditor API.

    Name what to export: --correlation-id, or a time range with --occurred-from and/or
    --occurred-to. The API wants an auditor token (--token or $STEWARD_TOKEN); in the embedded
    profile `steward token --role auditor --tenant TENANT` makes one.
    """
    import httpx

    if correlation_id is None and occurred_from is None and occurred_to is None:
        errors.print(
            "[red]error:[/red] name what to export: --correlation-id, or a time range with "
            "--occurred-from and/or --occurred-to"
        )
        raise typer.Exit(2)
    bearer = token or os.environ.get(TOKEN_ENVIRONMENT)
    if not bearer:
        errors.print(
            f"[red]error:[/red] no token: pass --token or set {TOKEN_ENVIRONMENT} "
            "(`steward token --role auditor --tenant TENANT` makes one in the embedded profile)"
        )
        raise typer.Exit(2)
    params = {
        name: value
        for name, value in (
            ("correlation_id", correlation_id),
            ("occurred_from", occurred_from.isoformat() if occurred_from else None),
            ("occurred_to", occurred_to.isoformat() if occurred_to else None),
        )
        if value is not None
    }

    url = url or ledger_url()
    # Streamed to a temporary name, so a failed download never leaves half a bundle behind.
    partial = output.with_name(output.name + ".part")
    try:
        _download(url, params, bearer, partial)
    except httpx.TransportError as error:
        errors.print(
            f"[red]error:[/red] cannot reach the auditor API at {url}: {type(error).__name__}; "
            "is the ledger running? (--url or $STEWARD_LEDGER_API_PORT)"
        )
        raise typer.Exit(1) from None
    partial.replace(output)
    console.print(f"wrote {output}", highlight=False)


def _download(url: str, params: dict[str, str], bearer: str, partial: Path) -> None:
    import httpx

    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(30.0, read=None)) as client,
        client.stream(
            "GET", "/v1/exports", params=params, headers={"Authorization": f"Bearer {bearer}"}
        ) as response,
    ):
        if response.status_code != 200:
            detail = response.read().decode("utf-8", "replace")[:500]
            errors.print(f"[red]error:[/red] {response.status_code} {detail}", highlight=False)
            raise typer.Exit(1)
        with partial.open("wb") as handle:
            for chunk in response.iter_bytes():
                handle.write(chunk)
    console.print(
        f"{response.headers.get('X-Steward-Bundle-Events', '?')} events", highlight=False
    )


def _summary(report: VerificationReport) -> str:
    """One line saying what a passing check covered."""
    return (
        f"OK: {report.events_checked} events ({report.pruned_events} pruned),"
        f" {report.checkpoints_checked} checkpoints, tree size {report.tree_size},"
        f" key {report.key_id}{' (pinned)' if report.key_trusted else ''}"
    )
