"""`steward token`: development tokens that the embedded profile's HTTP edges accept."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import steward_auth
import typer
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from steward_auth import AuthConfigError, SigningKey, generate_signing_key, mint_token
from steward_bus import BusSettings

DEV_ISSUER = "steward-dev"
DEV_AUDIENCE = "steward"
DEFAULT_AUTH_DIR = Path(".steward/auth")
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
    return mint_token(
        development_key(folder),
        subject=subject,
        tenant=tenant,
        roles=roles,
        issuer=DEV_ISSUER,
        audience=DEV_AUDIENCE,
        lifetime=timedelta(minutes=minutes),
    )


def development_key(folder: Path) -> SigningKey:
    """The development signing key under `folder`, with its JWKS beside it."""
    # Newer steward_auth keeps this key itself; the same files are written here otherwise.
    ensure = getattr(steward_auth, "ensure_development_keys", None)
    if ensure is not None:
        key: SigningKey = ensure(folder).signing_key
        return key

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_key_path = folder / "signing-key.pem"
    if not private_key_path.exists():
        pem = generate_signing_key("ES256").private_key.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        # Exclusive create: of two racing commands, the first key written is the one kept.
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(private_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    private_key = load_pem_private_key(private_key_path.read_bytes(), password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise AuthConfigError(f"{private_key_path} holds no EC P-256 key")

    # The kid is the key's RFC 7638 thumbprint, so every reader derives the same one.
    unnamed = SigningKey("pending", "ES256", private_key).public_jwk()
    members = {name: unnamed[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    kid = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
    key = SigningKey(kid, "ES256", private_key)

    document = json.dumps({"keys": [key.public_jwk()]}, indent=2, sort_keys=True)
    jwks_path = folder / "jwks.json"
    if not jwks_path.exists() or jwks_path.read_text(encoding="utf-8") != document:
        descriptor, staged = tempfile.mkstemp(dir=folder, prefix=".jwks.json-")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(document)
        os.chmod(staged, 0o644)
        os.replace(staged, jwks_path)
    return key


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
