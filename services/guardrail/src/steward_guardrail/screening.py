"""The two entry points: screen a citizen's prompt, check a model's draft answer."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import structlog

from steward_guardrail.embedding import CachedEmbedder, Embedder, MiniLMEmbedder
from steward_guardrail.grounding import GroundingChecker, split_sentences
from steward_guardrail.injection import InjectionDetector
from steward_guardrail.language import detect_language
from steward_guardrail.normalization import canonicalize, normalize_prompt
from steward_guardrail.pii import PiiDetector
from steward_guardrail.redaction import OriginalsCipher, Redaction, Redactor
from steward_guardrail.scope import ScopeClassifier, asks_for_person
from steward_guardrail.verdicts import Finding, InputVerdict, OutputVerdict, SealedValue

if TYPE_CHECKING:
    from steward_guardrail.policy import Policy
    from steward_guardrail.settings import GuardrailSettings

_log = structlog.get_logger("steward.guardrail")
_T = TypeVar("_T")

_WITHHELD = "[withheld: the text could not be redacted safely]"
_CITATION = re.compile(r"\[\s*(\d+(?:\s*[,-]\s*\d+)*)\s*\]")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_NO_ANSWER = re.compile(
    r"(?:\b(?:not|n't) (?:found|mentioned|included|covered|contained|provided|available"
    r"|addressed|stated|described) (?:in|by) (?:the |these |any of the )?(?:provided |given )?"
    r"(?:documents?|passages?|sources?|context|information|texts?)"
    r"|\b(?:the |these )?(?:provided )?(?:documents?|passages?|sources?|context)"
    r" (?:provided |given )?(?:do|does)"
    r" (?:not|n't) (?:contain|include|mention|say|cover|provide|address|answer|specify)"
    r"|\bi (?:could|can|was unable to|am unable to)(?:not|n't)? find\b"
    r"|\bi (?:do not|don't) (?:have|know)\b.{0,30}\b(?:information|answer|enough)"
    r"|\bno (?:relevant )?information (?:about|on|regarding)\b"
    r"|\bno (?:se encuentra|aparece|esta|se menciona|figura|se incluye) en (?:los |las )?"
    r"(?:documentos|textos|fuentes|pasajes)"
    r"|\blos (?:documentos|textos|pasajes) (?:proporcionados |dados )?no"
    r" (?:contienen|mencionan|incluyen|dicen|indican)"
    r"|\bno (?:tengo|encontre|encuentro|hay) (?:suficiente )?informacion)"
)


@contextmanager
def _timed(timings: dict[str, float] | None, name: str) -> Iterator[None]:
    """Add the wall time of a block to `timings[name]` (milliseconds) when asked to."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            elapsed = (time.perf_counter() - started) * 1000.0
            timings[name] = timings.get(name, 0.0) + elapsed


@dataclass
class _Run:
    """Findings and failures gathered while one text goes through the checks."""

    findings: list[Finding]
    failed: list[str]
    timings: dict[str, float] | None

    def check(self, name: str, action: Callable[[], _T]) -> _T | None:
        """Run one check, recording a failure instead of raising (fail closed)."""
        with _timed(self.timings, name):
            try:
                return action()
            except Exception as error:
                # Log the error type only: the message might echo citizen text.
                _log.error("guardrail.check_failed", check=name, error=type(error).__name__)
                self.failed.append(name)
                self.findings.append(Finding(kind="check_error", score=1.0, detail=name))
                return None


