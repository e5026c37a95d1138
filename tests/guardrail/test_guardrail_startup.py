"""What stops the guardrail at start, where its key comes from, and how it fails closed."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from steward_events import ChatRequested, InferenceCompleted
from steward_guardrail import PiiKeyError, PolicyError, load_policies, pii_key
from steward_guardrail.app import GuardrailService
from steward_guardrail.pii_key import resolve_pii_key
from steward_guardrail.settings import GuardrailSettings

POLICY = Path(__file__).resolve().parents[2] / "services/guardrail/policies/riverland-revenue.yaml"


def _bad_policy_dir(tmp_path: Path) -> Path:
    """A policy folder whose only file has an injection threshold above 1."""
    text = POLICY.read_text().replace("  threshold: 0.5\n", "  threshold: 1.5\n", 1)
    assert "threshold: 1.5" in text
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "riverland-revenue.yaml").write_text(text)
    return folder


def test_a_bad_policy_file_stops_the_start_naming_the_field(tmp_path: Path) -> None:
    settings = GuardrailSettings(
        guardrail_policy_dir=_bad_policy_dir(tmp_path), otel_exporter="none"
    )

    with pytest.raises(
        PolicyError, match=r"riverland-revenue\.yaml: field 'injection\.threshold'"
    ):
        GuardrailService.from_settings(settings)


def test_the_service_process_refuses_to_start_on_a_bad_policy_file(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "STEWARD_GUARDRAIL_POLICY_DIR": str(_bad_policy_dir(tmp_path)),
        "STEWARD_OTEL_EXPORTER": "none",
        # Nothing may be reached: the policy check comes before the bus and the model.
        "STEWARD_KAFKA_BOOTSTRAP": "127.0.0.1:9",
    }

    finished = subprocess.run(
        [sys.executable, "-m", "steward_guardrail"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert finished.returncode != 0
    assert "field 'injection.threshold'" in finished.stderr
    assert "guardrail.refused_to_start" in finished.stderr


def test_the_kafka_profile_requires_a_configured_key(tmp_path: Path) -> None:
    settings = GuardrailSettings(profile="kafka", guardrail_pii_key_file=tmp_path / "pii.key")

    with pytest.raises(PiiKeyError, match="STEWARD_GUARDRAIL_PII_KEY is required"):
        resolve_pii_key(settings)
    assert not (tmp_path / "pii.key").exists()


def test_a_configured_key_is_used_and_a_malformed_one_is_named(tmp_path: Path) -> None:
    key = os.urandom(32)
    good = base64.b64encode(key).decode()

    assert resolve_pii_key(GuardrailSettings(profile="kafka", guardrail_pii_key=good)) == key
    with pytest.raises(PiiKeyError, match="STEWARD_GUARDRAIL_PII_KEY: Invalid PII key size"):
        resolve_pii_key(GuardrailSettings(guardrail_pii_key=base64.b64encode(b"short").decode()))


class _Recorder:
    """Stands in for a structlog logger and keeps what was logged."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def test_the_embedded_profile_makes_one_private_development_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "guardrail" / "pii.key"
    settings = GuardrailSettings(guardrail_pii_key_file=path)
    recorder = _Recorder()
    monkeypatch.setattr(pii_key, "_log", recorder)

    first = resolve_pii_key(settings)
    second = resolve_pii_key(settings)

    assert first == second
    assert len(first) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert recorder.lines == [
        ("guardrail.development_pii_key", {"path": str(path), "created": True}),
        ("guardrail.development_pii_key", {"path": str(path), "created": False}),
    ]
    assert path.read_text().strip() not in repr(recorder.lines)


def test_a_development_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pii.key"
    path.write_text(base64.b64encode(os.urandom(32)).decode())
    path.chmod(0o644)

    with pytest.raises(PiiKeyError, match="mode 0644; expected 0600"):
        resolve_pii_key(GuardrailSettings(guardrail_pii_key_file=path))


class _StuckGuardrail:
    """A guardrail whose checks never finish until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def prepare(self, policy: Any) -> None:
        """Nothing to prepare."""

    def screen_prompt(self, *args: Any, **kwargs: Any) -> Any:
        self.release.wait()
        return None

    def check_answer(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the answer check broke")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_check_past_its_budget_or_broken_fails_closed_to_review(
    tmp_path: Path,
) -> None:
    settings = GuardrailSettings(
        guardrail_policy_dir=POLICY.parent,
        guardrail_originals_dir=tmp_path,
        guardrail_screen_timeout_s=0.05,
        otel_exporter="none",
    )
    policy = load_policies(POLICY.parent)["riverland-revenue"]
    stuck = _StuckGuardrail()
    app = GuardrailService(settings, stuck, {policy.tenant: policy})  # type: ignore[arg-type]
    secret = "My SSN is 123-45-6789, when is my refund due?"

    try:
        screened = await app.screen(
            ChatRequested(conversation_id="conv-stuck", question=secret, locale="es-PR"), policy
        )
        # The one worker thread stays busy with the stuck check until it ends by itself.
        stuck.release.set()
        checked = await app.check(
            # Only the fields the check reads; the draft never reaches the bus.
            InferenceCompleted.model_construct(  # type: ignore[call-arg]
                question="q", text="A draft.", passages=[], language="en"
            ),
            policy,
        )
    finally:
        stuck.release.set()
        await app.stop()

    assert screened.verdict == "review"
    assert screened.causes == ["check_error"]
    assert [(f.kind, f.detail) for f in screened.findings] == [("check_error", "timeout")]
    assert "123-45-6789" not in screened.redacted_text
    assert screened.language == "es"
    assert screened.reply == policy.messages.human_handoff.es
    assert checked.verdict == "review"
    assert [(f.kind, f.detail) for f in checked.findings] == [("check_error", "RuntimeError")]
    assert policy.review_priority.for_causes(checked.causes) == "high"
