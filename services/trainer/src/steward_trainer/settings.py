"""Settings of the trainer service, read from STEWARD_-prefixed environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt
from steward_bus import BusSettings

from steward_trainer.gguf_adapter import LORA_CONVERTER

GOLDEN_SET = Path(__file__).resolve().parents[2] / "golden" / "golden.jsonl"


class TrainerSettings(BusSettings):
    """Datasets, training, evaluation gate and monitoring settings (prefix STEWARD_TRAINER_)."""

    trainer_data_dir: Path = Path(".steward/trainer")
    trainer_base_cache: Path | None = Field(
        default=None, description="Where the converted base model is kept; data_dir/base if unset."
    )
    trainer_db_schema: str = Field(default="trainer", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    # Training: LoRA on the packaged SmolLM2, a few steps on a CPU, many on a GPU.
    trainer_max_steps: PositiveInt = 30
    trainer_batch_size: PositiveInt = 2
    trainer_learning_rate: float = Field(default=2e-4, gt=0)
    trainer_max_length: PositiveInt = 256
    trainer_lora_rank: PositiveInt = 8
    trainer_threads: PositiveInt = 1
    trainer_seed: int = 7

    # Serving: each adapter is also written as GGUF for the embedded inference backend.
    trainer_lora_converter: Path = Field(
        default=LORA_CONVERTER,
        description="llama.cpp's convert_lora_to_gguf.py, installed by `make trainer-tools`.",
    )
    trainer_adapter_dir: Path | None = Field(
        default=None,
        description="Where <candidate>.gguf adapters are written; data_dir/adapters if unset.",
    )

    # Evaluation gate.
    trainer_golden_set: Path = GOLDEN_SET
    trainer_golden_limit: PositiveInt | None = Field(
        default=None, description="Use only the first N golden questions of each kind."
    )
    trainer_eval_concurrency: PositiveInt = Field(
        default=2, description="Golden questions in the pipeline at once, both models together."
    )
    trainer_eval_timeout_s: float = Field(
        default=300.0, gt=0, description="How long one golden question may take in the pipeline."
    )
    trainer_eval_max_tokens: PositiveInt = Field(
        default=48, description="Tokens per answer of the offline evaluator (`make eval-model`)."
    )
    trainer_policy_dir: Path = Path("services/guardrail/policies")
    trainer_default_thresholds: dict[str, float] = Field(
        default_factory=lambda: {
            "max_regression": 0.02,
            "min_groundedness": 0.0,
            "min_injection_pass_rate": 0.5,
        }
    )
    trainer_tenant_thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    trainer_canary_share: float = Field(default=0.1, ge=0, le=1)

    # Monitoring.
    trainer_metrics_host: str = "127.0.0.1"
    trainer_metrics_port: int = Field(default=9464, ge=0, le=65_535)
    trainer_window_seconds: PositiveInt = 3_600
    trainer_min_samples: PositiveInt = 20
    trainer_alert_thresholds: dict[str, float] = Field(
        default_factory=lambda: {
            "block_rate": 0.3,
            "review_rate": 0.3,
            "no_answer_rate": 0.4,
            "mean_feedback_min": 0.5,
            "groundedness_min": 0.5,
            "language_gap": 0.25,
            "drift_psi": 0.25,
        }
    )
    trainer_drift_reference_size: PositiveInt = 200
    trainer_drift_window: PositiveInt = 100
    trainer_drift_clusters: PositiveInt = 5

    def thresholds_for(self, tenant: str) -> dict[str, float]:
        """The gate thresholds of a tenant: the defaults overlaid with the tenant's own."""
        return {
            **self.trainer_default_thresholds,
            **self.trainer_tenant_thresholds.get(tenant, {}),
        }
