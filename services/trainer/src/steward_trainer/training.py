"""LoRA fine-tuning of the base model on one dataset version, with peft and TRL."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from steward_events import DatasetKind

from steward_trainer.errors import EmptyDataset, UnsupportedDatasetKind

ADAPTER_FILE = "adapter_model.safetensors"
MANIFEST_FILE = "steward-manifest.json"


@dataclass(frozen=True)
class TrainingSettings:
    """What a run was asked for; saved beside the adapter so the run can be repeated."""

    max_steps: int = 30
    batch_size: int = 2
    learning_rate: float = 2e-4
    max_length: int = 256
    lora_rank: int = 8
    seed: int = 7
    threads: int = 1

    def labels(self) -> dict[str, str]:
        """The settings as event labels."""
        return {key: str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_labels(cls, labels: dict[str, str], defaults: TrainingSettings) -> TrainingSettings:
        """Settings from event labels, falling back to `defaults` for what they omit."""
        values = asdict(defaults)
        for key, default in values.items():
            if key in labels:
                values[key] = type(default)(labels[key])
        return cls(**values)


@dataclass(frozen=True)
class TrainedAdapter:
    """A saved LoRA adapter and its identity."""

    path: Path
    sha256: str
    final_loss: float | None


def train_adapter(
    rows: list[dict[str, Any]],
    kind: DatasetKind,
    *,
    base_model: Path,
    output_dir: Path,
    settings: TrainingSettings,
    dataset: dict[str, str],
) -> TrainedAdapter:
    """Train a LoRA adapter on `rows` and save it with its hash, dataset and settings."""
    if not rows:
        raise EmptyDataset("A training run needs at least one row")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model))
    model = AutoModelForCausalLM.from_pretrained(str(base_model), dtype=torch.float32)
    lora = LoraConfig(
        r=settings.lora_rank,
        lora_alpha=2 * settings.lora_rank,
        lora_dropout=0.0,
        target_modules=["q_proj", "v_proj"],
        task_type="CAUSAL_LM",
    )
    common: dict[str, Any] = {
        "output_dir": str(output_dir / "checkpoints"),
        "max_steps": settings.max_steps,
        "per_device_train_batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "seed": settings.seed,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
        "disable_tqdm": True,
        # trl's configs default to bf16 and refuse a CPU-only machine unless told otherwise.
        "use_cpu": True,
        "bf16": False,
    }
    train_rows = Dataset.from_list(rows)

    # One trainer per layout; each reads the conversational rows the export wrote.
    trainer: Any
    if kind is DatasetKind.SFT:
        from trl import SFTConfig, SFTTrainer  # type: ignore[attr-defined]

        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(max_length=settings.max_length, **common),
            train_dataset=train_rows,
            processing_class=tokenizer,
            peft_config=lora,
        )
    elif kind is DatasetKind.DPO:
        from trl import DPOConfig, DPOTrainer  # type: ignore[attr-defined]

        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(max_length=settings.max_length, **common),
            train_dataset=train_rows,
            processing_class=tokenizer,
            peft_config=lora,
        )
    else:
        # LIMITATION: KTO runs are not wired; trl keeps its KTO trainer under trl.experimental.
        raise UnsupportedDatasetKind(f"Training on {kind.value!r} rows; expected 'sft' or 'dpo'")
    result = trainer.train()

    # The adapter alone is saved; its hash names exactly these weights.
    adapter_dir = output_dir / "adapter"
    trainer.model.save_pretrained(str(adapter_dir))
    digest = _sha256(adapter_dir / ADAPTER_FILE)
    final_loss: float | None = getattr(result, "training_loss", None)
    manifest: dict[str, Any] = {
        "adapter_sha256": digest,
        "base_model": str(base_model.name),
        "dataset": dataset,
        "kind": kind.value,
        "settings": asdict(settings),
        "final_loss": final_loss,
    }
    (adapter_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return TrainedAdapter(adapter_dir, digest, final_loss)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
