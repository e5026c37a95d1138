"""Helpers the inference service tests share: a probe service, corpus passages, workers."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward_bus import Service
from steward_events import (
    Envelope,
    EventData,
    InferenceCompleted,
    InferenceFailed,
    Passage,
    RetrievalCompleted,
)
from steward_inference import (
    Generator,
    InferenceWorker,
    ModelChoice,
    PromptRegistry,
    RouteTable,
)

if TYPE_CHECKING:
    from steward_inference.app import InferenceServiceSettings


def group_suffix(settings: InferenceServiceSettings) -> str:
    """The test's namespace, which makes consumer group ids the test's own too."""
    return str(settings.topic_namespace).rstrip(".")


def corpus_folder() -> Path:
    """Find shared/corpus beside or inside the checkout, or where STEWARD_CORPUS says."""
    if "STEWARD_CORPUS" in os.environ:
        return Path(os.environ["STEWARD_CORPUS"])
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "shared" / "corpus", parent.parent / "shared" / "corpus"):
            if candidate.is_dir():
                return candidate
    raise FileNotFoundError("No shared/corpus folder above the tests; set STEWARD_CORPUS")


class Probe:
    """A service of its own that publishes requests and collects the inference outcomes."""

    def __init__(self, settings: InferenceServiceSettings) -> None:
        self.service = Service("probe", settings, group=f"steward-probe-{group_suffix(settings)}")
        self.completed: list[Envelope[InferenceCompleted]] = []
        self.failed: list[Envelope[InferenceFailed]] = []
        self.service.subscribe(InferenceCompleted, self._completed)
        self.service.subscribe(InferenceFailed, self._failed)

    async def _completed(self, event: Envelope[Any]) -> None:
        self.completed.append(event)

    async def _failed(self, event: Envelope[Any]) -> None:
        self.failed.append(event)

    @property
    def outcomes(self) -> list[Envelope[Any]]:
        """Every outcome received so far, completed and failed."""
        return [*self.completed, *self.failed]

    def outcome_of(self, request: Envelope[Any]) -> Envelope[Any] | None:
        """The outcome that names `request` as its cause, if it arrived."""
        return next((e for e in self.outcomes if e.causationid == request.id), None)

    async def send(
        self, data: EventData, *, tenant: str = "revenue", correlation_id: str = "corr-1"
    ) -> Envelope[Any]:
        """Publish an event as another service would."""
        return await self.service.publish(data, tenant=tenant, correlation_id=correlation_id)


def corpus_passage(file_name: str, keyword: str, *, title: str) -> Passage:
    """The first paragraph of a corpus document that mentions `keyword`, as retrieval sends it."""
    text = (corpus_folder() / file_name).read_text(encoding="utf-8")
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text)):
        if keyword.lower() in paragraph.lower() and not paragraph.startswith("---"):
            # Links confuse a small model; keep their words only.
            plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", paragraph)
            return Passage(
                chunk_id=f"{file_name}:{number}",
                document_id=file_name,
                document_version=3,
                content_hash=hashlib.sha256(plain.encode()).hexdigest(),
                text=plain,
                score=0.9,
                title=title,
                source_url=f"https://www.usa.gov/{file_name.removesuffix('.md')}",
                section_path=[title],
                language="en",
            )
    raise LookupError(f"No paragraph of {file_name} mentions {keyword!r}")


def passport_question(conversation: str = "conv-1") -> RetrievalCompleted:
    """A retrieval result with two short corpus passages about passports."""
    document = "034-usagov-getting-or-renewing-a-passport.md"
    return RetrievalCompleted(
        conversation_id=conversation,
        question="Who can get a U.S. passport?",
        language="en-US",
        channel="chat",
        subject="citizen-0123456789",
        training_consent=True,
        passages=[
            corpus_passage(document, "citizen by birth", title="Passports"),
            corpus_passage(document, "air.", title="Passports"),
        ],
        method="hybrid-rrf",
        embedding_model="all-MiniLM-L6-v2",
    )


def make_worker(generator: Generator, *, max_in_flight: int = 4) -> InferenceWorker:
    """A worker with the packaged prompts and one backend as every tenant's default."""
    return InferenceWorker(
        registry=PromptRegistry.packaged(),
        routes=RouteTable(ModelChoice(model=generator.model)),
        generators={generator.model: generator},
        max_in_flight=max_in_flight,
    )