class Guardrail:
    """Holds the loaded models and per-conversation state the checks share."""

    def __init__(
        self,
        cipher: OriginalsCipher,
        *,
        embedder: Embedder | None = None,
        pii: PiiDetector | None = None,
        max_conversations: int = 50_000,
    ) -> None:
        self._embedder: Embedder = CachedEmbedder(embedder or MiniLMEmbedder())
        self._pii = pii or PiiDetector()
        self._redactor = Redactor(cipher, max_conversations=max_conversations)
        self._cipher = cipher
        self._injection = InjectionDetector(self._embedder)
        self._grounding = GroundingChecker(self._embedder)
        self._scopes: dict[str, ScopeClassifier] = {}

    @classmethod
    def from_settings(cls, settings: GuardrailSettings, key: bytes) -> Guardrail:
        """Build a guardrail from its settings (model options) and the PII key."""
        embedder = MiniLMEmbedder(
            quantized=settings.guardrail_embedding_quantized,
            threads=settings.guardrail_embedding_threads,
        )
        return cls(
            OriginalsCipher(key),
            embedder=embedder,
            max_conversations=settings.guardrail_max_conversations,
        )

    @property
    def pii(self) -> PiiDetector:
        """Return the personal-data detector."""
        return self._pii

    @property
    def injection(self) -> InjectionDetector:
        """Return the injection detector."""
        return self._injection

    @property
    def grounding(self) -> GroundingChecker:
        """Return the groundedness checker."""
        return self._grounding

    def prepare(self, policy: Policy) -> None:
        """Embed a policy's topic phrases now rather than on its first prompt."""
        self._scope_for(policy)

    def _scope_for(self, policy: Policy) -> ScopeClassifier:
        """Return the scope classifier of a policy version, building it once."""
        classifier = self._scopes.get(policy.sha256)
        if classifier is None:
            classifier = ScopeClassifier(policy.scope, self._embedder)
            self._scopes[policy.sha256] = classifier
        return classifier

    def screen_prompt(
        self,
        text: str,
        conversation_id: str,
        policy: Policy,
        *,
        timings: dict[str, float] | None = None,
    ) -> InputVerdict:
        """Screen a citizen's prompt: redact PII, detect injection, check scope."""
        run = _Run([], [], timings)
        language = detect_language(text)

        # Personal data first: nothing leaves the stage unredacted.
        redaction = run.check("pii", lambda: self._redact(text, conversation_id, policy))
        if redaction is not None:
            run.findings.extend(
                Finding(
                    kind=f"pii.{span.kind.value.lower()}",
                    score=span.score,
                    span=(span.start, span.end),
                )
                for span in redaction.spans
            )

        # Normalise once; injection and scope share the canonical form and its embedding.
        normalized = run.check("normalize", lambda: normalize_prompt(text))
        vector = None
        if normalized is not None:
            vector = run.check("embed", lambda: self._embedder.embed([normalized.canonical]))
        assessment = None
        if normalized is not None and vector is not None:
            assessment = run.check("injection", lambda: self._injection.assess(normalized, vector))
        canonical = normalized.canonical if normalized is not None else ""
        blocked = run.check("blocked_terms", lambda: _blocked_terms(canonical, policy))
        human = run.check("human_request", lambda: asks_for_person(canonical))
        scope = None
        if policy.scope.enabled and vector is not None:
            scope = run.check("scope", lambda: self._scope_for(policy).decide(canonical, vector))

        # Turn findings into one verdict, most serious first.
        injection_score = assessment.score if assessment is not None else 0.0
        is_attack = injection_score >= policy.injection.threshold
        if assessment is not None and (is_attack or assessment.score >= 0.3):
            run.findings.append(
                Finding(
                    kind="injection",
                    score=injection_score,
                    detail=",".join(assessment.categories) or "semantic",
                )
            )
        if blocked:
            run.findings.append(Finding(kind="blocked_term", score=1.0, detail=blocked))
        if human:
            run.findings.append(Finding(kind="human_request", score=1.0))
        if scope is not None and not scope.in_scope:
            run.findings.append(
                Finding(kind="off_scope", score=1.0 - scope.score, detail=scope.topic or "")
            )
        messages = policy.messages
        cause: str | None
        if run.failed:
            verdict, reason = "review", "A check could not run, so a person will look at this."
            reply, cause = messages.human_handoff.text(language), "check_error"
        elif is_attack:
            verdict, reason = (
                policy.input_routing.injection,
                (
                    "The message tries to change the assistant's instructions or reach data it "
                    "must not share."
                ),
            )
            reply, cause = messages.injection.text(language), "injection"
        elif blocked:
            verdict = policy.input_routing.blocked_term
            reason = "The message contains content this service does not handle."
            reply, cause = messages.declined.text(language), "blocked_term"
        elif human:
            verdict, reason = policy.input_routing.human_request, "The citizen asked for a person."
            reply, cause = messages.human_handoff.text(language), "human_request"
        elif scope is not None and not scope.in_scope:
            verdict = policy.input_routing.off_scope
            reason = "The question is outside the topics this service answers."
            reply, cause = messages.off_scope.text(language), "off_scope"
        else:
            verdict, reason, reply = "pass", "The message passed every check.", None
            cause = None

        redacted = redaction.text if redaction is not None else _WITHHELD
        sealed = (
            [
                SealedValue(placeholder=item.placeholder, kind=item.kind.value, token=item.token)
                for item in redaction.sealed
            ]
            if redaction is not None
            else []
        )
        _log.info(
            "guardrail.input_checked",
            conversation_id=conversation_id,
            verdict=verdict,
            findings=len(run.findings),
            policy_version=policy.version,
        )
        return InputVerdict(
            verdict=verdict,
            reason=reason,
            reply=reply,
            causes=[cause] if cause else [],
            findings=run.findings,
            redacted_text=redacted,
            sealed_originals=sealed,
            language=language,
            injection_score=injection_score,
            scope_topic=scope.topic if scope is not None else None,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
        )

    def _redact(self, text: str, conversation_id: str, policy: Policy) -> Redaction:
        """Detect personal data and replace it with conversation-consistent placeholders."""
        spans = self._pii.detect(text)
        return self._redactor.redact(
            text, spans, conversation_id, keep_originals=policy.pii.keep_originals
        )

    def check_answer(
        self,
        question: str,
        answer: str,
        passages: list[str],
        policy: Policy,
        *,
        timings: dict[str, float] | None = None,
    ) -> OutputVerdict:
        """Check a draft answer against its passages and the policy before a citizen sees it."""
        run = _Run([], [], timings)
        language = detect_language(question or answer)
        messages = policy.messages
        notice = messages.notice.text(language)

        # The model's own "not in the documents" becomes an honest no-answer.
        no_answer = run.check("no_answer", lambda: _is_no_answer(answer))
        if no_answer and not run.failed:
            text = (
                f"{messages.no_answer.text(language)} {messages.contact_route.text(language)}"
                f"\n\n{notice}"
            )
            return self._output(
                policy,
                "decline",
                "The documents do not answer this question.",
                ["no_answer"],
                run.findings,
                0.0,
                text,
                language,
            )

        # Deterministic checks: blocked terms, citations, links, leaked personal data.
        canonical = canonicalize(answer)
        blocked = run.check("blocked_terms", lambda: _blocked_terms(canonical, policy))
        if blocked:
            run.findings.append(Finding(kind="blocked_term", score=1.0, detail=blocked))
        bad_citations = run.check("citations", lambda: _invalid_citations(answer, len(passages)))
        for span in bad_citations or []:
            run.findings.append(Finding(kind="invalid_citation", score=1.0, span=span))
        unknown_urls = run.check("urls", lambda: _unknown_urls(answer, passages))
        for span in unknown_urls or []:
            run.findings.append(Finding(kind="unknown_url", score=1.0, span=span))
        leaks = run.check("pii_leak", lambda: self._leaked_pii(question, answer, passages))
        for kind, span in leaks or []:
            run.findings.append(Finding(kind="pii_leak", score=1.0, span=span, detail=kind))

        # Groundedness of every sentence against the passages.
        sentences = split_sentences(answer)
        report = run.check(
            "grounding", lambda: self._grounding.assess(sentences, passages, language)
        )
        groundedness = report.score if report is not None else 0.0
        if report is not None:
            for item in report.sentences:
                if item.support < policy.grounding.sentence_threshold:
                    run.findings.append(
                        Finding(
                            kind="unsupported_sentence",
                            score=round(1.0 - item.support, 4),
                            detail=f"sentence {item.index + 1}"
                            + (" (numbers not in passages)" if item.unsupported_numbers else ""),
                        )
                    )

        # Each finding routes per policy; a decline outranks a review.
        routing = policy.output_routing
        actions: list[tuple[str, str, str]] = []
        if run.failed:
            actions.append(
                ("review", "check_error", "A check could not run, so a person will look at this.")
            )
        if blocked:
            actions.append(
                (
                    routing.blocked_term,
                    "blocked_term",
                    "The draft contains content the policy blocks.",
                )
            )
        if leaks:
            actions.append(
                (
                    routing.pii_leak,
                    "pii_leak",
                    "The draft contains personal data not given by the citizen.",
                )
            )
        if bad_citations:
            actions.append(
                (
                    routing.invalid_citation,
                    "invalid_citation",
                    "The draft cites a passage that was not provided.",
                )
            )
        if unknown_urls:
            actions.append(
                (
                    routing.unknown_url,
                    "unknown_url",
                    "The draft links to an address that is not in the passages.",
                )
            )
        if report is not None and groundedness < policy.grounding.min_score:
            actions.append(
                (
                    routing.low_groundedness,
                    "low_groundedness",
                    "The draft is not well supported by the documents.",
                )
            )
        declines = [(cause, reason) for action, cause, reason in actions if action == "decline"]
        reviews = [(cause, reason) for action, cause, reason in actions if action == "review"]
        draft = f"{answer.strip()}\n\n{notice}"
        if declines:
            text = (
                f"{messages.declined.text(language)} {messages.contact_route.text(language)}"
                f"\n\n{notice}"
            )
            # Every cause is kept (a reviewer may see the rest); the reason names the declines.
            return self._output(
                policy,
                "decline",
                " ".join(reason for _, reason in declines),
                [cause for cause, _ in declines + reviews],
                run.findings,
                groundedness,
                text,
                language,
            )
        if reviews:
            return self._output(
                policy,
                "review",
                " ".join(reason for _, reason in reviews),
                [cause for cause, _ in reviews],
                run.findings,
                groundedness,
                draft,
                language,
            )
        return self._output(
            policy,
            "release",
            "The draft passed every check.",
            [],
            run.findings,
            groundedness,
            draft,
            language,
        )

    def _output(
        self,
        policy: Policy,
        verdict: str,
        reason: str,
        causes: list[str],
        findings: list[Finding],
        groundedness: float,
        text: str,
        language: str,
    ) -> OutputVerdict:
        """Assemble an output verdict and log one line about it."""
        _log.info(
            "guardrail.output_checked",
            verdict=verdict,
            findings=len(findings),
            groundedness=groundedness,
            policy_version=policy.version,
        )
        return OutputVerdict.model_validate(
            {
                "verdict": verdict,
                "reason": reason,
                "causes": causes,
                "findings": findings,
                "groundedness": min(1.0, max(0.0, groundedness)),
                "final_text": text,
                "language": language,
                "policy_version": policy.version,
                "policy_sha256": policy.sha256,
            }
        )

    def _leaked_pii(
        self, question: str, answer: str, passages: list[str]
    ) -> list[tuple[str, tuple[int, int]]]:
        """Return personal data in the answer that neither the question nor a passage gave."""
        # Values in the public passages (agency phone numbers, addresses) are not leaks.
        known = {
            self._cipher.fingerprint(span.kind, span.value(source))
            for source in [question, *passages]
            for span in self._pii.detect(source)
        }
        return [
            (span.kind.value, (span.start, span.end))
            for span in self._pii.detect(answer)
            if self._cipher.fingerprint(span.kind, span.value(answer)) not in known
        ]


