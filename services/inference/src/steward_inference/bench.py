"""Benchmark draft_answer (the worker path) against direct backend calls with the same prompts.

Run: python -m steward_inference.bench [--backend embedded|http] [--requests N] ...
Prints throughput and latency for both paths at each concurrency, then their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from steward_inference._embedded import EmbeddedLlama, EmbeddedLlamaConfig
from steward_inference._generation import Generation, GenerationRequest, Generator, TokenUsage
from steward_inference._openai_backend import (
    HttpBackendConfig,
    OpenAICompatibleGenerator,
    ServerKind,
)
from steward_inference._prompts import Passage, PromptRegistry
from steward_inference._routing import ModelChoice, RouteTable
from steward_inference._worker import DraftRequest, InferenceWorker

# Short paraphrases of the kind of passages retrieval hands over (public-service topics).
_CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Who can get a U.S. passport?",
        (
            "To have a U.S. passport, you must be a U.S. citizen by birth or naturalization, "
            "or a U.S. national.",
            "A passport book is required for all international travel by air.",
        ),
    ),
    (
        "Where can I check my federal tax refund?",
        (
            "Use the Where's My Refund tool to check the status of your federal tax refund. "
            "Have your Social Security number, filing status and refund amount ready.",
        ),
    ),
    (
        "¿Cómo solicito un permiso de vendedor?",
        (
            "Puede solicitar un permiso de vendedor en línea, sin costo, antes de empezar a "
            "vender productos en el estado.",
        ),
    ),
    (
        "How do I change my address with the post office?",
        (
            "You can change your address online for a small identity fee, or in person at a "
            "post office using the mover's guide packet.",
            "Tell government agencies such as the IRS and Social Security about the move too.",
        ),
    ),
    (
        "Do I need an air permit for my small business?",
        (
            "Businesses that emit air pollutants above set thresholds need an air permit from "
            "the county before they start operating.",
        ),
    ),
    (
        "¿Quién tiene que presentar una declaración de impuestos?",
        (
            "Debe presentar una declaración si sus ingresos superan cierto límite, que depende "
            "de su estado civil, su edad y el tipo de ingresos.",
        ),
    ),
    (
        "How can I replace a lost birth certificate?",
        (
            "Order a certified copy of a birth certificate from the vital records office of "
            "the state where the birth happened.",
        ),
    ),
    (
        "What is Medicare?",
        (
            "Medicare is health insurance for people 65 or older and for some younger people "
            "with disabilities.",
        ),
    ),
)


@dataclass(frozen=True)
class RunResult:
    """Timings of one batch of requests through one path."""

    path: str
    concurrency: int
    latencies_ms: tuple[float, ...]
    completion_tokens: int
    wall_s: float

    @property
    def throughput_rps(self) -> float:
        """Return completed requests per second."""
        return len(self.latencies_ms) / self.wall_s

    @property
    def tokens_per_s(self) -> float:
        """Return generated tokens per second."""
        return self.completion_tokens / self.wall_s

    @property
    def p50_ms(self) -> float:
        """Return the median latency."""
        return statistics.median(self.latencies_ms)

    @property
    def p95_ms(self) -> float:
        """Return the 95th-percentile latency."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


