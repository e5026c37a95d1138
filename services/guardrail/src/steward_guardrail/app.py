"""The guardrail on the bus: screens every request, checks every draft, ends what it decides."""

from __future__ import annotations

import asyncio
import contextvars
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from steward_bus import Service, configure_logging, current_event
from steward_events import (
    ChatRequested,
    ChatResponded,
    DecidedBy,
    Disposition,
    Envelope,
    EventData,
    FindingKind,
    GuardrailInputChecked,
    GuardrailOutputChecked,
    InferenceCompleted,
    InferenceFailed,
    ReviewPriority,
    ReviewRequested,
    ReviewStage,
)
from steward_events import Finding as EventFinding
from steward_events import InputVerdict as InputVerdictKind
from steward_events import OutputVerdict as OutputVerdictKind

from steward_guardrail._events import (
    MAX_SHORT_TEXT,
    MAX_TEXT,
    bounded,
    event_findings,
    language_of,
    policy_ref,
    reason_kind,
)
from steward_guardrail.errors import GuardrailError, UnknownPolicyVersion
from steward_guardrail.originals import OriginalsStore
from steward_guardrail.pii_key import resolve_pii_key
from steward_guardrail.policy import PolicyArchive, load_policies, load_policy_archive
from steward_guardrail.screening import Guardrail
from steward_guardrail.settings import GuardrailSettings
from steward_guardrail.verdicts import Finding, InputVerdict, OutputVerdict

if TYPE_CHECKING:
    from collections.abc import Callable

    from steward_events import Citation

    from steward_guardrail.policy import Policy

_log = structlog.get_logger("steward.guardrail")
_T = TypeVar("_T")

SERVICE_NAME = "guardrail"
_WITHHELD = "[withheld: the guardrail could not finish screening this message]"
_NO_POLICY_REASON = "No guardrail policy is configured for this agency, so nothing is answered."
_NO_POLICY_ANSWER = (
    "This assistant is not set up to answer questions for this agency yet. "
    "Please contact the agency directly."
)
_UNAVAILABLE_REASON = "The model could not produce an answer."


