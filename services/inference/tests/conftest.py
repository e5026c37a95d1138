"""Shared fixtures: one embedded SmolLM2 for the session, an HTTP backend over it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# The suite imports test modules by path, so the shared test kit beside this file is put
# on the import path explicitly.
sys.path.insert(0, str(Path(__file__).parent))

from inference_testkit import SilentServer
from steward_inference import (
    EmbeddedLlama,
    EmbeddedLlamaConfig,
    HttpBackendConfig,
    OpenAICompatibleGenerator,
    ServerKind,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "vllm: needs a vLLM server named by STEWARD_VLLM_BASE_URL")


@pytest.fixture(scope="session")
def llama() -> Iterator[EmbeddedLlama]:
    """Start SmolLM2 in-process once; its HTTP listener also serves the HTTP backend tests."""
    with EmbeddedLlama(EmbeddedLlamaConfig(parallel=2)) as running:
        yield running


@pytest.fixture
async def http_generator(llama: EmbeddedLlama) -> AsyncIterator[OpenAICompatibleGenerator]:
    """An HTTP backend pointed at the embedded model's real OpenAI-compatible server."""
    generator = OpenAICompatibleGenerator(
        HttpBackendConfig(
            base_url=llama.base_url,
            model=llama.config.model_name,
            server_kind=ServerKind.LLAMA_CPP,
        )
    )
    yield generator
    await generator.aclose()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()