class InstantGenerator:
    """A backend that answers at once, to isolate the worker's own overhead."""

    def __init__(self, model: str) -> None:
        self._model = model

    @property
    def model(self) -> str:
        """Return the model name it pretends to serve."""
        return self._model

    async def generate(self, request: GenerationRequest) -> Generation:
        """Return a fixed one-sentence answer without any work."""
        return Generation(
            text="The passage says so [1].",
            finish_reason="stop",
            usage=TokenUsage(prompt_tokens=1, completion_tokens=8),
            model=self._model,
            revision=None,
            adapter=None,
            backend="instant",
            latency_ms=0.0,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def draft_requests(count: int, max_tokens: int) -> list[DraftRequest]:
    """Build `count` requests cycling through the built-in cases."""
    requests = []
    for index in range(count):
        question, texts = _CASES[index % len(_CASES)]
        passages = tuple(
            Passage(chunk_id=f"bench-{index % len(_CASES)}-{n}", text=text)
            for n, text in enumerate(texts)
        )
        requests.append(
            DraftRequest(
                correlation_id=f"bench-{index}",
                tenant="bench",
                question=question,
                passages=passages,
                max_tokens=max_tokens,
            )
        )
    return requests


def direct_requests(
    registry: PromptRegistry, drafts: Sequence[DraftRequest]
) -> list[GenerationRequest]:
    """Render the same prompts the worker will render, for calling the backend directly."""
    template = registry.get("grounded-answer")
    direct = []
    for draft in drafts:
        language = "es" if draft.question.startswith("¿") else "en"
        rendered = template.render(
            question=draft.question, passages=draft.passages, language=language
        )
        direct.append(
            GenerationRequest(
                messages=rendered.messages,
                sampling=rendered.sampling.overridden(max_tokens=draft.max_tokens),
            )
        )
    return direct


async def timed_batch(
    path: str,
    concurrency: int,
    calls: Sequence[Callable[[], Awaitable[int]]],
) -> RunResult:
    """Run the calls with at most `concurrency` at once and time each one."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    tokens = 0

    async def one(call: Callable[[], Awaitable[int]]) -> None:
        nonlocal tokens
        async with gate:
            started = time.perf_counter()
            produced = await call()
            tokens += produced
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(call) for call in calls))
    return RunResult(
        path=path,
        concurrency=concurrency,
        latencies_ms=tuple(latencies),
        completion_tokens=tokens,
        wall_s=time.perf_counter() - started,
    )


def merged(results: Sequence[RunResult]) -> RunResult:
    """Combine the rounds of one path and concurrency into one result."""
    return RunResult(
        path=results[0].path,
        concurrency=results[0].concurrency,
        latencies_ms=tuple(ms for result in results for ms in result.latencies_ms),
        completion_tokens=sum(result.completion_tokens for result in results),
        wall_s=sum(result.wall_s for result in results),
    )


async def compare(
    generator: Generator,
    *,
    label: str,
    requests: int,
    max_tokens: int,
    concurrencies: Sequence[int],
    rounds: int,
) -> list[tuple[list[RunResult], list[RunResult]]]:
    """Measure both paths at each concurrency, alternating rounds so drift hits both alike."""
    registry = PromptRegistry.packaged()
    worker = InferenceWorker(
        registry=registry,
        routes=RouteTable(ModelChoice(model=generator.model)),
        generators={generator.model: generator},
        max_in_flight=max(concurrencies),
    )
    drafts = draft_requests(requests, max_tokens)
    direct = direct_requests(registry, drafts)

    async def via_backend(request: GenerationRequest) -> int:
        return (await generator.generate(request)).usage.completion_tokens

    async def via_worker(request: DraftRequest) -> int:
        return (await worker.draft_answer(request)).usage.completion_tokens

    # One warm-up call per path, so model load and first-request costs are not counted.
    await via_backend(direct[0])
    await via_worker(drafts[0])

    # Back-to-back pairs of the same prompt cancel drift better than pooled percentiles.
    # The order flips every pair so neither path always runs second.
    differences = []
    for index, (draft, request) in enumerate(zip(drafts, direct, strict=True)):
        started = time.perf_counter()
        await (via_backend(request) if index % 2 == 0 else via_worker(draft))
        middle = time.perf_counter()
        await (via_worker(draft) if index % 2 == 0 else via_backend(request))
        first, second = middle - started, time.perf_counter() - middle
        worker_ms, direct_ms = (second, first) if index % 2 == 0 else (first, second)
        differences.append((worker_ms - direct_ms) * 1000)
    print(
        f"{label}: paired worker-minus-direct latency, same prompt back to back, "
        f"median of {len(differences)}: {statistics.median(differences):+.2f} ms"
    )

    pairs = []
    for concurrency in concurrencies:
        direct_runs: list[RunResult] = []
        worker_runs: list[RunResult] = []
        direct_calls: list[Callable[[], Awaitable[int]]] = [
            functools.partial(via_backend, request) for request in direct
        ]
        worker_calls: list[Callable[[], Awaitable[int]]] = [
            functools.partial(via_worker, draft) for draft in drafts
        ]

        # Rounds alternate which path goes first, so warm caches favour neither.
        for round_number in range(rounds):
            path_order = [("direct", direct_calls), ("worker", worker_calls)]
            for name, calls in path_order if round_number % 2 == 0 else path_order[::-1]:
                result = await timed_batch(f"{label}:{name}", concurrency, calls)
                (direct_runs if name == "direct" else worker_runs).append(result)
        pairs.append((direct_runs, worker_runs))
    return pairs


def report(pairs: Sequence[tuple[list[RunResult], list[RunResult]]], *, targets: bool) -> bool:
    """Print both paths and their ratios; return whether every target was met."""
    print(
        f"{'path':<22} {'conc':>4} {'req':>5} {'req/s':>9} {'tok/s':>9} "
        f"{'p50 ms':>9} {'p95 ms':>9}"
    )
    met = True
    for direct_runs, worker_runs in pairs:
        direct, worker = merged(direct_runs), merged(worker_runs)
        for result in (direct, worker):
            print(
                f"{result.path:<22} {result.concurrency:>4} {len(result.latencies_ms):>5} "
                f"{result.throughput_rps:>9.2f} {result.tokens_per_s:>9.1f} "
                f"{result.p50_ms:>9.3f} {result.p95_ms:>9.3f}"
            )
        added = worker.p50_ms - direct.p50_ms
        if not targets:
            print(f"  -> worker adds {added * 1000:.0f} us to p50 per request")
            continue

        # Each round's ratio compares two batches run back to back, so slow drift cancels.
        ratio = worker.throughput_rps / direct.throughput_rps
        per_round = statistics.median(
            w.throughput_rps / d.throughput_rps
            for d, w in zip(direct_runs, worker_runs, strict=True)
        )
        ok = ratio >= 0.95 and added <= 5.0
        met = met and ok
        print(
            f"  -> worker/direct throughput {ratio:.3f} pooled, {per_round:.3f} median of "
            f"rounds (target >= 0.95); added p50 {added:+.2f} ms (target <= 5): "
            f"{'met' if ok else 'MISSED'}"
        )
    return met


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m steward_inference.bench", description=__doc__)
    parser.add_argument("--backend", choices=["embedded", "http"], default="embedded")
    parser.add_argument("--base-url", help="OpenAI-compatible base URL for --backend http")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--server-kind", choices=[k.value for k in ServerKind], default="vllm")
    parser.add_argument("--requests", type=int, default=8, help="requests per round and path")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--concurrency", default="1,8", help="comma-separated levels")
    parser.add_argument("--threads", type=int, default=1, help="embedded llama.cpp threads")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    return parser.parse_args(argv)


async def run(arguments: argparse.Namespace) -> bool:
    """Start the backend, measure the model path and the overhead-only path, print both."""
    concurrencies = [int(level) for level in arguments.concurrency.split(",")]
    llama: EmbeddedLlama | None = None
    generator: Generator
    if arguments.backend == "http":
        if not arguments.base_url:
            raise SystemExit("--backend http needs --base-url, e.g. http://127.0.0.1:8000/v1")
        generator = OpenAICompatibleGenerator(
            HttpBackendConfig(
                base_url=arguments.base_url,
                model=arguments.model,
                server_kind=ServerKind(arguments.server_kind),
            )
        )
    else:
        # Prompt caching would favour whichever path repeats a prompt second.
        llama = EmbeddedLlama(
            EmbeddedLlamaConfig(
                threads=arguments.threads, parallel=max(concurrencies), cache_prompt=False
            )
        ).start()
        generator = llama.generator(owns_model=True)

    print(f"backend={arguments.backend} model={generator.model} max_tokens={arguments.max_tokens}")
    try:
        model_pairs = await compare(
            generator,
            label=arguments.backend,
            requests=arguments.requests,
            max_tokens=arguments.max_tokens,
            concurrencies=concurrencies,
            rounds=arguments.rounds,
        )
    finally:
        await generator.aclose()
    model_met = report(model_pairs, targets=True)

    # The same comparison with a backend that costs nothing shows the worker's own cost.
    print("\nworker overhead alone (instant backend, 2000 requests per path):")
    overhead_pairs = await compare(
        InstantGenerator(arguments.model),
        label="instant",
        requests=2000,
        max_tokens=arguments.max_tokens,
        concurrencies=concurrencies,
        rounds=1,
    )
    report(overhead_pairs, targets=False)
    return model_met


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)

    # One log line per request would be measured as worker cost; keep only warnings.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    met = asyncio.run(run(arguments))
    return 1 if arguments.check and not met else 0


if __name__ == "__main__":
    raise SystemExit(main())
