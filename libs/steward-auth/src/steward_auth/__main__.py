"""Development keys and tokens: `python -m steward_auth new-key|mint|dev-token`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from steward_auth._development import DEFAULT_DEV_AUTH_DIR, ensure_development_keys
from steward_auth._errors import AuthConfigError
from steward_auth._mint import SigningKey, generate_signing_key, mint_token, write_jwks


def _new_key(args: argparse.Namespace) -> None:
    """Write a fresh ES256 or RS256 private key and the JWKS that publishes its public half."""
    key = generate_signing_key(args.algorithm, kid=args.kid)
    pem = key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())

    # Create the private key file readable by its owner only.
    descriptor = os.open(args.private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    write_jwks(args.jwks, [key])

    print(json.dumps({"kid": key.kid, "algorithm": key.algorithm, "jwks": str(args.jwks)}))


def _mint(args: argparse.Namespace) -> None:
    """Print a token signed with a private key file written by new-key."""
    private_key = load_pem_private_key(args.private_key.read_bytes(), password=None)
    if isinstance(private_key, rsa.RSAPrivateKey):
        algorithm = "RS256"
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        algorithm = "ES256"
    else:
        raise AuthConfigError(
            f"{args.private_key} holds a {type(private_key).__name__}, expected RSA or EC P-256"
        )
    key = SigningKey(kid=args.kid, algorithm=algorithm, private_key=private_key)

    token = mint_token(
        key,
        subject=args.subject,
        tenant=args.tenant,
        roles=args.role,
        issuer=args.issuer,
        audience=args.audience,
        lifetime=timedelta(minutes=args.minutes),
    )
    print(token)


def _dev_token(args: argparse.Namespace) -> None:
    """Print a token from the embedded profile's development key, creating the key if needed."""
    keys = ensure_development_keys(args.dir)
    token = keys.mint(
        subject=args.subject,
        tenant=args.tenant,
        roles=args.role,
        lifetime=timedelta(minutes=args.minutes),
    )
    print(token)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run new-key or mint."""
    parser = argparse.ArgumentParser(prog="python -m steward_auth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    new_key = commands.add_parser("new-key", help="create a signing key and its JWKS")
    new_key.add_argument("--algorithm", choices=["ES256", "RS256"], default="ES256")
    new_key.add_argument("--kid", default=None)
    new_key.add_argument("--private-key", type=Path, required=True)
    new_key.add_argument("--jwks", type=Path, required=True)
    new_key.set_defaults(run=_new_key)

    mint = commands.add_parser("mint", help="print a development token")
    mint.add_argument("--private-key", type=Path, required=True)
    mint.add_argument("--kid", required=True, help="the kid printed by new-key")
    mint.add_argument("--subject", required=True)
    mint.add_argument("--tenant", required=True)
    mint.add_argument("--role", action="append", default=[], help="repeat for several roles")
    mint.add_argument("--issuer", required=True)
    mint.add_argument("--audience", required=True)
    mint.add_argument("--minutes", type=int, default=60)
    mint.set_defaults(run=_mint)

    dev_token = commands.add_parser(
        "dev-token", help="print a token every edge of the embedded profile accepts"
    )
    dev_token.add_argument("--dir", type=Path, default=DEFAULT_DEV_AUTH_DIR)
    dev_token.add_argument("--subject", required=True)
    dev_token.add_argument("--tenant", required=True)
    dev_token.add_argument("--role", action="append", default=[], help="repeat for several roles")
    dev_token.add_argument("--minutes", type=int, default=480)
    dev_token.set_defaults(run=_dev_token)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (AuthConfigError, OSError, ValueError) as error:
        print(f"steward_auth: {error}", file=sys.stderr)
        raise SystemExit(2) from error


if __name__ == "__main__":
    main()
