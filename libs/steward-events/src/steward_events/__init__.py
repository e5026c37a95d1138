"""Steward's event contract: the CloudEvents envelope, every event type and the topic registry."""

from steward_events.bus import DeadLettered, DeadLetterReason, KafkaHeader
from steward_events.chat import ChatRequested, ChatResponded, DecidedBy, Disposition
from steward_events.common import (
    Citation,
    Finding,
    FindingKind,
    ModelRef,
    Passage,
    PolicyRef,
    PromptRef,
    Sampling,
    Usage,
)
from steward_events.control import RouteDisabled, RouteEnabled
from steward_events.documents import (
    DocumentChunk,
    DocumentChunked,
    DocumentIndexed,
    DocumentRejected,
    DocumentSubmitted,
    RejectionReason,
)
from steward_events.envelope import (
    DLQ_SUFFIX,
    NO_REPLAY,
    Envelope,
    EventData,
    EventSpec,
    Replay,
    UnknownEventType,
    all_specs,
    new_envelope,
    new_event_id,
    spec_for,
)
from steward_events.feedback import FeedbackSubmitted, Rating
from steward_events.guardrail import (
    GuardrailInputChecked,
    GuardrailOutputChecked,
    InputVerdict,
    OutputVerdict,
)
from steward_events.inference import InferenceCompleted, InferenceFailed
from steward_events.ledger import LedgerCheckpoint
from steward_events.monitor import MonitorAlertRaised, Severity
from steward_events.retrieval import RetrievalCompleted
from steward_events.review import (
    ReviewDecided,
    ReviewDecision,
    ReviewEscalated,
    ReviewPriority,
    ReviewRequested,
    ReviewStage,
)
from steward_events.training import (
    DatasetKind,
    DatasetVersionCreated,
    ModelCandidateRegistered,
    ModelEvaluated,
    ModelPromoted,
    ModelPromotionApproved,
    TrainerRunRequested,
)
from steward_events.types import Channel, Classification

__all__ = [
    "DLQ_SUFFIX",
    "NO_REPLAY",
    "Channel",
    "ChatRequested",
    "ChatResponded",
    "Citation",
    "Classification",
    "DatasetKind",
    "DatasetVersionCreated",
    "DeadLetterReason",
    "DeadLettered",
    "DecidedBy",
    "Disposition",
    "DocumentChunk",
    "DocumentChunked",
    "DocumentIndexed",
    "DocumentRejected",
    "DocumentSubmitted",
    "Envelope",
    "EventData",
    "EventSpec",
    "FeedbackSubmitted",
    "Finding",
    "FindingKind",
    "GuardrailInputChecked",
    "GuardrailOutputChecked",
    "InferenceCompleted",
    "InferenceFailed",
    "InputVerdict",
    "KafkaHeader",
    "LedgerCheckpoint",
    "ModelCandidateRegistered",
    "ModelEvaluated",
    "ModelPromoted",
    "ModelPromotionApproved",
    "ModelRef",
    "MonitorAlertRaised",
    "OutputVerdict",
    "Passage",
    "PolicyRef",
    "PromptRef",
    "Rating",
    "RejectionReason",
    "Replay",
    "RetrievalCompleted",
    "ReviewDecided",
    "ReviewDecision",
    "ReviewEscalated",
    "ReviewPriority",
    "ReviewRequested",
    "ReviewStage",
    "RouteDisabled",
    "RouteEnabled",
    "Sampling",
    "Severity",
    "TrainerRunRequested",
    "UnknownEventType",
    "Usage",
    "all_specs",
    "new_envelope",
    "new_event_id",
    "spec_for",
]
