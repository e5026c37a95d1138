"""`make eval-model`: the packaged base model's figures on the golden set, printed as JSON."""

from __future__ import annotations

import json
import os
import sys

from steward_guardrail import Guardrail, OriginalsCipher, load_policies

from steward_trainer.base_model import ensure_base_model
from steward_trainer.evaluation import GoldenSetEvaluator, ModelUnderTest, load_golden_set
from steward_trainer.monitoring import MiniLMEmbedder
from steward_trainer.settings import TrainerSettings


def main() -> None:
    """Convert the base model if needed, answer the golden set, print every figure."""
    settings = TrainerSettings()
    base = ensure_base_model(settings.trainer_base_cache or settings.trainer_data_dir / "base")
    policy = next(iter(load_policies(settings.trainer_policy_dir).values()))
    embedder = MiniLMEmbedder(settings.trainer_threads)
    evaluator = GoldenSetEvaluator(
        load_golden_set(settings.trainer_golden_set, per_kind=settings.trainer_golden_limit),
        guardrail=Guardrail(OriginalsCipher(os.urandom(32)), embedder=embedder),
        policy=policy,
        max_tokens=settings.trainer_eval_max_tokens,
        threads=settings.trainer_threads,
    )
    figures = evaluator.evaluate(ModelUnderTest(base.path))
    json.dump({"model": base.name, "revision": base.revision, **figures}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
