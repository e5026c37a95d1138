"""ReviewSettings read from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from steward_review.settings import ReviewSettings


def test_settings_come_from_prefixed_nested_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("tenants:\n  courts: {high_impact: true}\n", encoding="utf-8")
    monkeypatch.setenv("STEWARD_REVIEW_DATABASE_URL", "postgresql://127.0.0.1:5999/review")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__ISSUER", "https://id.agency.gov")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__AUDIENCE", "steward-review")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__JWKS_PATH", str(tmp_path / "jwks.json"))
    monkeypatch.setenv("STEWARD_REVIEW_PSEUDONYM_SECRET", "p" * 40)
    monkeypatch.setenv("STEWARD_REVIEW_LEASE_SECONDS", "120")
    monkeypatch.setenv("STEWARD_REVIEW_POLICY_PATH", str(policy))

    settings = ReviewSettings()  # type: ignore[call-arg]

    assert settings.auth.audience == "steward-review"
    assert settings.lease == timedelta(minutes=2)
    assert settings.policy_book().for_tenant("courts").high_impact is True
    assert settings.cookie_secure is True


def test_short_pseudonym_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_REVIEW_DATABASE_URL", "postgresql://127.0.0.1:5999/review")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__ISSUER", "https://id.agency.gov")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__AUDIENCE", "steward-review")
    monkeypatch.setenv("STEWARD_REVIEW_AUTH__JWKS_PATH", "/nonexistent/jwks.json")
    monkeypatch.setenv("STEWARD_REVIEW_PSEUDONYM_SECRET", "short")

    with pytest.raises(ValidationError, match="pseudonym_secret"):
        ReviewSettings()  # type: ignore[call-arg]
