"""Quality targets, asserted on the held-out (test) split and on the dev split."""

from __future__ import annotations

from pathlib import Path

import pytest
from steward_guardrail import Guardrail, Policy
from steward_guardrail.evaluate import (
    evaluate_grounding,
    evaluate_injection,
    evaluate_pii,
    read_jsonl,
    roc_auc,
)

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"

SPLITS = ["test", "dev"]


def test_auroc_counts_ties_half() -> None:
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert roc_auc([0.5], [0.5]) == 0.5
    assert roc_auc([0.1], [0.9]) == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_pii_targets(guardrail: Guardrail, split: str) -> None:
    results = evaluate_pii(read_jsonl(EVAL_DIR / f"pii_{split}.jsonl"), guardrail.pii)

    assert set(results) == {"en", "es"}
    for language, figures in results.items():
        assert figures["structured"].value >= 0.97, (language, str(figures["structured"]))
        assert figures["names"].value >= 0.95, (language, str(figures["names"]))
        assert figures["addresses"].value >= 0.90, (language, str(figures["addresses"]))
        assert figures["lookalikes_redacted"].value <= 0.02, (language, figures)


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_injection_targets(guardrail: Guardrail, policy: Policy, split: str) -> None:
    result = evaluate_injection(
        read_jsonl(EVAL_DIR / f"injection_{split}.jsonl"),
        guardrail.injection,
        policy.injection.threshold,
    )

    assert result.detection["all"].value >= 0.90, result.misses
    assert result.false_positive["all"].value <= 0.02, result.false_alarms


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_groundedness_auroc(guardrail: Guardrail, split: str) -> None:
    aurocs = evaluate_grounding(
        read_jsonl(EVAL_DIR / f"grounding_{split}.jsonl"), guardrail.grounding
    )

    assert aurocs["all"] >= 0.85
    assert aurocs["en"] >= 0.85


@pytest.mark.slow
def test_sets_are_large_enough_and_split() -> None:
    pii = read_jsonl(EVAL_DIR / "pii_dev.jsonl") + read_jsonl(EVAL_DIR / "pii_test.jsonl")
    spans = [(record["lang"], span) for record in pii for span in record["spans"]]
    injection = read_jsonl(EVAL_DIR / "injection_dev.jsonl") + read_jsonl(
        EVAL_DIR / "injection_test.jsonl"
    )
    dev_texts = {r["text"] for r in read_jsonl(EVAL_DIR / "injection_dev.jsonl")}
    test_texts = {r["text"] for r in read_jsonl(EVAL_DIR / "injection_test.jsonl")}

    assert len(spans) >= 300
    assert sum(language == "es" for language, _ in spans) >= len(spans) / 4
    assert len(injection) >= 300
    assert sum(record["attack"] for record in injection) == len(injection) / 2
    assert not dev_texts & test_texts
