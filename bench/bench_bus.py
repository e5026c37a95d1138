"""Publish-to-consume throughput and latency: Steward's bus runtime against bare aiokafka.

Both run in this process, on the same broker, with the same message bytes and fetch timing,
alternating rounds so that a noisy machine hurts both alike. Prints ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from steward_bus import BusSettings, Service, ensure_topics
from steward_events import ChatRequested, Envelope
from steward_infra import LocalBroker, LocalPostgres, LocalStack, free_port

ROOT = Path(__file__).resolve().parents[1]
QUESTION = ("How do I renew my seller's permit before the quarterly deadline? " * 14)[:900]


@dataclass
class Result:
    throughput: float  # messages per second, first send to last receipt
    p50_ms: float
    p99_ms: float


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _wait(check: Any, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark stalled: messages did not arrive")
        await asyncio.sleep(0.001)


async def bare_round(bootstrap: str, count: int, paced: int, fetch_wait: int) -> Result:
    """Bare aiokafka: a producer and a consumer group, auto-commit, raw bytes."""
    topic = f"bench-bare-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=3, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_wait,
        session_timeout_ms=2_000,
        heartbeat_interval_ms=300,
    )
    await producer.start()
    await consumer.start()
    received: dict[str, float] = {}

    async def drain() -> None:
        async for record in consumer:
            received[record.key.decode()] = time.perf_counter()

    drainer = asyncio.create_task(drain())
    try:
        await _wait(lambda: bool(consumer.assignment()))
        value = _envelope_bytes()
        # Latency: one message at a time, each waited for.
        sent: dict[str, float] = {}
        for i in range(paced):
            key = f"lat-{i}"
            sent[key] = time.perf_counter()
            await producer.send_and_wait(topic, value, key=key.encode())
            await _wait(lambda k=key: k in received)  # type: ignore[misc]
        latencies = [(received[k] - sent[k]) * 1_000 for k in sent]
        # Throughput: everything in flight at once.
        start = time.perf_counter()
        futures = [await producer.send(topic, value, key=f"tp-{i}".encode()) for i in range(count)]
        await asyncio.gather(*futures)
        await _wait(lambda: len(received) >= paced + count)
        elapsed = max(received.values()) - start
    finally:
        drainer.cancel()
        await consumer.stop()
        await producer.stop()
    return Result(count / elapsed, _percentile(latencies, 0.5), _percentile(latencies, 0.99))


async def runtime_round(settings: BusSettings, count: int, paced: int) -> Result:
    """Steward's runtime: typed envelopes, idempotency in PostgreSQL, spans, DLQ on failure."""
    run_settings = settings.model_copy(update={"topic_namespace": f"b{uuid.uuid4().hex[:8]}."})
    producer = Service("bench-producer", run_settings)
    consumer = Service("bench-consumer", run_settings)
    received: dict[str, float] = {}

    @consumer.handles(ChatRequested)
    async def record(event: Envelope[Any]) -> None:
        received[event.data.conversation_id] = time.perf_counter()

    await producer.start()
    await consumer.start()
    try:
        await _wait(lambda: bool(_assignment(consumer)))
        sent: dict[str, float] = {}
        for i in range(paced):
            key = f"lat-{i}"
            sent[key] = time.perf_counter()
            await producer.publish(_request(key), tenant="revenue", correlation_id=key)
            await _wait(lambda k=key: k in received)  # type: ignore[misc]
        latencies = [(received[k] - sent[k]) * 1_000 for k in sent]
        start = time.perf_counter()
        for i in range(count):
            key = f"tp-{i}"
            await producer.publish(_request(key), tenant="revenue", correlation_id=key, wait=False)
        await _wait(lambda: len(received) >= paced + count)
        elapsed = max(received.values()) - start
    finally:
        await consumer.stop()
        await producer.stop()
    return Result(count / elapsed, _percentile(latencies, 0.5), _percentile(latencies, 0.99))


def _assignment(service: Service) -> Any:
    subscribers = list(service.broker.subscribers)
    consumer = getattr(subscribers[0], "consumer", None)
    return consumer.assignment() if consumer is not None else set()


def _request(conversation: str) -> ChatRequested:
    return ChatRequested(conversation_id=conversation, question=QUESTION)


def _envelope_bytes() -> bytes:
    from steward_events import new_envelope

    envelope = new_envelope(
        _request("x"), source="/steward/bench", tenant="revenue", correlation_id="x"
    )
    return envelope.model_dump_json().encode()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--paced", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--tracing",
        choices=["file", "none"],
        default="none",
        help="span export while measured: none measures the runtime's own cost",
    )
    args = parser.parse_args()

    data_dir = ROOT / ".steward" / "bench"
    stack = LocalStack(
        broker=LocalBroker(port=free_port(), data_dir=data_dir / "broker"),
        postgres=LocalPostgres(port=free_port(), data_dir=data_dir / "postgres"),
    )
    stack.postgres.stop()
    stack.start()
    os.environ.setdefault("STEWARD_LOG_LEVEL", "WARNING")
    settings = BusSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        otel_exporter=args.tracing,
        trace_dir=data_dir / "traces",
        log_level="WARNING",
    )
    fetch_wait = settings.consumer_timing().fetch_max_wait_ms
    bare: list[Result] = []
    ours: list[Result] = []
    try:
        for round_number in range(args.rounds):
            bare.append(
                await bare_round(stack.broker.bootstrap, args.messages, args.paced, fetch_wait)
            )
            ours.append(await runtime_round(settings, args.messages, args.paced))
            print(
                f"round {round_number + 1}: bare {bare[-1].throughput:,.0f} msg/s "
                f"p50 {bare[-1].p50_ms:.2f} ms | runtime {ours[-1].throughput:,.0f} msg/s "
                f"p50 {ours[-1].p50_ms:.2f} ms"
            )
    finally:
        stack.stop()

    def median(results: list[Result], attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in results)

    ratio = median(ours, "throughput") / median(bare, "throughput")
    added_p50 = median(ours, "p50_ms") - median(bare, "p50_ms")
    print()
    print(f"{'':24}{'bare aiokafka':>16}{'steward runtime':>18}")
    for label, attribute, unit in (
        ("throughput", "throughput", "msg/s"),
        ("latency p50", "p50_ms", "ms"),
        ("latency p99", "p99_ms", "ms"),
    ):
        print(
            f"{label + ' (' + unit + ')':24}{median(bare, attribute):>16,.2f}"
            f"{median(ours, attribute):>18,.2f}"
        )
    print()
    print(f"throughput ratio (runtime / bare): {ratio:.2f}   target >= 0.85")
    print(f"p50 latency added:                 {added_p50:+.2f} ms   target <= 2 ms")
    print(
        f"({args.messages:,} messages of {len(_envelope_bytes())} bytes, {args.rounds} rounds, "
        f"tracing export: {args.tracing})"
    )


if __name__ == "__main__":
    asyncio.run(main())
