"""Rolling figures, alerts and input drift, without Kafka."""

from __future__ import annotations

import random
import urllib.request

import pytest
from steward_trainer.monitoring import DriftMonitor, MiniLMEmbedder, Monitor, serve_metrics

THRESHOLDS = {"block_rate": 0.3, "mean_feedback_min": 0.5, "language_gap": 0.25, "drift_psi": 0.25}

TAX = [
    "How do I {v} my {o}?",
    "Where can I {v} the {o} online?",
    "When is the deadline to {v} my {o}?",
    "What do I need to {v} a {o}?",
]
TAX_VERBS = ["file", "check", "amend", "pay", "track"]
TAX_OBJECTS = ["tax return", "refund", "sales tax permit", "income tax", "IRS payment plan"]
SHIFTED = [
    "Can I bring my {o} to the {v} park?",
    "Is {o} allowed on the {v} beach?",
    "Where can I go fishing with a {o} near the {v} lake?",
]
SHIFTED_VERBS = ["national", "city", "county", "state"]
SHIFTED_OBJECTS = ["dog", "kayak", "tent", "camper van", "fishing rod"]


def _questions(
    templates: list[str], verbs: list[str], objects: list[str], n: int, seed: int
) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(templates).format(v=rng.choice(verbs), o=rng.choice(objects)) for _ in range(n)
    ]


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_a_rate_alert_fires_once_on_crossing_and_rearms() -> None:
    monitor = Monitor(window_seconds=3600, min_samples=5, thresholds=THRESHOLDS)
    alerts = [
        alert
        for n in range(10)
        for alert in monitor.observe("t", "en", "chat", "blocked", float(n >= 6), float(n))
    ]
    assert [a.metric for a in alerts] == ["block_rate"]
    assert alerts[0].dimensions == {"tenant": "t", "language": "en", "channel": "chat"}


def test_low_feedback_and_a_gap_between_languages_alert() -> None:
    monitor = Monitor(window_seconds=3600, min_samples=5, thresholds=THRESHOLDS)
    alerts = []
    for n in range(6):
        alerts += monitor.observe("t", "en", "chat", "feedback", 1.0, float(n))
        alerts += monitor.observe("t", "es", "chat", "feedback", 0.0, float(n))
    metrics = sorted({alert.metric for alert in alerts})
    assert metrics == ["language_gap", "mean_feedback"]
    assert all(a.dimensions.get("language") == "es" for a in alerts if a.metric == "mean_feedback")


def test_metrics_are_served_for_prometheus_on_loopback() -> None:
    monitor = Monitor(window_seconds=3600, min_samples=1, thresholds=THRESHOLDS)
    monitor.observe("t", "en", "chat", "groundedness", 0.8, 0.0)
    server = serve_metrics(monitor.registry, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        body = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        server.shutdown()
    assert 'steward_trainer_figure{channel="chat",figure="groundedness"' in body


def test_drift_fires_on_a_shifted_stream_and_stays_silent_on_a_stable_one(
    embedder: MiniLMEmbedder,
) -> None:
    reference = embedder.embed(_questions(TAX, TAX_VERBS, TAX_OBJECTS, 100, seed=1))
    stable = embedder.embed(_questions(TAX, TAX_VERBS, TAX_OBJECTS, 60, seed=2))
    shifted = embedder.embed(_questions(SHIFTED, SHIFTED_VERBS, SHIFTED_OBJECTS, 60, seed=3))
    monitor = Monitor(window_seconds=3600, min_samples=5, thresholds=THRESHOLDS)

    quiet = DriftMonitor(reference_size=100, window=60, clusters=5)
    assert quiet.observe("t", reference) is None
    psi_stable = quiet.observe("t", stable)
    assert psi_stable is not None and monitor.observe_drift("t", psi_stable) == []

    moved = DriftMonitor(reference_size=100, window=60, clusters=5)
    moved.observe("t", reference)
    psi_shifted = moved.observe("t", shifted)
    assert psi_shifted is not None and psi_shifted > 1.0 > 0.25 > psi_stable
    assert [a.metric for a in monitor.observe_drift("t", psi_shifted)] == ["drift_psi"]
