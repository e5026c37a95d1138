"""Where the gateway's keys come from in each profile."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from steward_auth import AuthConfigError, AuthSettings, TokenVerifier

from gateway_samples import token_kit
from steward_gateway.errors import GatewaySettingsError
from steward_gateway.settings import GatewaySettings


@pytest.fixture
def jwks_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A local HTTP server publishing a JWKS, and a token signed by its key."""
    kit = token_kit(tmp_path)
    body = (tmp_path / "jwks.json").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/jwks" else 404)
            self.end_headers()
            self.wfile.write(body if self.path == "/jwks" else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", kit.token()
    server.shutdown()
    server.server_close()


def test_a_jwks_url_is_fetched_into_the_configured_file(
    jwks_server: tuple[str, str], tmp_path: Path
) -> None:
    base, token = jwks_server
    kept = tmp_path / "fetched" / "jwks.json"
    settings = GatewaySettings(
        profile="kafka",
        gateway_jwks_url=f"{base}/jwks",
        gateway_auth=AuthSettings(issuer="steward-dev", audience="steward", jwks_path=kept),
    )
    principal = TokenVerifier(settings.auth_settings()).verify(token)
    assert principal.tenant == "riverland-revenue"
    assert kept.is_file()


def test_a_jwks_url_that_does_not_answer_keys_stops_the_start(
    jwks_server: tuple[str, str], tmp_path: Path
) -> None:
    base, _ = jwks_server
    settings = GatewaySettings(
        gateway_jwks_url=f"{base}/missing",
        gateway_auth=AuthSettings(
            issuer="steward-dev", audience="steward", jwks_path=tmp_path / "jwks.json"
        ),
    )
    with pytest.raises(AuthConfigError, match=r"cannot fetch JWKS|must be an object"):
        settings.auth_settings()


def test_the_kafka_profile_asks_for_keys_and_a_pseudonym_key() -> None:
    settings = GatewaySettings(profile="kafka")
    with pytest.raises(AuthConfigError, match="kafka profile needs"):
        settings.auth_settings()
    with pytest.raises(GatewaySettingsError, match="STEWARD_GATEWAY_PSEUDONYM_KEY"):
        settings.pseudonym_key()


def test_the_embedded_profile_keeps_its_own_keys(tmp_path: Path) -> None:
    settings = GatewaySettings(
        auth_dir=tmp_path / "auth", gateway_pseudonym_key_file=tmp_path / "gw" / "pseudonym.key"
    )
    assert settings.auth_settings().jwks_path == tmp_path / "auth" / "jwks.json"
    key = settings.pseudonym_key()
    assert key == settings.pseudonym_key(), "the key is kept, not drawn anew"
    assert (tmp_path / "gw" / "pseudonym.key").stat().st_mode & 0o077 == 0


def test_environment_settings_reach_the_nested_auth_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_GATEWAY_PORT", "9191")
    monkeypatch.setenv("STEWARD_GATEWAY_AUTH__ISSUER", "https://id.riverland.example")
    monkeypatch.setenv("STEWARD_GATEWAY_AUTH__AUDIENCE", "steward")
    monkeypatch.setenv("STEWARD_GATEWAY_AUTH__JWKS_PATH", str(tmp_path / "jwks.json"))
    settings = GatewaySettings()
    assert settings.gateway_port == 9191
    assert settings.gateway_auth is not None
    assert settings.gateway_auth.issuer == "https://id.riverland.example"
    assert settings.replica().endswith("-9191")
