"""`steward token`: development tokens that the embedded profile's HTTP edges accept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from steward_auth import DEFAULT_DEV_AUTH_DIR, AuthConfigError, ensure_development_keys
from steward_bus import BusSettings

DEFAULT_AUTH_DIR = DEFAULT_DEV_AUTH_DIR
DEFAULT_TENANT = "riverland-revenue"


class NotEmbedded(Exception):
    """Development tokens were asked for outside the embedded profile."""


def development_token(
    *,
    subject: str,
    tenant: str,
    roles: list[str],
    minutes: int = 480,
    folder: Path = DEFAULT_AUTH_DIR,
) -> str:
    """Mint a token from the embedded profile's development key, creating the key if needed."""
    profile = BusSettings().profile
    if profile != "embedded":
        raise NotEmbedded(
            f"development tokens exist only in the embedded profile; STEWARD_PROFILE is {profile}"
        )
    keys = ensure_development_keys(folder)
    return keys.mint(
        subject=subject, tenant=tenant, roles=roles, lifetime=timedelta(minutes=minutes)
    )


def token(
    tenant: Annotated[str, typer.Option(help="The agency the token acts for.")] = DEFAULT_TENANT,
    role: Annotated[list[str] | None, typer.Option(help="A role; repeat for several.")] = None,
    subject: Annotated[str, typer.Option(help="The token's subject.")] = "dev-citizen",
    minutes: Annotated[int, typer.Option(min=1, max=7 * 24 * 60, help="Lifetime.")] = 480,
    auth_dir: Annotated[Path, typer.Option(help="Folder of the development key.")] = (
        DEFAULT_AUTH_DIR
    ),
) -> None:
    """Print a development token (embedded profile only)."""
    role = role or ["citizen"]
    try:
        printed = development_token(
            subject=subject, tenant=tenant, roles=role, minutes=minutes, folder=auth_dir
        )
    except (NotEmbedded, AuthConfigError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(printed)
