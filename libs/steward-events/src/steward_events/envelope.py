"""The CloudEvents 1.0 envelope and the registry of Steward's event types."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, create_model
from uuid6 import uuid7

from steward_events.types import Identifier, Name, TenantId

TOPIC_PREFIX = "steward"
DLQ_SUFFIX = ".dlq"
SCHEMA_URN = "urn:steward:schema:"

EventId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ),
    Field(description="UUID, version 7 for events Steward creates."),
]
TraceParent = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"),
    Field(description="W3C trace context of the span that published the event."),
]
SourceRef = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._/-]{1,255}$")]

DataT = TypeVar("DataT", bound="EventData")


class UnknownEventType(LookupError):
    """Raised when an event type or version is not in the registry."""


class EventData(BaseModel):
    """Base of every event payload; unknown fields are ignored so old readers keep working."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    spec: ClassVar[EventSpec]


@dataclass(frozen=True)
class EventSpec:
    """One event type at one major version, with its topic and typed envelope."""

    name: str
    version: int
    model: type[EventData]
    description: str = ""
    own_topic: bool = field(default=True)

    @property
    def type(self) -> str:
        """The CloudEvents type, which is also the topic name."""
        return f"{TOPIC_PREFIX}.{self.name}.v{self.version}"

    @property
    def topic(self) -> str:
        """The Kafka topic that carries this event type."""
        return self.type

    @property
    def dlq_topic(self) -> str:
        """The dead-letter topic for messages on this event type's topic."""
        return self.topic + DLQ_SUFFIX

    @property
    def dataschema(self) -> str:
        """The URI of the committed JSON Schema for this type and version."""
        return SCHEMA_URN + self.type

    @cached_property
    def envelope(self) -> builtins.type[Envelope[Any]]:
        """The envelope model whose `type` is fixed to this event type."""
        fixed_type: Any = Literal[self.type]
        model: Any = create_model(
            f"{self.model.__name__}Event",
            __base__=Envelope[self.model],  # type: ignore[name-defined]
            type=(fixed_type, self.type),
        )
        return cast("builtins.type[Envelope[Any]]", model)


class Envelope(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope with Steward's extension attributes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: EventId
    source: SourceRef
    type: str
    time: AwareDatetime
    subject: Annotated[str, StringConstraints(max_length=256)] | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Annotated[str, StringConstraints(max_length=256)] | None = None
    tenant: TenantId = Field(description="The agency the event belongs to.")
    correlationid: Identifier = Field(
        description="One citizen request or one document, end to end.",
    )
    causationid: EventId | None = Field(
        default=None,
        description="The id of the event this one answers.",
    )
    traceparent: TraceParent | None = None
    replayof: Identifier | None = Field(
        default=None,
        description=(
            "On replay-namespace events only: the correlation id of the recorded request "
            "being replayed. The runtime drops the replay attributes from live events."
        ),
    )
    replaymodel: Name | None = Field(
        default=None,
        description="On replay-namespace events only: the model (or model@adapter) to use.",
    )
    replayprompt: Name | None = Field(
        default=None,
        description="On replay-namespace events only: the prompt template version to use.",
    )
    replaypolicy: Name | None = Field(
        default=None,
        description="On replay-namespace events only: the guardrail policy version to use.",
    )
    data: DataT

    @property
    def replay(self) -> Replay | None:
        """The replay this event belongs to, or None for a live event."""
        if self.replayof is None:
            return None
        return Replay(
            of=self.replayof,
            model=self.replaymodel,
            prompt=self.replayprompt,
            policy=self.replaypolicy,
        )


@dataclass(frozen=True)
class Replay:
    """A re-run of a recorded request, and the versions it asks each stage to use."""

    of: str
    model: str | None = None
    prompt: str | None = None
    policy: str | None = None


# The envelope attributes of a live event when the runtime drops the replay attributes.
NO_REPLAY: dict[str, None] = dict.fromkeys(
    ("replayof", "replaymodel", "replayprompt", "replaypolicy")
)


_REGISTRY: dict[str, EventSpec] = {}


def event_type(name: str, version: int, *, own_topic: bool = True) -> Any:
    """Register an EventData subclass as the event `steward.<name>.v<version>`."""

    def register(model: type[DataT]) -> type[DataT]:
        spec = EventSpec(
            name=name,
            version=version,
            model=model,
            description=(model.__doc__ or "").strip().splitlines()[0],
            own_topic=own_topic,
        )
        if spec.type in _REGISTRY:
            raise ValueError(f"Event type {spec.type!r} is registered twice")
        model.spec = spec
        _REGISTRY[spec.type] = spec
        return model

    return register


def spec_for(event_type_name: str) -> EventSpec:
    """Return the registered spec for a CloudEvents type such as 'steward.chat.requested.v1'."""
    try:
        return _REGISTRY[event_type_name]
    except KeyError:
        raise UnknownEventType(f"Unknown event type or version: {event_type_name!r}") from None


def all_specs() -> list[EventSpec]:
    """Every registered event spec, sorted by type."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def new_event_id() -> str:
    """A new UUIDv7 string: time-ordered, so ids sort by creation time."""
    return str(uuid7())


def new_envelope(
    data: DataT,
    *,
    source: str,
    tenant: str,
    correlation_id: str,
    causation_id: str | None = None,
    subject: str | None = None,
    traceparent: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    replay: Replay | None = None,
) -> Envelope[DataT]:
    """Wrap a payload in its typed envelope, validating every envelope field."""
    spec = type(data).spec
    envelope: Envelope[DataT] = spec.envelope(  # type: ignore[call-arg]  # the subclass fixes `type`
        id=event_id or new_event_id(),
        source=source,
        time=time or datetime.now(UTC),
        subject=subject,
        dataschema=spec.dataschema,
        tenant=tenant,
        correlationid=correlation_id,
        causationid=causation_id,
        traceparent=traceparent,
        replayof=replay.of if replay else None,
        replaymodel=replay.model if replay else None,
        replayprompt=replay.prompt if replay else None,
        replaypolicy=replay.policy if replay else None,
        data=data,
    )
    return envelope
