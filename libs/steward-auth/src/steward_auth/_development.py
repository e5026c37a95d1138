"""The embedded profile's development signing key, shared by every HTTP edge on one machine."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from steward_auth._errors import AuthConfigError
from steward_auth._mint import SigningKey, generate_signing_key, mint_token
from steward_auth._settings import AuthSettings

DEV_ISSUER = "steward-dev"
DEV_AUDIENCE = "steward"
DEFAULT_DEV_AUTH_DIR = Path(".steward/auth")
PRIVATE_KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"

Profile = Literal["embedded", "kafka"]


@dataclass(frozen=True, slots=True)
class DevelopmentKeys:
    """A development ES256 key on disk and the JWKS that publishes its public half."""

    private_key_path: Path
    jwks_path: Path
    signing_key: SigningKey

    def auth_settings(self) -> AuthSettings:
        """Settings that accept tokens from this key, issuer `steward-dev`, audience `steward`."""
        return AuthSettings(issuer=DEV_ISSUER, audience=DEV_AUDIENCE, jwks_path=self.jwks_path)

    def mint(
        self,
        *,
        subject: str,
        tenant: str,
        roles: list[str],
        lifetime: timedelta = timedelta(hours=8),
    ) -> str:
        """Sign a development token that every edge of the embedded profile accepts."""
        return mint_token(
            self.signing_key,
            subject=subject,
            tenant=tenant,
            roles=roles,
            issuer=DEV_ISSUER,
            audience=DEV_AUDIENCE,
            lifetime=lifetime,
        )


def ensure_development_keys(folder: Path = DEFAULT_DEV_AUTH_DIR) -> DevelopmentKeys:
    """Create the development key and JWKS under `folder` unless present; safe to race."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_key_path = folder / PRIVATE_KEY_FILE
    jwks_path = folder / JWKS_FILE

    # Several services start at once: the key is written aside and linked into place, so a
    # reader sees either no file or a whole one, and only the first writer's key survives.
    if not private_key_path.exists():
        _publish_private_key(generate_signing_key("ES256"), private_key_path)
    signing_key = _load_private_key(private_key_path)

    # The JWKS follows from the key alone, so concurrent writers write the same bytes.
    document = json.dumps({"keys": [signing_key.public_jwk()]}, indent=2, sort_keys=True)
    if not jwks_path.exists() or jwks_path.read_text(encoding="utf-8") != document:
        _replace_text(jwks_path, document)
    return DevelopmentKeys(private_key_path, jwks_path, signing_key)


def edge_auth_settings(
    configured: AuthSettings | None,
    *,
    profile: Profile,
    development_dir: Path = DEFAULT_DEV_AUTH_DIR,
) -> AuthSettings:
    """Return the settings an HTTP edge verifies tokens with, for its profile.

    Configured settings win. Without them the embedded profile trusts the development key
    under `development_dir`; the kafka profile refuses to guess and asks for a JWKS file or
    public key. Shared secrets (HS256) are refused in the kafka profile either way.
    """
    if configured is not None:
        if profile == "kafka" and configured.shared_secret is not None:
            raise AuthConfigError(
                "a shared secret (HS256) is refused in the kafka profile; "
                "configure auth jwks_path or public_key_path"
            )
        return configured
    if profile == "kafka":
        # LIMITATION: keys are read from files only; fetching a JWKS URL would need a refresh.
        raise AuthConfigError(
            "the kafka profile needs the identity provider's keys: set auth issuer, audience "
            "and jwks_path (or public_key_path)"
        )
    return ensure_development_keys(development_dir).auth_settings()


def _publish_private_key(key: SigningKey, path: Path) -> None:
    """Write a private key readable by its owner only, unless another process got there first."""
    pem = key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor, staged = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.chmod(staged, 0o600)
        # A link fails when the name exists, so a key already in place is never replaced.
        with contextlib.suppress(FileExistsError):
            os.link(staged, path)
    finally:
        os.unlink(staged)


def _load_private_key(path: Path) -> SigningKey:
    """Read the development key, refusing a file that others may read."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise AuthConfigError(
            f"development signing key {path} has mode {mode:o}, expected 600 (owner only)"
        )
    try:
        private_key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise AuthConfigError(f"cannot read development signing key {path}: {error}") from error
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise AuthConfigError(
            f"development signing key {path} holds a {type(private_key).__name__}, "
            "expected EC P-256"
        )
    key = SigningKey(kid="pending", algorithm="ES256", private_key=private_key)
    return SigningKey(_thumbprint(key), "ES256", private_key)


def _thumbprint(key: SigningKey) -> str:
    """Name a key by its RFC 7638 thumbprint, so every reader derives the same kid."""
    jwk = key.public_jwk()
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def _replace_text(path: Path, text: str) -> None:
    """Write a file whole: readers never see it half written."""
    descriptor, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(staged, 0o644)
    os.replace(staged, path)
