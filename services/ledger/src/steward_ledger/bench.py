"""Benchmark: appending through the ledger against a bare COPY, and offline bundle verification.

Run with `python -m steward_ledger.bench`. It starts a private PostgreSQL on 127.0.0.1 (or uses
--dsn), appends events through LedgerStore and, after each batch, COPYs the very rows the ledger
wrote into a twin table; it then verifies a bundle of --verify-events events from a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from steward_ledger_proofs import (
    BundleEntry,
    BundleHeader,
    CheckpointSigner,
    MerkleFrontier,
    canonical_json,
    event_leaf_hash,
    verify_bundle,
    write_bundle,
)

from steward_ledger._codec import register_jsonb_codec
from steward_ledger._records import COPY_COLUMNS
from steward_ledger.policies import CheckpointPolicy
from steward_ledger.store import LedgerStore, install_schema

if TYPE_CHECKING:
    from collections.abc import Iterator

PG_BIN = Path(os.environ.get("STEWARD_PG_BIN", "/usr/lib/postgresql/15/bin"))

_PROMPTS = [
    "How do I renew the permit for my food truck?",
    "¿Dónde solicito la licencia de obra menor para mi vivienda?",
    "What documents do I need to register a newborn child?",
    "When is the deadline for the property tax appeal this year?",
]


def bench_event(n: int) -> dict[str, Any]:
    """Return a Steward-shaped event, varied enough that no two hash alike."""
    correlation = str(uuid.UUID(int=n // 8))
    return {
        "id": str(uuid.UUID(int=(7 << 76) | n)),
        "source": "steward/gateway",
        "type": ("steward.chat.requested.v1", "steward.retrieval.completed.v1")[n % 2],
        "specversion": "1.0",
        "time": f"2026-12-04T10:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000000:06d}Z",
        "subject": f"citizen-{n % 5000}",
        "datacontenttype": "application/json",
        "dataschema": "https://steward.example/schemas/chat.requested.v1.json",
        "tenant": f"agency-{n % 7}",
        "correlationid": correlation,
        "causationid": str(uuid.UUID(int=(7 << 76) | max(n - 1, 0))),
        "traceparent": f"00-{n:032x}-{n % 2**64:016x}-01",
        "data": {
            "prompt": _PROMPTS[n % len(_PROMPTS)],
            "locale": ("en", "es")[n % 2],
            "chunk_ids": [f"doc-{n % 50}#{i}" for i in range(3)],
            "score": 0.5 + (n % 997) / 2000,
        },
    }


@contextlib.contextmanager
def private_postgres() -> Iterator[str]:
    """Start a throwaway PostgreSQL on 127.0.0.1 and a free port; stop it on exit."""
    root = Path(tempfile.mkdtemp(prefix="steward-ledger-bench-"))
    as_postgres: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    data = root / "data"
    # The commands are fixed server binaries with arguments this function builds.
    subprocess.run(  # noqa: S603
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(  # noqa: S603
        [
            *as_postgres,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root}",
            "-l",
            str(root / "server.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(  # noqa: S603
            [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


async def _fresh_database(server: str, name: str) -> str:
    """Create an empty database with the ledger schema and return its DSN."""
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()

    dsn = f"{server}/{name}"
    connection = await asyncpg.connect(dsn)
    try:
        await install_schema(connection)
        # The baseline table has the ledger table's columns and indexes, not its triggers.
        await connection.execute(
            "CREATE TABLE bare_events (LIKE ledger_events INCLUDING DEFAULTS INCLUDING INDEXES"
            " INCLUDING CONSTRAINTS)"
        )
    finally:
        await connection.close()
    return dsn


async def bench_append(server: str, count: int, batch: int, rounds: int) -> dict[str, float]:
    """Time ledger appends against a bare COPY of the same rows, batch by batch, interleaved."""
    # The machine may be shared: running each ledger batch right next to the bare COPY of the
    # same rows puts both under the same load, so the ratio is steadier than either rate.
    events = [bench_event(n) for n in range(count)]
    ledger_seconds = copy_seconds = 0.0
    for round_number in range(rounds):
        dsn = await _fresh_database(server, f"ledger_bench_{round_number}")
        store = await LedgerStore.open(
            dsn,
            CheckpointSigner.generate(),
            checkpoints=CheckpointPolicy(every_events=10_000, every_seconds=3600),
        )
        bare = await asyncpg.connect(dsn)
        try:
            await register_jsonb_codec(bare)
            for start in range(0, count, batch):
                started = time.perf_counter()
                result = await store.append(events[start : start + batch])
                ledger_seconds += time.perf_counter() - started
                assert len(result.recorded) == len(events[start : start + batch])

                fetched = await bare.fetch(
                    f"SELECT {', '.join(COPY_COLUMNS)} FROM ledger_events"  # noqa: S608
                    " WHERE seq >= $1 ORDER BY seq",
                    start,
                )
                rows = [tuple(row) for row in fetched]

                started = time.perf_counter()
                async with bare.transaction():
                    await bare.copy_records_to_table(
                        "bare_events", records=rows, columns=COPY_COLUMNS
                    )
                copy_seconds += time.perf_counter() - started
        finally:
            await bare.close()
            await store.close()

    total = count * rounds
    return {
        "ledger_events_per_s": total / ledger_seconds,
        "bare_copy_rows_per_s": total / copy_seconds,
        "ratio": copy_seconds / ledger_seconds,
    }


def build_bundle(path: Path, count: int, checkpoint_every: int) -> None:
    """Write a range bundle of `count` events signed every `checkpoint_every` events."""
    signer = CheckpointSigner.generate()
    frontier = MerkleFrontier()
    leaves: list[bytes] = []
    checkpoints = []
    with path.open("wb") as stream:
        entries: list[BundleEntry] = []
        for seq in range(count):
            event = canonical_json(bench_event(seq))
            leaf = event_leaf_hash(seq, hashlib.sha256(event).digest())
            leaves.append(leaf)
            frontier.append(leaf)
            entries.append(BundleEntry(seq=seq, leaf_hash=leaf, event_json=event))
            if frontier.size % checkpoint_every == 0 or frontier.size == count:
                checkpoints.append(signer.sign(frontier.size, frontier.root()))
        header = BundleHeader.for_range(leaves, 0, count, checkpoints, signer.public_key)
        write_bundle(stream, header, entries)


def bench_verify(count: int, checkpoint_every: int) -> dict[str, float]:
    """Measure offline verification of a bundle file of `count` events."""
    folder = Path(tempfile.mkdtemp(prefix="steward-ledger-bundle-"))
    try:
        path = folder / "bundle.jsonl"
        build_bundle(path, count, checkpoint_every)
        size = path.stat().st_size

        started = time.perf_counter()
        report = verify_bundle(path)
        seconds = time.perf_counter() - started
        assert report.ok, report.reason
        assert report.events_checked == count
        return {
            "events": count,
            "bytes": size,
            "seconds": seconds,
            "events_per_s": count / seconds,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _run(arguments: argparse.Namespace) -> None:
    """Run the benchmarks the arguments ask for and print their figures."""
    if arguments.append_events:
        if arguments.dsn:
            figures = await bench_append(
                arguments.dsn, arguments.append_events, arguments.batch, arguments.rounds
            )
        else:
            with private_postgres() as server:
                figures = await bench_append(
                    server, arguments.append_events, arguments.batch, arguments.rounds
                )
        print(
            f"append: {arguments.append_events} events in batches of {arguments.batch},"
            f" {arguments.rounds} round(s) interleaved:"
            f" ledger {figures['ledger_events_per_s']:,.0f} events/s,"
            f" bare COPY {figures['bare_copy_rows_per_s']:,.0f} rows/s,"
            f" ratio {figures['ratio']:.2f} (target >= 0.70)"
        )

    if arguments.verify_events:
        figures = bench_verify(arguments.verify_events, arguments.checkpoint_every)
        print(
            f"verify: {int(figures['events'])} events ({figures['bytes'] / 1e6:,.0f} MB) in"
            f" {figures['seconds']:.2f} s: {figures['events_per_s']:,.0f} events/s"
            " (target >= 100,000)"
        )


def main() -> None:
    """Parse arguments and run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--append-events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=10_000)
    parser.add_argument(
        "--dsn", help="server URL without a database name, e.g. postgresql://u@h:p"
    )
    arguments = parser.parse_args()

    # One log line per batch would swamp the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    asyncio.run(_run(arguments))


if __name__ == "__main__":
    main()