class GuardrailService:
    """Consumes requests and drafts, publishes verdicts, and ends the requests it decides."""

    def __init__(
        self,
        settings: GuardrailSettings,
        guardrail: Guardrail,
        policies: dict[str, Policy],
        *,
        archive: PolicyArchive | None = None,
        originals: OriginalsStore | None = None,
    ) -> None:
        self.settings = settings
        self.policies = policies
        # Earlier versions, which only a replay may ask for by name.
        self.archive = archive or PolicyArchive(list(policies.values()))
        self._guardrail = guardrail
        self._originals = originals or OriginalsStore(settings.guardrail_originals_dir)
        # One worker: checks share the model and conversation maps, and run one at a time.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guardrail-check")
        self.service = Service(SERVICE_NAME, settings)
        self._started = asyncio.Event()
        # Both stages serve replays; what they publish for one stays in the replay namespace.
        self.service.subscribe(ChatRequested, self._on_chat_requested, replayable=True)
        self.service.subscribe(InferenceCompleted, self._on_inference_completed, replayable=True)
        self.service.subscribe(InferenceFailed, self._on_inference_failed, replayable=True)

    @classmethod
    def from_settings(
        cls, settings: GuardrailSettings, *, guardrail: Guardrail | None = None
    ) -> GuardrailService:
        """Load every tenant policy and the model; a bad policy file stops here, named."""
        # Policies first: a bad file must stop the service before the slow model load.
        # LIMITATION: policies load only here; watching the folder would apply edits live.
        policies = load_policies(settings.guardrail_policy_dir)
        archive = load_policy_archive(settings.guardrail_policy_dir, policies)

        # A missing or malformed key stops the start too; tests pass a loaded guardrail.
        if guardrail is None:
            guardrail = Guardrail.from_settings(settings, resolve_pii_key(settings))
        for policy in archive:
            guardrail.prepare(policy)
        _log.info(
            "guardrail.policies_loaded",
            tenants=sorted(policies),
            versions={tenant: policy.version for tenant, policy in policies.items()},
            replayable={tenant: archive.versions(tenant) for tenant in policies},
        )
        return cls(settings, guardrail, policies, archive=archive)

    async def start(self) -> None:
        """Connect to the bus and start consuming."""
        await self.service.start()
        self._started.set()

    async def stop(self) -> None:
        """Stop consuming and let go of the worker thread."""
        await self.service.stop()
        # A check past its timeout cannot be interrupted; the process does not wait for it.
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> GuardrailService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def screen(self, request: ChatRequested, policy: Policy) -> InputVerdict:
        """Screen a prompt within the settings' budget; a timeout or error means review."""
        try:
            return await self._in_worker(
                lambda: self._guardrail.screen_prompt(
                    request.question, request.conversation_id, policy
                ),
                self.settings.guardrail_screen_timeout_s,
            )
        except TimeoutError:
            failure = "timeout"
        except Exception as error:
            # The type only: a message might echo the citizen's text.
            failure = type(error).__name__
        _log.error("guardrail.screen_failed", failure=failure)
        return _input_under_review(request, policy, failure)

    async def check(self, draft: InferenceCompleted, policy: Policy) -> OutputVerdict:
        """Check a draft answer within the settings' budget; a timeout or error means review."""
        passages = [passage.text for passage in draft.passages]
        try:
            return await self._in_worker(
                lambda: self._guardrail.check_answer(draft.question, draft.text, passages, policy),
                self.settings.guardrail_check_timeout_s,
            )
        except TimeoutError:
            failure = "timeout"
        except Exception as error:
            failure = type(error).__name__
        _log.error("guardrail.check_failed", failure=failure)
        return _output_under_review(draft, policy, failure)

    async def _in_worker(self, work: Callable[[], _T], budget_s: float) -> _T:
        """Run CPU-bound work on the worker thread, with the handler's log context."""
        # LIMITATION: a check past its budget keeps the thread busy, so the next ones time out
        # (and go to review) until it ends; a worker process could be killed instead.
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        future = loop.run_in_executor(self._executor, context.run, work)
        return await asyncio.wait_for(future, budget_s)

    async def _on_chat_requested(self, event: Envelope[Any]) -> None:
        """Input stage: screen, publish the verdict, then end or hand over the request."""
        await self._until_started()
        request: ChatRequested = event.data
        try:
            policy = self.policy_for(event)
        except UnknownPolicyVersion as error:
            await self._refuse_unknown_policy(event, request.conversation_id, error, "input")
            return
        if policy is None:
            await self._decline_without_policy(request.conversation_id, "input")
            return

        # Screen; a citizen who pressed "talk to a person" goes to one even if all passed.
        verdict = await self.screen(request, policy)
        if request.human_requested and verdict.verdict == "pass":
            verdict = _handed_to_person(verdict, policy)

        # Sealed originals stay here; events carry only a reference to them.
        original_ref = None
        if verdict.sealed_originals:
            original_ref = await asyncio.to_thread(
                self._originals.keep,
                event.tenant,
                event.id,
                request.conversation_id,
                verdict.sealed_originals,
            )

        findings = event_findings(verdict.findings)
        redacted = bounded(verdict.redacted_text, MAX_TEXT)
        # The scope check names its nearest topic even when a question is off scope.
        off_scope = any(finding.kind == "off_scope" for finding in verdict.findings)
        await self._publish(
            "guardrail.input_checked",
            GuardrailInputChecked(
                conversation_id=request.conversation_id,
                verdict=InputVerdictKind(verdict.verdict),
                redacted_question=redacted,
                findings=findings,
                policy=policy_ref(policy),
                language=verdict.language,
                clearance=request.clearance,
                channel=request.channel,
                human_requested=request.human_requested or "human_request" in verdict.causes,
                subject=request.subject,
                training_consent=request.training_consent,
                topic=None if off_scope else verdict.scope_topic,
                original_ref=original_ref,
                reason=bounded(verdict.reason, MAX_SHORT_TEXT),
            ),
        )

        # Block ends the request; review hands it to a person; pass goes on to retrieval.
        notice = policy.messages.notice.text(verdict.language)
        if verdict.verdict == "block":
            await self._respond(
                request.conversation_id,
                Disposition.DECLINED,
                verdict.reply or policy.messages.declined.text(verdict.language),
                language=verdict.language,
                ai_notice=notice,
                reason=verdict.reason,
                causes=verdict.causes,
            )
        elif verdict.verdict == "review":
            review = await self._publish(
                "review.requested",
                ReviewRequested(
                    conversation_id=request.conversation_id,
                    stage=ReviewStage.INPUT,
                    reason=bounded(verdict.reason, MAX_SHORT_TEXT),
                    priority=ReviewPriority(policy.review_priority.for_causes(verdict.causes)),
                    question=redacted,
                    findings=findings,
                    language=verdict.language,
                    policy=policy_ref(policy),
                    subject=request.subject,
                    training_consent=request.training_consent,
                ),
            )
            await self._hold(request.conversation_id, verdict.language, policy, review.id)
        _log.info(
            "guardrail.decided", stage="input", verdict=verdict.verdict, causes=verdict.causes
        )

    async def _on_inference_completed(self, event: Envelope[Any]) -> None:
        """Output stage: check the draft, publish the verdict, then end or hand over."""
        await self._until_started()
        draft: InferenceCompleted = event.data
        try:
            policy = self.policy_for(event)
        except UnknownPolicyVersion as error:
            await self._refuse_unknown_policy(event, draft.conversation_id, error, "output")
            return
        if policy is None:
            await self._decline_without_policy(draft.conversation_id, "output")
            return

        # Check, then publish the verdict with the passages it was judged against.
        # LIMITATION: the draft's own policy reference is not compared with the loaded one.
        verdict = await self.check(draft, policy)
        findings = event_findings(verdict.findings)
        # A score from a check that failed or never finished says nothing.
        groundedness = None if "check_error" in verdict.causes else verdict.groundedness
        released = verdict.verdict == "release"
        await self._publish(
            "guardrail.output_checked",
            GuardrailOutputChecked(
                conversation_id=draft.conversation_id,
                verdict=OutputVerdictKind(verdict.verdict),
                findings=findings,
                groundedness=groundedness,
                policy=policy_ref(policy),
                inference_event_id=event.id,
                released_answer=bounded(verdict.final_text, MAX_TEXT) if released else None,
                passages=draft.passages,
                reason=bounded(verdict.reason, MAX_SHORT_TEXT),
            ),
        )

        # Release or decline ends the request; review hands the draft to a person.
        notice = policy.messages.notice.text(verdict.language)
        if verdict.verdict == "release":
            await self._respond(
                draft.conversation_id,
                Disposition.ANSWERED,
                verdict.final_text,
                language=verdict.language,
                ai_notice=notice,
                citations=draft.citations[:20],
            )
        elif verdict.verdict == "decline":
            no_answer = "no_answer" in verdict.causes
            await self._respond(
                draft.conversation_id,
                Disposition.NO_ANSWER if no_answer else Disposition.DECLINED,
                verdict.final_text,
                language=verdict.language,
                ai_notice=notice,
                reason=verdict.reason,
                causes=verdict.causes,
            )
        else:
            review = await self._publish(
                "review.requested",
                ReviewRequested(
                    conversation_id=draft.conversation_id,
                    stage=ReviewStage.OUTPUT,
                    reason=bounded(verdict.reason, MAX_SHORT_TEXT),
                    priority=ReviewPriority(policy.review_priority.for_causes(verdict.causes)),
                    question=draft.question,
                    draft_answer=draft.text,
                    passages=draft.passages,
                    findings=findings,
                    groundedness=groundedness,
                    language=verdict.language,
                    policy=policy_ref(policy),
                    inference_event_id=event.id,
                    subject=draft.subject,
                    training_consent=draft.training_consent,
                ),
            )
            await self._hold(draft.conversation_id, verdict.language, policy, review.id)
        _log.info(
            "guardrail.decided",
            stage="output",
            verdict=verdict.verdict,
            causes=verdict.causes,
            groundedness=groundedness,
        )

    async def _on_inference_failed(self, event: Envelope[Any]) -> None:
        """End a request the model could not answer: unavailable, with the agency's contact."""
        await self._until_started()
        failed: InferenceFailed = event.data
        try:
            policy = self.policy_for(event)
        except UnknownPolicyVersion:
            # Only the wording of the reply comes from the policy here.
            policy = self.policies.get(event.tenant)
        if policy is None:
            answer, language = _NO_POLICY_ANSWER, language_of(failed.language, "en")
        else:
            language = language_of(failed.language, policy.default_language)
            unavailable = policy.messages.unavailable.text(language)
            answer = f"{unavailable} {policy.messages.contact_route.text(language)}"
        await self._respond(
            failed.conversation_id,
            Disposition.UNAVAILABLE,
            answer,
            language=language,
            reason=_UNAVAILABLE_REASON,
        )
        _log.info("guardrail.decided", stage="failed", error_kind=failed.error_kind)

    def policy_for(self, event: Envelope[Any]) -> Policy | None:
        """The tenant's live policy, or the version a replay asked for by name."""
        replay = event.replay
        if replay is None or replay.policy is None:
            return self.policies.get(event.tenant)
        return self.archive.get(event.tenant, replay.policy)

    async def _refuse_unknown_policy(
        self,
        event: Envelope[Any],
        conversation_id: str,
        error: UnknownPolicyVersion,
        stage: str,
    ) -> None:
        """End a replay that named a policy version on file nowhere: blocked, saying why."""
        live = self.policies.get(event.tenant)
        if live is None:
            await self._decline_without_policy(conversation_id, stage)
            return

        # The verdict names the live policy that refused, and the finding the version asked for.
        finding = EventFinding(
            kind=FindingKind.CHECK_FAILED,
            label="unknown_policy_version",
            score=1.0,
            detail=bounded(str(error), MAX_SHORT_TEXT),
        )
        reason = bounded(str(error), MAX_SHORT_TEXT)
        if stage == "input":
            await self._publish(
                "guardrail.input_checked",
                GuardrailInputChecked(
                    conversation_id=conversation_id,
                    verdict=InputVerdictKind.BLOCK,
                    redacted_question=_WITHHELD,
                    findings=[finding],
                    policy=policy_ref(live),
                    reason=reason,
                ),
            )
        else:
            await self._publish(
                "guardrail.output_checked",
                GuardrailOutputChecked(
                    conversation_id=conversation_id,
                    verdict=OutputVerdictKind.DECLINE,
                    findings=[finding],
                    policy=policy_ref(live),
                    inference_event_id=event.id,
                    reason=reason,
                ),
            )
        await self._respond(
            conversation_id,
            Disposition.DECLINED,
            live.messages.declined.text(live.default_language),
            reason=reason,
            causes=["check_error"],
        )
        _log.warning("guardrail.unknown_policy_version", stage=stage)

    async def _publish(self, role: str, data: EventData) -> Envelope[Any]:
        """Publish for the handled event, with an id derived from it and the event's role."""
        # A handler retried after a partial publish, or a redelivered event, then publishes the
        # same ids again, and consumers drop the repeats.
        cause = current_event()
        event_id = str(uuid.uuid5(uuid.UUID(cause.id), role)) if cause is not None else None
        return await self.service.publish(data, event_id=event_id)

    async def _until_started(self) -> None:
        """Wait until `Service.start` returned; only then may a handler publish."""
        # The bus hands over records while its start still waits for consumers to join, and
        # refuses to publish until that start returns.
        await self._started.wait()

    async def _decline_without_policy(self, conversation_id: str, stage: str) -> None:
        """Fail closed for a tenant with no policy: decline, saying why."""
        await self._respond(
            conversation_id, Disposition.DECLINED, _NO_POLICY_ANSWER, reason=_NO_POLICY_REASON
        )
        _log.warning("guardrail.no_policy", stage=stage)

    async def _hold(
        self, conversation_id: str, language: str, policy: Policy, review_id: str
    ) -> None:
        """Tell the citizen a person will answer; the review desk sends the final response."""
        await self._respond(
            conversation_id,
            Disposition.UNDER_REVIEW,
            policy.messages.human_handoff.text(language),
            language=language,
            final=False,
            review_id=review_id,
        )

    async def _respond(
        self,
        conversation_id: str,
        disposition: Disposition,
        answer: str,
        *,
        language: str | None = None,
        ai_notice: str | None = None,
        reason: str | None = None,
        causes: list[str] | None = None,
        citations: list[Citation] | None = None,
        final: bool = True,
        review_id: str | None = None,
    ) -> None:
        """Publish the chat.responded the citizen sees."""
        role = "chat.responded" if final else "chat.responded.holding"
        await self._publish(
            role,
            ChatResponded(
                conversation_id=conversation_id,
                disposition=disposition,
                answer=bounded(answer, MAX_TEXT),
                citations=citations or [],
                ai_notice=bounded(ai_notice, MAX_SHORT_TEXT) if ai_notice else None,
                language=language,
                decided_by=DecidedBy.GUARDRAIL,
                reason=bounded(reason, MAX_SHORT_TEXT) if reason else None,
                reason_kind=reason_kind(causes or []),
                final=final,
                review_id=review_id,
            ),
        )


