"""`steward token` and `steward trace` (`steward ask` runs in the gateway process test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from steward_auth import TokenVerifier, ensure_development_keys
from steward_cli.main import app
from steward_cli.trace import load_spans, trace_roots
from typer.testing import CliRunner

runner = CliRunner()


def test_token_mints_what_the_development_jwks_accepts(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "token",
            "--tenant",
            "riverland-revenue",
            "--role",
            "admin",
            "--role",
            "citizen",
            "--subject",
            "ops",
            "--auth-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    verifier = TokenVerifier(ensure_development_keys(tmp_path).auth_settings())
    principal = verifier.verify(result.output.strip())
    assert principal.tenant == "riverland-revenue"
    assert principal.roles == frozenset({"admin", "citizen"})
    assert principal.subject == "ops"


def test_token_is_refused_outside_the_embedded_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_PROFILE", "kafka")
    result = runner.invoke(app, ["token", "--auth-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "only in the embedded profile" in result.output
    assert not (tmp_path / "jwks.json").exists()


def _write_spans(path: Path, service: str, correlation_id: str) -> None:
    """Spans of one request as a service's file exporter writes them, one JSON per line."""
    with path.open("a", encoding="utf-8") as out:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(
            SimpleSpanProcessor(
                ConsoleSpanExporter(out=out, formatter=lambda s: s.to_json(indent=None) + "\n")
            )
        )
        tracer = provider.get_tracer("test")
        attributes = {"steward.correlation_id": correlation_id}
        with tracer.start_as_current_span("POST /v1/ask", kind=SpanKind.SERVER):
            with tracer.start_as_current_span(
                "send steward.chat.requested.v1", attributes=attributes
            ):
                with tracer.start_as_current_span("inner step"):
                    pass
        provider.shutdown()


def test_trace_prints_the_tree_of_the_request_and_nothing_else(tmp_path: Path) -> None:
    _write_spans(tmp_path / "gateway.jsonl", "gateway", "corr-wanted")
    _write_spans(tmp_path / "other.jsonl", "guardrail", "corr-other")
    (tmp_path / "gateway.jsonl").open("a").write('{"half a span\n')

    spans, unreadable = load_spans(tmp_path)
    assert (len(spans), unreadable) == (6, 1)
    [root] = trace_roots(spans, "corr-wanted")
    assert root.name == "POST /v1/ask"
    assert [child.name for child in root.children] == ["send steward.chat.requested.v1"]
    assert root.children[0].children[0].name == "inner step"

    result = runner.invoke(
        app, ["trace", "corr-wanted", "--trace-dir", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "gateway POST /v1/ask" in result.output
    assert "inner step" in result.output
    assert " ms" in result.output
    assert "guardrail" not in result.output
    assert "1 unreadable lines skipped" in result.output


def test_trace_of_an_unknown_id_says_so(tmp_path: Path) -> None:
    _write_spans(tmp_path / "gateway.jsonl", "gateway", "corr-1")
    result = runner.invoke(app, ["trace", "nope", "--trace-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no spans with steward.correlation_id=nope" in result.output
