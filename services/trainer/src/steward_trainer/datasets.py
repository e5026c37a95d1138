"""Dataset export: consenting, redacted training rows as versioned, hashed JSONL in TRL layouts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward_events import DatasetKind

from steward_trainer.errors import EmptyDataset

if TYPE_CHECKING:
    from steward_trainer.store import TrainerStore

from steward_trainer.store import DatasetVersion

SYSTEM_PROMPT = (
    "You answer citizens' questions for a public agency using only the passages given. "
    "If the passages do not answer the question, say: The documents do not answer this "
    "question."
)

Message = dict[str, str]


def prompt_messages(question: str, passages: list[str]) -> list[Message]:
    """The chat prompt the serving model sees: instructions with passages, then the question."""
    context = "\n".join(f"[{n}] {text}" for n, text in enumerate(passages, 1))
    system = f"{SYSTEM_PROMPT}\n\nPassages:\n{context}" if passages else SYSTEM_PROMPT
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def dataset_id_for(kind: DatasetKind) -> str:
    """The dataset id a tenant's rows of one layout are exported under."""
    return f"feedback-{kind.value}"


async def training_rows(
    store: TrainerStore, tenant: str, kind: DatasetKind
) -> list[dict[str, Any]]:
    """A tenant's rows of one layout, as TRL reads them (conversational form)."""
    if kind is DatasetKind.SFT:
        return [
            {
                "messages": [
                    *prompt_messages(row["question"], _passages(row["passages"])),
                    {"role": "assistant", "content": row["answer"]},
                ]
            }
            for row in await store.supervised_pairs(tenant)
        ]
    if kind is DatasetKind.DPO:
        return [
            {
                "prompt": prompt_messages(row["question"], _passages(row["passages"])),
                "chosen": [{"role": "assistant", "content": row["chosen"]}],
                "rejected": [{"role": "assistant", "content": row["rejected"]}],
            }
            for row in await store.preference_pairs(tenant)
        ]
    return [
        {
            "prompt": prompt_messages(row["question"], _passages(row["passages"])),
            "completion": [{"role": "assistant", "content": row["answer"]}],
            "label": row["rating"] == "up",
        }
        for row in await store.thumbs_labels(tenant)
    ]


async def export_dataset(
    store: TrainerStore, tenant: str, kind: DatasetKind, data_dir: Path
) -> tuple[DatasetVersion, bool]:
    """Write the tenant's rows as a new version unless they equal the latest; (version, new)."""
    rows = await training_rows(store, tenant, kind)
    if not rows:
        raise EmptyDataset(f"No {kind.value} rows for tenant {tenant!r}: nothing to export")

    # The bytes are canonical (sorted keys, one row a line), so equal rows hash equally.
    body = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    payload = body.encode()
    digest = hashlib.sha256(payload).hexdigest()

    # Re-exporting unchanged rows names the existing version rather than minting a twin.
    dataset_id = dataset_id_for(kind)
    latest = await store.latest_version(tenant, dataset_id)
    if latest is not None and latest.sha256 == digest:
        return latest, False

    # Versions are immutable files named by their order; the hash goes in the record.
    number = await store.version_count(tenant, dataset_id) + 1
    name = f"v{number:04d}"
    path = (data_dir / "datasets" / tenant / dataset_id / f"{name}.jsonl").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    version = DatasetVersion(
        tenant=tenant,
        dataset_id=dataset_id,
        version=name,
        kind=kind.value,
        sha256=digest,
        rows=len(rows),
        uri=path.as_uri(),
    )
    await store.add_version(version)
    return version, True


def read_version(version: DatasetVersion) -> list[dict[str, Any]]:
    """The rows of a dataset version, after checking the file still has its recorded hash."""
    path = Path(version.uri.removeprefix("file://"))
    payload = path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    if digest != version.sha256:
        raise ValueError(
            f"Dataset file {path} has SHA-256 {digest}, expected {version.sha256}: it changed"
        )
    return [json.loads(line) for line in payload.decode().splitlines() if line]


def _passages(value: Any) -> list[str]:
    return [str(text) for text in (json.loads(value) if isinstance(value, str) else value)]