def _handed_to_person(verdict: InputVerdict, policy: Policy) -> InputVerdict:
    """Turn a passing verdict into a review because the citizen asked for a person."""
    return verdict.model_copy(
        update={
            "verdict": "review",
            "reason": "The citizen asked for a person.",
            "reply": policy.messages.human_handoff.text(verdict.language),
            "causes": ["human_request"],
            "findings": [*verdict.findings, Finding(kind="human_request", score=1.0)],
        }
    )


def _input_under_review(request: ChatRequested, policy: Policy, failure: str) -> InputVerdict:
    """The fail-closed input verdict: review, with nothing of the unscreened text."""
    language = language_of(request.locale, policy.default_language)
    return InputVerdict(
        verdict="review",
        reason="The checks could not finish, so a person will look at this.",
        reply=policy.messages.human_handoff.text(language),
        causes=["check_error"],
        findings=[Finding(kind="check_error", score=1.0, detail=failure)],
        redacted_text=_WITHHELD,
        language=language,
        policy_version=policy.version,
        policy_sha256=policy.sha256,
    )


def _output_under_review(draft: InferenceCompleted, policy: Policy, failure: str) -> OutputVerdict:
    """The fail-closed output verdict: review of the draft as it stands."""
    language = language_of(draft.language, policy.default_language)
    notice = policy.messages.notice.text(language)
    return OutputVerdict(
        verdict="review",
        reason="The checks could not finish, so a person will look at this.",
        causes=["check_error"],
        findings=[Finding(kind="check_error", score=1.0, detail=failure)],
        groundedness=0.0,
        final_text=f"{draft.text.strip()}\n\n{notice}",
        language=language,
        policy_version=policy.version,
        policy_sha256=policy.sha256,
    )


async def serve(guardrail_service: GuardrailService) -> None:
    """Run the guardrail until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with guardrail_service:
        await stop.wait()
    _log.info("guardrail.stopped")


def main() -> None:
    """Entry point of `python -m steward_guardrail`: load, start, run until told to stop."""
    settings = GuardrailSettings()
    configure_logging(SERVICE_NAME, settings)
    try:
        guardrail_service = GuardrailService.from_settings(settings)
    except GuardrailError as error:
        # Policy and key errors name the file and field; they never hold key material.
        _log.error("guardrail.refused_to_start", error=str(error))
        raise SystemExit(f"guardrail: {error}") from None
    asyncio.run(serve(guardrail_service))
