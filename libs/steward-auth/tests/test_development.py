"""The embedded profile's development key and each profile's edge settings."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from steward_auth import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    AuthConfigError,
    AuthSettings,
    TokenRefused,
    TokenVerifier,
    edge_auth_settings,
    ensure_development_keys,
    generate_signing_key,
    mint_token,
)
from steward_auth.__main__ import main


def test_keys_are_created_once_with_an_owner_only_private_key(tmp_path: Path) -> None:
    folder = tmp_path / "auth"

    first = ensure_development_keys(folder)
    second = ensure_development_keys(folder)

    assert stat.S_IMODE(first.private_key_path.stat().st_mode) == 0o600
    assert first.signing_key.kid == second.signing_key.kid
    published = json.loads(first.jwks_path.read_text(encoding="utf-8"))
    assert [key["kid"] for key in published["keys"]] == [first.signing_key.kid]
    assert "d" not in published["keys"][0], "the JWKS holds the public half only"


def test_concurrent_callers_agree_on_one_key(tmp_path: Path) -> None:
    folder = tmp_path / "auth"

    with ThreadPoolExecutor(max_workers=4) as pool:
        kids = set(pool.map(lambda _: ensure_development_keys(folder).signing_key.kid, range(8)))

    assert len(kids) == 1
    assert sorted(path.name for path in folder.iterdir()) == ["jwks.json", "signing-key.pem"]


def test_a_lost_jwks_is_rewritten_from_the_key(tmp_path: Path) -> None:
    keys = ensure_development_keys(tmp_path)
    keys.jwks_path.unlink()

    again = ensure_development_keys(tmp_path)

    token = again.mint(subject="ann", tenant="agency-a", roles=["reviewer"])
    assert TokenVerifier(again.auth_settings()).verify(token).subject == "ann"


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    keys = ensure_development_keys(tmp_path)
    keys.private_key_path.chmod(0o644)

    with pytest.raises(AuthConfigError, match="mode 644"):
        ensure_development_keys(tmp_path)


def test_embedded_profile_defaults_to_the_development_key(tmp_path: Path) -> None:
    settings = edge_auth_settings(None, profile="embedded", development_dir=tmp_path)
    token = ensure_development_keys(tmp_path).mint(
        subject="ann", tenant="agency-a", roles=["reviewer"]
    )

    principal = TokenVerifier(settings).verify(token)

    assert (settings.issuer, settings.audience) == (DEV_ISSUER, DEV_AUDIENCE)
    assert settings.shared_secret is None and not settings.allow_shared_secret
    assert principal.tenant == "agency-a"


def test_development_tokens_with_another_key_are_refused(tmp_path: Path) -> None:
    settings = edge_auth_settings(None, profile="embedded", development_dir=tmp_path)
    stranger = generate_signing_key("ES256", kid=ensure_development_keys(tmp_path).signing_key.kid)
    forged = mint_token(
        stranger,
        subject="mallory",
        tenant="agency-a",
        roles=["supervisor"],
        issuer=DEV_ISSUER,
        audience=DEV_AUDIENCE,
    )

    with pytest.raises(TokenRefused):
        TokenVerifier(settings).verify(forged)


def test_kafka_profile_needs_configured_keys_and_refuses_hs256(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="jwks_path"):
        edge_auth_settings(None, profile="kafka", development_dir=tmp_path)
    assert not (tmp_path / "signing-key.pem").exists()

    shared = AuthSettings(
        issuer="https://id.agency.gov",
        audience="steward",
        shared_secret="s" * 40,  # type: ignore[arg-type]
        allow_shared_secret=True,
    )
    with pytest.raises(AuthConfigError, match="HS256"):
        edge_auth_settings(shared, profile="kafka")

    configured = AuthSettings(
        issuer="https://id.agency.gov", audience="steward", jwks_path=tmp_path / "jwks.json"
    )
    assert edge_auth_settings(configured, profile="kafka") is configured


def test_dev_token_command_prints_an_accepted_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "dev-token",
            "--dir",
            str(tmp_path),
            "--subject",
            "ann",
            "--tenant",
            "agency-a",
            "--role",
            "supervisor",
        ]
    )
    token = capsys.readouterr().out.strip()

    settings = edge_auth_settings(None, profile="embedded", development_dir=tmp_path)
    assert TokenVerifier(settings).verify(token).roles == frozenset({"supervisor"})