def _blocked_terms(canonical_text: str, policy: Policy) -> str:
    """Return the first blocked term of a policy found in a canonical text, or ''."""
    for term in policy.blocked_terms:
        if re.search(r"\b" + re.escape(canonicalize(term)) + r"\b", canonical_text):
            return term
    return ""


def _is_no_answer(answer: str) -> bool:
    """Tell whether a draft says the documents do not answer the question."""
    canonical = canonicalize(answer)
    if not canonical:
        return True
    return bool(_NO_ANSWER.search(canonical)) and len(split_sentences(answer)) <= 2


def _invalid_citations(answer: str, passage_count: int) -> list[tuple[int, int]]:
    """Return spans of citations [n] that point outside the provided passages."""
    invalid = []
    for match in _CITATION.finditer(answer):
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        if any(number < 1 or number > passage_count for number in numbers):
            invalid.append(match.span())
    return invalid


def _normal_url(url: str) -> str:
    """Reduce a URL to a comparable form (no scheme, no www, no trailing punctuation)."""
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower())
    return url.rstrip(".,;:!?/")


def _unknown_urls(answer: str, passages: list[str]) -> list[tuple[int, int]]:
    """Return spans of links in the answer that no passage contains."""
    known = {
        _normal_url(match.group(0)) for passage in passages for match in _URL.finditer(passage)
    }
    return [
        match.span() for match in _URL.finditer(answer) if _normal_url(match.group(0)) not in known
    ]


def screen_prompt(
    text: str,
    conversation_id: str,
    policy: Policy,
    *,
    guardrail: Guardrail,
    timings: dict[str, float] | None = None,
) -> InputVerdict:
    """Screen a citizen's prompt with a loaded guardrail (see `Guardrail.screen_prompt`)."""
    return guardrail.screen_prompt(text, conversation_id, policy, timings=timings)


def check_answer(
    question: str,
    answer: str,
    passages: list[str],
    policy: Policy,
    *,
    guardrail: Guardrail,
    timings: dict[str, float] | None = None,
) -> OutputVerdict:
    """Check a draft answer with a loaded guardrail (see `Guardrail.check_answer`)."""
    return guardrail.check_answer(question, answer, passages, policy, timings=timings)
