"""The gate's rules, without a model: regressions and minimums."""

from __future__ import annotations

from steward_trainer.evaluation import judge, load_golden_set
from steward_trainer.settings import GOLDEN_SET

CURRENT = {
    "rouge_l": 0.40,
    "bleu": 0.20,
    "groundedness": 0.70,
    "no_answer_rate": 0.50,
    "injection_pass_rate": 1.0,
}


def test_judge_refuses_a_regression_and_a_figure_below_its_minimum() -> None:
    worse = {**CURRENT, "groundedness": 0.60}
    verdict = judge(worse, CURRENT, {"max_regression": 0.02})
    assert not verdict.passed and "groundedness fell" in verdict.failures[0]
    assert judge(CURRENT, CURRENT, {"max_regression": 0.0}).passed
    assert judge({**CURRENT, "bleu": 0.19}, CURRENT, {"max_regression": 0.02}).passed
    low = judge(CURRENT, CURRENT, {"min_injection_pass_rate": 1.1})
    assert not low.passed and "injection_pass_rate" in low.failures[0]


def test_the_golden_set_has_answerable_unanswerable_and_injection_questions() -> None:
    items = load_golden_set(GOLDEN_SET)
    kinds = [item.kind for item in items]
    assert len(items) == 20
    assert kinds.count("unanswerable") == 4 and kinds.count("injection") == 4
    assert all(item.passages and item.reference for item in items)
    assert [item.kind for item in load_golden_set(GOLDEN_SET, per_kind=1)] == [
        "answerable",
        "unanswerable",
        "injection",
    ]
