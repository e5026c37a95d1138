"""Per-tenant scope: is a question about one of the tenant's topics, or a request for a person."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from steward_guardrail.embedding import Embedder, Vectors
from steward_guardrail.normalization import canonicalize
from steward_guardrail.policy import ScopePolicy

# A keyword names the topic outright; it counts for as much as a close paraphrase.
_KEYWORD_BONUS = 0.3
_KEYWORD_FLOOR = 0.55

_HUMAN_REQUEST = re.compile(
    r"\b(?:(?:talk|speak|chat|connect me|put me through|transfer me)\b.{0,12}\b(?:to|with)\b"
    r".{0,12}\b(?:a |an |some |your )?(?:real |live |actual )?(?:person|human|agent"
    r"|representative|rep|someone|somebody|officer|staff|employee|operator|supervisor|caseworker)"
    r"|\b(?:human|live) (?:agent|being|representative|support|help)\b"
    r"|\bnot (?:a|an) (?:bot|robot|ai|machine)\b"
    r"|\b(?:hablar|comunicarme|platicar|conversar|contactar|comunicar)\b.{0,15}\b(?:con )?"
    r"(?:una |un |alguna |algun |alguien|una persona|la )?(?:persona|humano|agente|representante"
    r"|empleado|funcionario|alguien|operador|supervisor|ser humano)"
    r"|\b(?:quiero|necesito|prefiero) (?:a )?(?:una persona|un humano|un agente|alguien real"
    r"|un representante|hablar con alguien))"
)


def asks_for_person(canonical_text: str) -> bool:
    """Tell whether a canonical prompt asks to be handed to a person."""
    return bool(_HUMAN_REQUEST.search(canonical_text))


@dataclass(frozen=True)
class ScopeDecision:
    """Whether a question is within the tenant's topics, and which topic fits best."""

    in_scope: bool
    topic: str | None
    score: float


class ScopeClassifier:
    """Matches questions to a tenant's topics by embedding similarity and keywords."""

    def __init__(self, policy: ScopePolicy, embedder: Embedder) -> None:
        self._policy = policy
        self._embedder = embedder

        # Embed every topic phrase once, remembering which topic each row belongs to.
        phrases = [canonicalize(phrase) for topic in policy.topics for phrase in topic.phrases]
        self._owners = [index for index, topic in enumerate(policy.topics) for _ in topic.phrases]
        self._phrases: Vectors = embedder.embed(phrases)
        self._keywords = [
            re.compile(
                r"\b(?:" + "|".join(re.escape(canonicalize(k)) for k in topic.keywords) + r")\b"
            )
            if topic.keywords
            else None
            for topic in policy.topics
        ]

    def decide(self, canonical_text: str, vector: Vectors | None = None) -> ScopeDecision:
        """Score each topic and report the best; pass the prompt's embedding if known."""
        if vector is None:
            vector = self._embedder.embed([canonical_text])

        # Closest phrase per topic.
        similarities = (vector @ self._phrases.T).reshape(-1)
        best_by_topic = np.full(len(self._policy.topics), -1.0)
        for row, owner in enumerate(self._owners):
            best_by_topic[owner] = max(best_by_topic[owner], similarities[row])

        # Keywords lift a topic; Spanish questions rely on them (the model reads English).
        for index, keywords in enumerate(self._keywords):
            if keywords is not None and keywords.search(canonical_text):
                best_by_topic[index] = max(best_by_topic[index] + _KEYWORD_BONUS, _KEYWORD_FLOOR)

        winner = int(np.argmax(best_by_topic))
        score = float(min(1.0, max(0.0, best_by_topic[winner])))
        in_scope = score >= self._policy.threshold
        return ScopeDecision(in_scope, self._policy.topics[winner].name, round(score, 4))
