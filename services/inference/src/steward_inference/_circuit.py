"""A circuit breaker that stops calling a backend after repeated failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from steward_inference._errors import CircuitOpenError


class CircuitState(StrEnum):
    """Whether calls go through (closed), are refused (open) or one trial is allowed."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after N consecutive failures and lets one trial call through after a cool-down."""

    def __init__(
        self,
        *,
        name: str,
        failure_threshold: int = 5,
        cooldown_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if cooldown_s < 0:
            raise ValueError(f"cooldown_s must not be negative, got {cooldown_s}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> CircuitState:
        """Return the state as of now, turning open into half-open once the cool-down passed."""
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at >= self.cooldown_s:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def before_call(self) -> None:
        """Raise CircuitOpenError unless a call may go to the backend now."""
        state = self.state
        if state is CircuitState.CLOSED:
            return

        # In half-open only one trial runs; the others are refused until it reports back.
        if state is CircuitState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return

        assert self._opened_at is not None
        retry_after = max(0.0, self.cooldown_s - (self._clock() - self._opened_at))
        raise CircuitOpenError(
            f"Circuit for backend {self.name!r} is {state.value} after {self._failures} "
            f"failures; retry in {retry_after:.1f} s",
            model=self.name,
            retry_after_s=retry_after,
        )

    def record_success(self) -> None:
        """Close the circuit: the backend answered."""
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        """Count a failure, opening the circuit at the threshold or when a trial fails."""
        self._failures += 1
        if self._trial_in_flight or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._trial_in_flight = False
