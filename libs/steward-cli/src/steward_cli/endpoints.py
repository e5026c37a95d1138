"""Where the command line finds the stack `steward up` runs, from the same variables it reads."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from steward_bus import BusSettings
from steward_infra import InfraSettings, LocalStack

HOST = "127.0.0.1"
TOKEN_ENVIRONMENT = "STEWARD_TOKEN"  # noqa: S105 - the name of a variable, not a token

# The options of the commands that talk to the auditor API.
LedgerUrlOption = Annotated[
    str | None,
    typer.Option(
        help="The ledger's auditor API; default $STEWARD_LEDGER_URL, else the local one on "
        "$STEWARD_LEDGER_API_PORT (8083)."
    ),
]
AuditorTokenOption = Annotated[
    str | None,
    typer.Option(help=f"Auditor bearer token; by default read from ${TOKEN_ENVIRONMENT}."),
]


def gateway_url() -> str:
    """STEWARD_GATEWAY_URL, else the local gateway on STEWARD_GATEWAY_PORT (8080)."""
    return os.environ.get("STEWARD_GATEWAY_URL") or (
        f"http://{HOST}:{os.environ.get('STEWARD_GATEWAY_PORT', '8080')}"
    )


def ledger_url() -> str:
    """STEWARD_LEDGER_URL, else the local auditor API on STEWARD_LEDGER_API_PORT (8083)."""
    return os.environ.get("STEWARD_LEDGER_URL") or (
        f"http://{HOST}:{os.environ.get('STEWARD_LEDGER_API_PORT', '8083')}"
    )


def bus_settings(**overrides: Any) -> BusSettings:
    """Bus settings for a command: the configured broker and database, else the local stack's.

    STEWARD_KAFKA_BOOTSTRAP and STEWARD_DATABASE_URL win; without them the embedded stack's
    addresses follow STEWARD_BROKER_PORT and STEWARD_PG_PORT, as `steward up` does.
    """
    local = LocalStack.from_settings(InfraSettings()).environment()
    return BusSettings(
        kafka_bootstrap=os.environ.get("STEWARD_KAFKA_BOOTSTRAP")
        or local["STEWARD_KAFKA_BOOTSTRAP"],
        database_url=os.environ.get("STEWARD_DATABASE_URL") or local["STEWARD_DATABASE_URL"],
        **overrides,
    )
