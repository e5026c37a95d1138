"""Verification keys loaded from a JWKS file, a PEM public key or a shared secret."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from steward_auth._errors import AuthConfigError
from steward_auth._settings import AuthSettings

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
SYMMETRIC_ALGORITHM = "HS256"
MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One key and the single algorithm it may verify."""

    kid: str | None
    algorithm: str
    key: Any


class KeyRing:
    """The keys a verifier trusts, each bound to exactly one algorithm."""

    def __init__(self, keys: list[VerificationKey]) -> None:
        if not keys:
            raise AuthConfigError("the key ring is empty: expected at least one signing key")

        kids = [key.kid for key in keys]
        if len(keys) > 1 and (None in kids or len(set(kids)) != len(kids)):
            raise AuthConfigError(
                f"a key ring of {len(keys)} keys needs a distinct kid on each, got {kids}"
            )
        self._keys = keys

    @property
    def algorithms(self) -> frozenset[str]:
        """Every algorithm some key in the ring is bound to."""
        return frozenset(key.algorithm for key in self._keys)

    def find(self, kid: str | None) -> VerificationKey | None:
        """Return the key named by a token's kid, or the only key when either side has no kid."""
        # A static PEM key or shared secret has no kid, so any kid a token carries is moot.
        only = self._keys[0] if len(self._keys) == 1 else None
        if kid is None or (only is not None and only.kid is None):
            return only
        return next((key for key in self._keys if key.kid == kid), None)


def load_key_ring(settings: AuthSettings) -> KeyRing:
    """Build the key ring from whichever key source the settings name."""
    if settings.jwks_path is not None:
        return KeyRing(_keys_from_jwks(settings.jwks_path, settings.allow_shared_secret))

    if settings.public_key_path is not None:
        return KeyRing([_key_from_pem(settings.public_key_path)])

    assert settings.shared_secret is not None
    secret = settings.shared_secret.get_secret_value().encode()
    return KeyRing([VerificationKey(kid=None, algorithm=SYMMETRIC_ALGORITHM, key=secret)])


def _keys_from_jwks(path: Path, allow_shared_secret: bool) -> list[VerificationKey]:
    """Read a JWKS document and bind each signing key to its algorithm."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AuthConfigError(f"cannot read JWKS file {path}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise AuthConfigError(f"JWKS file {path} must be an object with a 'keys' list")

    allowed = set(ASYMMETRIC_ALGORITHMS)
    if allow_shared_secret:
        allowed.add(SYMMETRIC_ALGORITHM)

    keys = []
    for index, entry in enumerate(document["keys"]):
        # Encryption keys may share a JWKS with signing keys; they must never verify a token.
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue

        try:
            jwk = PyJWK(entry)
        except PyJWKError as error:
            raise AuthConfigError(f"JWKS file {path}, key {index}: {error}") from error

        if jwk.algorithm_name not in allowed:
            raise AuthConfigError(
                f"JWKS file {path}, key {index}: algorithm {jwk.algorithm_name} is not one of "
                f"{sorted(allowed)}"
            )
        _check_key_strength(jwk.key, f"JWKS file {path}, key {index}")
        keys.append(
            VerificationKey(kid=entry.get("kid"), algorithm=jwk.algorithm_name, key=jwk.key)
        )
    return keys


def _key_from_pem(path: Path) -> VerificationKey:
    """Read a PEM public key and bind it to RS256 or ES256 by its type."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise AuthConfigError(f"cannot read PEM public key {path}: {error}") from error

    _check_key_strength(key, f"PEM public key {path}")
    if isinstance(key, rsa.RSAPublicKey):
        return VerificationKey(kid=None, algorithm="RS256", key=key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return VerificationKey(kid=None, algorithm="ES256", key=key)
    raise AuthConfigError(
        f"PEM public key {path} is a {type(key).__name__}, expected RSA or EC P-256"
    )


def _check_key_strength(key: Any, where: str) -> None:
    """Refuse RSA keys too short to be trusted."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise AuthConfigError(
            f"{where}: RSA key of {key.key_size} bits, expected at least {MIN_RSA_BITS}"
        )
