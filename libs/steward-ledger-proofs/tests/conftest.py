"""Fixtures for the bundle tests."""

from __future__ import annotations

import pytest
from proofs_testing import RecordedLog, recorded_log_of_45


@pytest.fixture
def recorded_log() -> RecordedLog:
    return recorded_log_of_45()
