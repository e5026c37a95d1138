"""ReviewSettings read from the environment, per profile."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from steward_auth import DEV_AUDIENCE, DEV_ISSUER, AuthConfigError
from steward_review.settings import ReviewSettings, ReviewSettingsError


def test_settings_come_from_prefixed_nested_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("tenants:\n  courts: {high_impact: true}\n", encoding="utf-8")
    monkeypatch.setenv("STEWARD_PROFILE", "kafka")
    monkeypatch.setenv("STEWARD_DATABASE_URL", "postgresql://127.0.0.1:5999/review")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__ISSUER", "https://id.agency.gov")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__AUDIENCE", "steward-review")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__JWKS_PATH", str(tmp_path / "jwks.json"))
    monkeypatch.setenv("STEWARD_REVIEW_PSEUDONYM_SECRET", "p" * 40)
    monkeypatch.setenv("STEWARD_REVIEW_LEASE_SECONDS", "120")
    monkeypatch.setenv("STEWARD_REVIEW_POLICY_PATH", str(policy))
    monkeypatch.setenv("STEWARD_REVIEW_HTTP_PORT", "9099")

    settings = ReviewSettings()

    assert settings.auth_settings().audience == "steward-review"
    assert settings.database_url == "postgresql://127.0.0.1:5999/review"
    assert settings.lease == timedelta(minutes=2)
    assert settings.policy_book().for_tenant("courts").high_impact is True
    assert settings.pseudonym_secret() == b"p" * 40
    assert settings.review_http_port == 9099
    assert settings.cookie_secure is True


def test_embedded_profile_needs_no_keys_and_keeps_them_on_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_AUTH_DIR", str(tmp_path / "auth"))
    monkeypatch.setenv("STEWARD_REVIEW_PSEUDONYM_SECRET_FILE", str(tmp_path / "pseudonym.key"))

    settings = ReviewSettings()
    auth = settings.auth_settings()
    secret = settings.pseudonym_secret()

    assert (auth.issuer, auth.audience) == (DEV_ISSUER, DEV_AUDIENCE)
    assert auth.jwks_path == tmp_path / "auth" / "jwks.json"
    assert ReviewSettings().pseudonym_secret() == secret
    assert stat.S_IMODE((tmp_path / "pseudonym.key").stat().st_mode) == 0o600
    assert settings.cookie_secure is False
    assert settings.review_http_host == "127.0.0.1"
    assert settings.review_http_port == 8082


def test_kafka_profile_refuses_to_guess_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_PROFILE", "kafka")

    settings = ReviewSettings()

    with pytest.raises(AuthConfigError, match="jwks_path"):
        settings.auth_settings()
    with pytest.raises(ReviewSettingsError, match="PSEUDONYM_SECRET"):
        settings.pseudonym_secret()


def test_short_pseudonym_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_REVIEW_PSEUDONYM_SECRET", "short")

    with pytest.raises(ValidationError, match="review_pseudonym_secret"):
        ReviewSettings()
