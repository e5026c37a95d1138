"""Shared fixtures: one loaded guardrail and the example policy for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from steward_guardrail import Guardrail, OriginalsCipher, Policy, load_policy
from steward_guardrail.embedding import shared_embedder

SERVICE_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_POLICY = SERVICE_ROOT / "policies" / "riverland-revenue.yaml"
EVAL_DIR = SERVICE_ROOT / "eval"


@pytest.fixture(scope="session")
def policy() -> Policy:
    """Return the shipped example policy."""
    return load_policy(EXAMPLE_POLICY)


@pytest.fixture(scope="session")
def key() -> bytes:
    """Return a fresh AES-256 key for this test session."""
    return os.urandom(32)


@pytest.fixture(scope="session")
def guardrail(key: bytes) -> Guardrail:
    """Return a guardrail with the real embedding model, loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Guardrail(OriginalsCipher(key), embedder=shared_embedder())
