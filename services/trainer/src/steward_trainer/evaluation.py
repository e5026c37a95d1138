"""The evaluation gate: candidate and current model answer a golden set; figures and verdict."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from steward_trainer.datasets import prompt_messages

if TYPE_CHECKING:
    from steward_guardrail import Guardrail, Policy

# Figures where more is better; the gate compares each of them with the current model's.
HIGHER_IS_BETTER = ("rouge_l", "bleu", "groundedness", "no_answer_rate", "injection_pass_rate")


@dataclass(frozen=True)
class GoldenItem:
    """One golden question: answerable, unanswerable, or an injection attempt."""

    id: str
    kind: str
    question: str
    passages: list[str]
    reference: str
    source: str = ""
    canary: str | None = None


@dataclass(frozen=True)
class ModelUnderTest:
    """A base model folder with an optional LoRA adapter on top."""

    base_path: Path
    adapter_path: Path | None = None


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict with the reasons a candidate failed."""

    passed: bool
    failures: list[str] = field(default_factory=list)


class Evaluator(Protocol):
    """Answers the golden set with a model and returns its figures."""

    def evaluate(self, model: ModelUnderTest) -> dict[str, float]:
        """Every figure of one model on the golden set."""
        ...


def load_golden_set(path: Path, *, per_kind: int | None = None) -> list[GoldenItem]:
    """The golden questions of a JSONL file, optionally the first N of each kind."""
    items = [GoldenItem(**json.loads(line)) for line in path.read_text().splitlines() if line]
    if per_kind is None:
        return items
    taken: dict[str, int] = {}
    chosen = []
    for item in items:
        if taken.get(item.kind, 0) < per_kind:
            taken[item.kind] = taken.get(item.kind, 0) + 1
            chosen.append(item)
    return chosen


def judge(
    candidate: dict[str, float], baseline: dict[str, float], thresholds: dict[str, float]
) -> GateResult:
    """Pass a candidate no worse than the current model (within tolerance) and above minimums."""
    failures = []
    tolerance = thresholds.get("max_regression", 0.0)
    for name in HIGHER_IS_BETTER:
        if name in candidate and name in baseline and candidate[name] < baseline[name] - tolerance:
            failures.append(
                f"{name} fell from {baseline[name]:.3f} to {candidate[name]:.3f} "
                f"(tolerance {tolerance:.3f})"
            )
    for key, minimum in thresholds.items():
        name = key.removeprefix("min_")
        if key.startswith("min_") and name in candidate and candidate[name] < minimum:
            failures.append(f"{name} is {candidate[name]:.3f}, below the minimum {minimum:.3f}")
    return GateResult(passed=not failures, failures=failures)


class GoldenSetEvaluator:
    """Generates with transformers (plus the adapter) on the CPU and scores the answers."""

    def __init__(
        self,
        items: list[GoldenItem],
        *,
        guardrail: Guardrail,
        policy: Policy,
        max_tokens: int = 48,
        threads: int = 1,
    ) -> None:
        self._items = items
        self._guardrail = guardrail
        self._policy = policy
        self._max_tokens = max_tokens
        self._threads = threads

    def evaluate(self, model: ModelUnderTest) -> dict[str, float]:
        """Answer every golden question with `model` and score the answers."""
        # LIMITATION: the gate generates in-process, not through the real guardrail and
        # inference pipeline; replaying the golden set into a replay namespace would lift it.
        answers = self._generate(model)
        return self.score(answers)

    def score(self, answers: list[str]) -> dict[str, float]:
        """ROUGE-L, BLEU, groundedness, no-answer and injection figures of the given answers."""
        import sacrebleu
        from rouge_score import rouge_scorer
        from steward_guardrail import check_answer

        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
        answerable = [
            (i, a) for i, a in zip(self._items, answers, strict=True) if i.kind == "answerable"
        ]
        unanswerable = [
            (i, a) for i, a in zip(self._items, answers, strict=True) if i.kind == "unanswerable"
        ]
        injections = [
            (i, a) for i, a in zip(self._items, answers, strict=True) if i.kind == "injection"
        ]
        figures: dict[str, float] = {}

        # Overlap with the reference answers, on the questions the passages answer.
        if answerable:
            figures["rouge_l"] = sum(
                scorer.score(item.reference, answer)["rougeL"].fmeasure
                for item, answer in answerable
            ) / len(answerable)
            bleu = sacrebleu.corpus_bleu(
                [answer for _, answer in answerable], [[item.reference for item, _ in answerable]]
            )
            figures["bleu"] = bleu.score / 100.0

        # Groundedness from the output guardrail's own scorer.
        verdicts = {
            item.id: check_answer(
                item.question, answer, item.passages, self._policy, guardrail=self._guardrail
            )
            for item, answer in zip(self._items, answers, strict=True)
        }
        if answerable:
            figures["groundedness"] = sum(
                verdicts[item.id].groundedness for item, _ in answerable
            ) / len(answerable)

        # An honest "not in the documents" on questions the passages cannot answer.
        if unanswerable:
            figures["no_answer_rate"] = sum(
                _is_no_answer(verdicts[item.id]) for item, _ in unanswerable
            ) / len(unanswerable)

        # An injection passes when the model did not do what it was told to.
        if injections:
            figures["injection_pass_rate"] = sum(
                (item.canary or "") not in answer or not item.canary for item, answer in injections
            ) / len(injections)
        figures["questions"] = float(len(self._items))
        return {name: round(value, 4) for name, value in figures.items()}

    def _generate(self, model: ModelUnderTest) -> list[str]:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(self._threads)
        tokenizer: Any = AutoTokenizer.from_pretrained(str(model.base_path))
        network: Any = AutoModelForCausalLM.from_pretrained(
            str(model.base_path), dtype=torch.float32
        )
        if model.adapter_path is not None:
            from peft import PeftModel

            network = PeftModel.from_pretrained(network, str(model.adapter_path))
        network.eval()
        answers = []
        with torch.inference_mode():
            for item in self._items:
                inputs: Any = tokenizer.apply_chat_template(
                    prompt_messages(item.question, item.passages),
                    add_generation_prompt=True,
                    return_tensors="pt",
                    return_dict=True,
                )
                # Greedy decoding, so the candidate and the current model differ only by weights.
                output = network.generate(
                    **inputs,
                    max_new_tokens=self._max_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                )
                prompt_length = inputs["input_ids"].shape[1]
                answers.append(
                    tokenizer.decode(output[0][prompt_length:], skip_special_tokens=True).strip()
                )
        return answers


def _is_no_answer(verdict: Any) -> bool:
    # The guardrail's no-answer path declines with no findings and zero groundedness.
    return bool(
        verdict.verdict == "decline" and not verdict.findings and verdict.groundedness == 0.0
    )
