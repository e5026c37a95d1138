"""Datasets, training runs and the model lifecycle up to promotion."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from steward_events.common import ModelRef
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Identifier,
    Labels,
    Name,
    NonNegativeInt,
    Probability,
    Pseudonym,
    Sha256Hex,
    ShortText,
)


class DatasetKind(StrEnum):
    """Training data layouts that TRL expects."""

    SFT = "sft"
    DPO = "dpo"
    KTO = "kto"


@event_type("dataset.version_created", 1)
class DatasetVersionCreated(EventData):
    """A hashed, immutable dataset version was written."""

    dataset_id: Identifier
    kind: DatasetKind
    version: Name
    sha256: Sha256Hex
    rows: NonNegativeInt
    uri: ShortText


@event_type("trainer.run_requested", 1)
class TrainerRunRequested(EventData):
    """An admin asked for a fine-tuning run on a dataset version."""

    run_id: Identifier
    dataset_id: Identifier
    dataset_version: Name
    base_model: ModelRef
    settings: Labels = Field(default_factory=dict)
    requested_by: Pseudonym


@event_type("model.candidate_registered", 1)
class ModelCandidateRegistered(EventData):
    """A trained adapter is stored and waits for evaluation."""

    candidate_id: Identifier
    run_id: Identifier
    model: ModelRef
    dataset_id: Identifier
    dataset_version: Name
    adapter_uri: ShortText
    settings: Labels = Field(default_factory=dict)
    gguf_adapter_uri: ShortText | None = Field(
        default=None, description="The adapter converted for llama.cpp, where one was made."
    )
    gguf_adapter_sha256: Sha256Hex | None = None


MetricMap = Annotated[dict[Name, float], Field(max_length=100)]


@event_type("model.evaluated", 1)
class ModelEvaluated(EventData):
    """Evaluation figures of a candidate against the current model, with the gate's verdict."""

    candidate_id: Identifier
    candidate: ModelRef
    baseline: ModelRef
    candidate_metrics: MetricMap
    baseline_metrics: MetricMap
    thresholds: MetricMap = Field(default_factory=dict)
    passed: bool
    failures: list[ShortText] = Field(default_factory=list, max_length=100)


@event_type("model.promotion_approved", 1)
class ModelPromotionApproved(EventData):
    """An admin approved a candidate that passed its evaluation."""

    candidate_id: Identifier
    approved_by: Pseudonym
    canary_share: Probability = 1.0


@event_type("model.promoted", 1)
class ModelPromoted(EventData):
    """The model or adapter a tenant's route serves from now on, with its canary share."""

    candidate_id: Identifier | None = None
    model: ModelRef
    route: Name = "default"
    canary_share: Probability = 1.0
