"""The circuit breaker opens after N failures, refuses, half-opens and recovers."""

from __future__ import annotations

import pytest

from steward_inference import CircuitBreaker, CircuitOpenError, CircuitState


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_and_refuses() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="m", failure_threshold=3, cooldown_s=5.0, clock=clock)

    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED

    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now += 2.0
    with pytest.raises(CircuitOpenError) as refused:
        breaker.before_call()
    assert refused.value.reason == "circuit_open"
    assert refused.value.retry_after_s == pytest.approx(3.0)


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(name="m", failure_threshold=2, cooldown_s=5.0, clock=ManualClock())

    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()

    assert breaker.state is CircuitState.CLOSED


def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="m", failure_threshold=1, cooldown_s=5.0, clock=clock)
    breaker.record_failure()

    clock.now += 5.0
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.before_call()
    with pytest.raises(CircuitOpenError):
        breaker.before_call()

    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    breaker.before_call()


def test_failed_trial_opens_again_for_a_full_cool_down() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="m", failure_threshold=3, cooldown_s=5.0, clock=clock)
    for _ in range(3):
        breaker.record_failure()

    clock.now += 6.0
    breaker.before_call()
    breaker.record_failure()

    assert breaker.state is CircuitState.OPEN
    clock.now += 4.9
    assert breaker.state is CircuitState.OPEN
    clock.now += 0.1
    assert breaker.state is CircuitState.HALF_OPEN


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="failure_threshold must be at least 1, got 0"):
        CircuitBreaker(name="m", failure_threshold=0)
