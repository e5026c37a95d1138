"""Write deploy/k8s/kafka/topics.yaml: one Strimzi KafkaTopic per topic of the event contract.

    .venv/bin/python deploy/k8s/generate_topics.py          # rewrite the file
    .venv/bin/python deploy/k8s/generate_topics.py --check  # exit 1 when it is out of date

Topics come from steward_bus.contract_topics(), so a new event type gets its topic and its
dead-letter twin here on the next run; tests/deploy fails while the file is out of date.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from steward_bus import contract_topics

OUTPUT = Path(__file__).parent / "kafka" / "topics.yaml"
CLUSTER = "steward"
NAMESPACE = "steward"
REPLICAS = 3
MIN_INSYNC_REPLICAS = 2
DAY_MS = 24 * 3600 * 1000
FOREVER = -1
MIB = 1024 * 1024

# Sizing inputs (deploy/README.md explains them): the busiest hour of one agency's chatbot,
# and what one consumer replica of the slowest service on each path handles.
PEAK_REQUESTS_PER_S = 50
GUARDRAIL_REPLICA_REQUESTS_PER_S = 10
PEAK_DOCUMENTS_PER_S = 2
INDEXER_REPLICA_DOCUMENTS_PER_S = 1
HEADROOM = 2


@dataclass(frozen=True)
class TopicClass:
    """How the topics of one kind are partitioned and kept."""

    name: str
    partitions: int
    retention_ms: int
    max_message_bytes: int = 1 * MIB


def partitions_for(peak_per_s: float, per_replica_per_s: float) -> int:
    """Partitions that let consumers scale to twice the peak, rounded up to whole brokers."""
    needed = math.ceil(peak_per_s / per_replica_per_s * HEADROOM)
    return max(REPLICAS, math.ceil(needed / REPLICAS) * REPLICAS)


# Every topic is a source of the ledger: each is kept for the replay window at least, so a
# ledger restored from a backup catches up from Kafka and a correlation id can be replayed.
REPLAY_WINDOW_MS = 30 * DAY_MS
REQUEST = TopicClass(
    "request",
    partitions_for(PEAK_REQUESTS_PER_S, GUARDRAIL_REPLICA_REQUESTS_PER_S),
    REPLAY_WINDOW_MS,
)
DOCUMENT = TopicClass(
    "document",
    partitions_for(PEAK_DOCUMENTS_PER_S, INDEXER_REPLICA_DOCUMENTS_PER_S),
    REPLAY_WINDOW_MS,
    16 * MIB,
)
TRAINING = TopicClass("training", 3, 90 * DAY_MS)
# Switches and promotions are read from the start by every inference replica to rebuild its
# route table, and checkpoints anchor the ledger: one ordered partition, kept for good.
CONTROL = TopicClass("control", 1, FOREVER)
# Dead letters wait for a person; they outlive their sources and carry the original bytes.
DLQ_RETENTION_MS = 180 * DAY_MS
# Auditors' replays and the trainer's evaluations run in their own namespace: low volume, and
# the ledger keeps what they did, so a week on Kafka is enough.
REPLAY_NAMESPACE = "replay."
REPLAY = TopicClass("replay", REPLICAS, 7 * DAY_MS)

CLASS_OF_DOMAIN = {
    "chat": REQUEST,
    "guardrail": REQUEST,
    "retrieval": REQUEST,
    "inference": REQUEST,
    "review": REQUEST,
    "feedback": REQUEST,
    "document": DOCUMENT,
    "dataset": TRAINING,
    "trainer": TRAINING,
    "monitor": TRAINING,
    "control": CONTROL,
    "model": CONTROL,
    "ledger": CONTROL,
}


class UnknownDomain(Exception):
    """A contract topic's domain has no topic class here yet."""


def topic_class(topic: str) -> TopicClass:
    """The class of a contract topic, from its domain (steward.<domain>.<event>.v<N>)."""
    domain = topic.split(".")[1]
    try:
        return CLASS_OF_DOMAIN[domain]
    except KeyError:
        raise UnknownDomain(
            f"Topic {topic!r} has domain {domain!r}, expected one of {sorted(CLASS_OF_DOMAIN)};"
            " give it a class in deploy/k8s/generate_topics.py"
        ) from None


def kafka_topic(topic: str) -> dict[str, object]:
    """The KafkaTopic resource of one contract topic."""
    dead_letter = topic.endswith(".dlq")
    source = topic.removesuffix(".dlq")
    replay = source.startswith(REPLAY_NAMESPACE)
    kind = REPLAY if replay else topic_class(source)

    # A dead-letter twin keeps its messages longer than its source, and at least as long.
    if dead_letter and not replay:
        retention = FOREVER if kind.retention_ms == FOREVER else DLQ_RETENTION_MS
        partitions = min(kind.partitions, REPLICAS)
    else:
        retention, partitions = kind.retention_ms, kind.partitions

    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {
            # Resource names allow no underscores; the topic keeps its own name below.
            "name": topic.replace("_", "-"),
            "namespace": NAMESPACE,
            "labels": {
                "strimzi.io/cluster": CLUSTER,
                "steward.io/topic-class": "dead-letter"
                if dead_letter and not replay
                else kind.name,
            },
        },
        "spec": {
            "topicName": topic,
            "partitions": partitions,
            "replicas": REPLICAS,
            "config": {
                "min.insync.replicas": MIN_INSYNC_REPLICAS,
                "retention.ms": retention,
                "cleanup.policy": "delete",
                "max.message.bytes": 16 * MIB if dead_letter else kind.max_message_bytes,
            },
        },
    }


def all_topics() -> list[str]:
    """The contract's live topics, then their replay twins."""
    return [*contract_topics(), *contract_topics(REPLAY_NAMESPACE)]


def render() -> str:
    """The whole topics file, one YAML document per topic, in the contract's order."""
    header = (
        "# Generated by deploy/k8s/generate_topics.py from steward_bus.contract_topics();"
        " do not edit.\n"
    )
    documents = [kafka_topic(topic) for topic in all_topics()]
    body: str = yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True)
    return header + body


def main() -> int:
    """Write the file, or with --check tell whether the committed one is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    arguments = parser.parse_args()

    text = render()
    if arguments.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run deploy/k8s/generate_topics.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(all_topics())} topics to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
