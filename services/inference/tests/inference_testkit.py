"""Helpers the inference tests share: corpus passages, fake servers and transports."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2
import openai

from steward_inference import Passage


def corpus_folder() -> Path:
    """Find shared/corpus beside or inside the repository checkout."""
    if "STEWARD_CORPUS" in os.environ:
        return Path(os.environ["STEWARD_CORPUS"])
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "shared" / "corpus", parent.parent / "shared" / "corpus"):
            if candidate.is_dir():
                return candidate
    raise FileNotFoundError("No shared/corpus folder above the tests; set STEWARD_CORPUS")


def corpus_passage(file_name: str, keyword: str) -> Passage:
    """Return the first paragraph of a corpus document that mentions the keyword."""
    text = (corpus_folder() / file_name).read_text(encoding="utf-8")
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text)):
        if keyword.lower() in paragraph.lower() and not paragraph.startswith("---"):
            # Links confuse a small model; keep their words only.
            plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", paragraph)
            return Passage(chunk_id=f"{file_name}#{number}", text=plain, document_id=file_name)
    raise LookupError(f"No paragraph of {file_name} mentions {keyword!r}")


def free_port() -> int:
    """Return a port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers, like a hung backend."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self._socket.close()


class FlakyTransport(httpx2.AsyncBaseTransport):
    """Answers 503 for the first `failures` requests, then forwards to the real server."""

    def __init__(self, failures: int, *, status: int = 503) -> None:
        self.failures = failures
        self.status = status
        self.requests = 0
        self._real = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        if self.requests <= self.failures:
            return httpx2.Response(self.status, json={"error": {"message": "unavailable"}})
        return await self._real.handle_async_request(request)

    async def aclose(self) -> None:
        await self._real.aclose()


def client_over(transport: httpx2.AsyncBaseTransport, base_url: str) -> openai.AsyncOpenAI:
    """An AsyncOpenAI client whose requests go through the given transport."""
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key="not-needed",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    )


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until the condition holds (the test's own state, not time)."""
    for _ in itertools.count():
        if condition():
            return
        await asyncio.sleep(0.005)
