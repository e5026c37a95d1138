"""Measure PII recall, look-alike redaction, injection detection and groundedness AUROC.

Run `python -m steward_guardrail.evaluate [--data DIR] [--split dev|test|both]`.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward_guardrail.pii import STRUCTURED_KINDS, PiiDetector, PiiKind, PiiSpan

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "eval"
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "policies" / "riverland-revenue.yaml"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read one JSON object per line."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _covered(text: str, start: int, end: int, predicted: list[PiiSpan]) -> bool:
    """Tell whether every non-space character of a gold span lies inside predicted spans."""
    return all(
        text[index].isspace() or any(span.start <= index < span.end for span in predicted)
        for index in range(start, end)
    )


def _touched(start: int, end: int, predicted: list[PiiSpan]) -> bool:
    """Tell whether any predicted span overlaps a range."""
    return any(span.start < end and start < span.end for span in predicted)


def _family(kind: str) -> str:
    """Group a gold kind into the families the targets are stated for."""
    if kind == PiiKind.NAME.value:
        return "names"
    if kind == PiiKind.ADDRESS.value:
        return "addresses"
    if kind in {item.value for item in STRUCTURED_KINDS}:
        return "structured"
    raise ValueError(f"unknown gold kind {kind!r}; expected a PiiKind value")


@dataclass
class Rate:
    """A count of hits out of a total."""

    hits: int = 0
    total: int = 0

    @property
    def value(self) -> float:
        """Return hits / total (1.0 for an empty total)."""
        return self.hits / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.value:.3f} ({self.hits}/{self.total})"


def evaluate_pii(
    records: list[dict[str, Any]], detector: PiiDetector
) -> dict[str, dict[str, Rate]]:
    """Return per-language recall by family and the look-alike redaction rate."""
    results: dict[str, dict[str, Rate]] = defaultdict(lambda: defaultdict(Rate))
    for record in records:
        text, language = record["text"], record["lang"]
        predicted = detector.detect(text)
        for gold in record["spans"]:
            rate = results[language][_family(gold["kind"])]
            rate.total += 1
            rate.hits += _covered(text, gold["start"], gold["end"], predicted)
        for lookalike in record["lookalikes"]:
            rate = results[language]["lookalikes_redacted"]
            rate.total += 1
            rate.hits += _touched(lookalike["start"], lookalike["end"], predicted)
        # Predicted spans that match no gold span, outside look-alikes, are stray redactions.
        gold_ranges = [(g["start"], g["end"]) for g in record["spans"]]
        for span in predicted:
            results[language]["stray_spans"].total += 1
            if not any(span.start < end and start < span.end for start, end in gold_ranges):
                results[language]["stray_spans"].hits += 1
    return {language: dict(families) for language, families in results.items()}


def roc_auc(positives: Iterable[float], negatives: Iterable[float]) -> float:
    """Return the AUROC: the chance a positive outscores a negative (ties count half)."""
    pos, neg = list(positives), list(negatives)
    if not pos or not neg:
        raise ValueError("AUROC needs at least one positive and one negative score")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@dataclass
class InjectionResult:
    """Detection and false-positive rates at one threshold, per language."""

    detection: dict[str, Rate]
    false_positive: dict[str, Rate]
    misses: list[str]
    false_alarms: list[str]


def evaluate_injection(
    records: list[dict[str, Any]], scorer: Any, threshold: float
) -> InjectionResult:
    """Score each prompt; an attack is detected when its score reaches the threshold."""
    detection: dict[str, Rate] = defaultdict(Rate)
    false_positive: dict[str, Rate] = defaultdict(Rate)
    misses, alarms = [], []
    for record in records:
        score = scorer.score_text(record["text"]).score
        flagged = score >= threshold
        for language in (record["lang"], "all"):
            rate = detection[language] if record["attack"] else false_positive[language]
            rate.total += 1
            rate.hits += flagged
        if record["attack"] and not flagged:
            misses.append(f"{score:.2f} [{record.get('category', '')}] {record['text'][:90]}")
        if not record["attack"] and flagged:
            alarms.append(f"{score:.2f} {record['text'][:90]}")
    return InjectionResult(dict(detection), dict(false_positive), misses, alarms)


def evaluate_grounding(records: list[dict[str, Any]], checker: Any) -> dict[str, float]:
    """Return groundedness AUROC (faithful vs unfaithful) per language and overall."""
    from steward_guardrail.grounding import split_sentences

    scores: dict[str, dict[bool, list[float]]] = defaultdict(lambda: {True: [], False: []})
    for record in records:
        report = checker.assess(
            split_sentences(record["answer"]), record["passages"], record["lang"]
        )
        for language in (record["lang"], "all"):
            scores[language][record["faithful"]].append(report.score)
    return {
        language: roc_auc(groups[True], groups[False])
        for language, groups in scores.items()
        if groups[True] and groups[False]
    }


def main(argv: list[str] | None = None) -> int:
    """Run every evaluation on the chosen splits and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from steward_guardrail.embedding import CachedEmbedder, MiniLMEmbedder
    from steward_guardrail.grounding import GroundingChecker
    from steward_guardrail.injection import InjectionDetector
    from steward_guardrail.policy import load_policy

    policy = load_policy(DEFAULT_POLICY)
    detector = PiiDetector()
    embedder = CachedEmbedder(MiniLMEmbedder())
    injection = InjectionDetector(embedder)
    grounding = GroundingChecker(embedder)
    splits = ["dev", "test"] if args.split == "both" else [args.split]

    for split in splits:
        print(f"== {split} split ==")
        pii = evaluate_pii(read_jsonl(args.data / f"pii_{split}.jsonl"), detector)
        for language in sorted(pii):
            figures = "  ".join(f"{name}={rate}" for name, rate in sorted(pii[language].items()))
            print(f"PII [{language}] {figures}")

        result = evaluate_injection(
            read_jsonl(args.data / f"injection_{split}.jsonl"),
            injection,
            policy.injection.threshold,
        )
        for language in sorted(result.detection):
            print(
                f"injection [{language}] detection={result.detection[language]}  "
                f"false_positive={result.false_positive.get(language, Rate())}"
            )
        if args.verbose:
            for line in result.misses:
                print(f"  miss  {line}")
            for line in result.false_alarms:
                print(f"  alarm {line}")

        aurocs = evaluate_grounding(read_jsonl(args.data / f"grounding_{split}.jsonl"), grounding)
        print(
            "groundedness AUROC " + "  ".join(f"[{k}] {v:.3f}" for k, v in sorted(aurocs.items()))
        )

        # Real model drafts, labelled by hand, are scored apart from the composed answers.
        drafts = args.data / f"grounding_drafts_{split}.jsonl"
        if drafts.is_file():
            aurocs = evaluate_grounding(read_jsonl(drafts), grounding)
            print(
                "groundedness AUROC on model drafts "
                + "  ".join(f"[{k}] {v:.3f}" for k, v in sorted(aurocs.items()))
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
