"""`make eval-model`: the packaged base model's figures on the golden set, printed as JSON.

This is the offline evaluator: it generates in-process on each question's own passages and
needs no running pipeline; the trainer service gates candidates through the pipeline instead.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from steward_guardrail import Guardrail, OriginalsCipher, load_policies

from steward_trainer.base_model import ensure_base_model
from steward_trainer.evaluation import GoldenSetEvaluator, ModelUnderTest, load_golden_set
from steward_trainer.monitoring import MiniLMEmbedder
from steward_trainer.settings import TrainerSettings


def offline_evaluator(
    settings: TrainerSettings, *, tenant: str | None = None, embedder: Any = None
) -> GoldenSetEvaluator:
    """The in-process evaluator with the tenant's policy (or the first one) and a guardrail."""
    policies = load_policies(settings.trainer_policy_dir)
    policy = policies.get(tenant or "") or next(iter(policies.values()))
    embedder = embedder or MiniLMEmbedder(settings.trainer_threads)
    # The evaluator seals nothing, so a throwaway key serves the guardrail's cipher.
    return GoldenSetEvaluator(
        load_golden_set(settings.trainer_golden_set, per_kind=settings.trainer_golden_limit),
        guardrail=Guardrail(OriginalsCipher(os.urandom(32)), embedder=embedder),
        policy=policy,
        max_tokens=settings.trainer_eval_max_tokens,
        threads=settings.trainer_threads,
    )


def main() -> None:
    """Convert the base model if needed, answer the golden set, print every figure."""
    settings = TrainerSettings()
    base = ensure_base_model(settings.trainer_base_cache or settings.trainer_data_dir / "base")
    evaluation = offline_evaluator(settings).evaluate_now(ModelUnderTest(base.path))
    json.dump(
        {"model": base.name, "revision": base.revision, **evaluation.figures},
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
