"""A Steward service on the bus: typed handlers, stamped envelopes, idempotency, dead letters."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError
from steward_events import (
    NO_REPLAY,
    DeadLettered,
    DeadLetterReason,
    Envelope,
    EventData,
    EventSpec,
    KafkaHeader,
    Replay,
    new_envelope,
    new_event_id,
)
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from steward_bus.processed import ProcessedEvents
from steward_bus.settings import BusSettings
from steward_bus.telemetry import configure_logging, configure_tracing
from steward_bus.topics import contract_topics, ensure_topics

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

DataT = TypeVar("DataT", bound=EventData)
Handler = Callable[[Envelope[Any]], Awaitable[None]]
RecordsHandler = Callable[[Sequence["ConsumerRecord[bytes, bytes]"]], Awaitable[None]]

CONTENT_TYPE = "application/cloudevents+json"
SYSTEM_TENANT = "system"

log = structlog.get_logger("steward.bus")
_tracer = trace.get_tracer("steward.bus")
_meter = metrics.get_meter("steward.bus")
_dead_letter_counter = _meter.create_counter(
    "steward.bus.dead_lettered", description="Messages sent to a dead-letter topic"
)
_current_event: ContextVar[Envelope[Any] | None] = ContextVar(
    "steward_current_event", default=None
)


class BusError(Exception):
    """Base of the runtime's errors."""


class PermanentError(BusError):
    """A handler failure that retrying cannot fix: the message goes straight to the DLQ."""


class MissingContext(BusError):
    """Publishing outside a handler without the tenant or correlation id to carry."""


class PublishFailed(BusError):
    """The broker did not take a record: unreachable, timed out or refusing it."""


class NotStarted(BusError):
    """The service was used before `start()`."""


class _GaveUp(Exception):
    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


class _Rejected(Exception):
    def __init__(self, reason: DeadLetterReason, error: str, envelope: dict[str, Any] | None):
        super().__init__(error)
        self.reason = reason
        self.error = error
        self.envelope = envelope


@dataclass
class BusStats:
    """Counters of what this process's consumers and publishers did."""

    published: int = 0
    handled: int = 0
    duplicates: int = 0
    retries: int = 0
    dead_lettered: Counter[str] = field(default_factory=Counter)


def _tracing() -> bool:
    # Without a configured SDK every span is a no-op; skipping them saves a tenth of a publish.
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def _span(
    name: str,
    *,
    kind: SpanKind,
    attributes: dict[str, Any],
    context: Context | None = None,
) -> contextlib.AbstractContextManager[trace.Span]:
    if not _tracing():
        return contextlib.nullcontext(trace.INVALID_SPAN)
    return _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes)


def current_event() -> Envelope[Any] | None:
    """The event whose handler is running in this task, if any."""
    return _current_event.get()


def add_event_context(
    logger: Any, method: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """A structlog processor naming the event being handled; costs nothing when not logging."""
    event = _current_event.get()
    if event is not None:
        event_dict.setdefault("correlation_id", event.correlationid)
        event_dict.setdefault("event_id", event.id)
        event_dict.setdefault("tenant", event.tenant)
        if event.replayof is not None:
            event_dict.setdefault("replay_of", event.replayof)
    return event_dict


class _Offsets:
    """Offsets handled but not yet committed, committed in one request every interval."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.consumer: Any = None
        self.pending: dict[TopicPartition, int] = {}
        self.last_commit = 0.0
        self.lock = asyncio.Lock()

    def handled(self, consumer: Any, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        self.consumer = consumer
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self.pending[partition] = max(self.pending.get(partition, 0), record.offset + 1)

    def due(self) -> bool:
        return bool(self.pending) and time.monotonic() - self.last_commit >= self.interval

    async def commit(self) -> None:
        async with self.lock:
            if not self.pending or self.consumer is None:
                return
            offsets, self.pending = self.pending, {}
            self.last_commit = time.monotonic()
            try:
                await self.consumer.commit(offsets)
            except KafkaError as error:
                # After a rebalance another member owns these partitions and re-reads them;
                # the processed-id record keeps that from handling anything twice.
                log.warning("offset_commit_failed", error=type(error).__name__)


@dataclass(frozen=True)
class _Subscription:
    spec: EventSpec
    handler: Handler
    # The live topic, then its replay twin when the service serves replays of it.
    topics: tuple[str, ...]
    offsets: _Offsets


class Service:
    """One Steward service on the bus, with its PostgreSQL record of processed event ids."""

    def __init__(self, name: str, settings: BusSettings, *, group: str | None = None) -> None:
        self.name = name
        self.source = f"/steward/{name}"
        # Groups live in the namespace too: a replay or a test never joins a live group.
        self.group = group or f"{settings.topic_namespace}steward-{name}"
        self.settings = settings
        self.stats = BusStats()
        self._subscriptions: list[_Subscription] = []
        self._record_offsets: list[_Offsets] = []
        self._producer: AIOKafkaProducer | None = None
        self._pool: asyncpg.Pool | None = None
        self._processed: ProcessedEvents | None = None
        self._prune_task: asyncio.Task[None] | None = None
        self._started = False
        quiet = logging.getLogger("steward.bus.faststream")
        quiet.setLevel(logging.WARNING)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap,
            client_id=self.group,
            acks="all",
            enable_idempotence=settings.idempotent_producer,
            logger=quiet,
            log_level=logging.DEBUG,
        )

    def topic(self, spec: EventSpec) -> str:
        """The topic name of an event type in this service's namespace."""
        return self.settings.topic_namespace + spec.topic

    def handles(self, model: type[DataT]) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine as this service's handler of `model` events."""

        def register(handler: Handler) -> Handler:
            self.subscribe(model, handler)
            return handler

        return register

    def subscribe(
        self,
        model: type[EventData],
        handler: Handler,
        *,
        topic: str | None = None,
        replayable: bool = False,
    ) -> None:
        """Consume `model`'s topic in this service's group and pass each new event to `handler`.

        `topic` overrides the topic, as for dead-letter events, which live on `<topic>.dlq`.
        A `replayable` subscription also reads the topic's replay twin when the settings say
        `serve_replay`, in the same consumer; what the handler publishes for a replayed event
        goes to the replay namespace.
        """
        if self._started:
            raise BusError(f"Subscribe to {model.__name__} before starting {self.name}")
        spec = model.spec
        if topic is None and not spec.own_topic:
            raise BusError(f"{spec.type} has no topic of its own; name the topic to consume")
        live = topic or self.topic(spec)
        topics: tuple[str, ...] = (live,)
        if replayable and self.settings.serve_replay:
            topics += (self.replay_twin(live),)
        subscription = _Subscription(
            spec, handler, topics, _Offsets(self.settings.commit_interval_ms / 1_000)
        )
        self._subscriptions.append(subscription)
        timing = self.settings.consumer_timing()

        async def keep_raw(message: KafkaMessage) -> Any:
            # The runtime parses values itself, so malformed bytes reach the DLQ, not an error.
            return message.body

        async def consume(message: KafkaMessage) -> None:
            await self._consume_batch(subscription, message)

        self.broker.subscriber(
            *subscription.topics,
            group_id=self.group,
            batch=True,
            max_records=self.settings.max_batch,
            # The embedded broker answers "latest" wrongly; committed offsets decide anyway.
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=keep_raw,
            session_timeout_ms=timing.session_timeout_ms,
            heartbeat_interval_ms=timing.heartbeat_interval_ms,
            fetch_max_wait_ms=timing.fetch_max_wait_ms,
            batch_timeout_ms=timing.fetch_max_wait_ms,
        )(consume)

    def replay_twin(self, topic: str) -> str:
        """The replay namespace's twin of a topic of this service's namespace."""
        return self.settings.replay_namespace + topic.removeprefix(self.settings.topic_namespace)

    def in_replay(self, topic: str) -> bool:
        """Whether a topic belongs to this service's replay namespace."""
        return topic.startswith(self.settings.replay_namespace)

    def subscribe_records(self, topics: Sequence[str], handler: RecordsHandler) -> None:
        """Consume raw record batches of several topics, committing offsets after `handler`.

        For consumers that keep their own exactly-once record, such as the ledger: no parsing,
        no processed-id record and no retries here. A handler that raises makes the batch be
        read again; records it cannot take it sends on with `dead_letter`.
        """
        if self._started:
            raise BusError(f"Subscribe to {list(topics)} before starting {self.name}")
        offsets = _Offsets(self.settings.commit_interval_ms / 1_000)
        self._record_offsets.append(offsets)
        timing = self.settings.consumer_timing()

        async def keep_raw(message: KafkaMessage) -> Any:
            return message.body

        async def consume(message: KafkaMessage) -> None:
            records: Sequence[ConsumerRecord[bytes, bytes]] = message.raw_message
            try:
                await handler(records)
            except Exception:
                log.exception("batch_failed", topic=records[0].topic, records=len(records))
                await message.nack()
                await asyncio.sleep(self.settings.retry_max_seconds)
                return
            offsets.handled(message.consumer, records)
            if offsets.due():
                await offsets.commit()

        self.broker.subscriber(
            *topics,
            group_id=self.group,
            batch=True,
            max_records=self.settings.max_batch,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=keep_raw,
            session_timeout_ms=timing.session_timeout_ms,
            heartbeat_interval_ms=timing.heartbeat_interval_ms,
            fetch_max_wait_ms=timing.fetch_max_wait_ms,
            batch_timeout_ms=timing.fetch_max_wait_ms,
        )(consume)

    async def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: DeadLetterReason, error: str
    ) -> None:
        """Send a record this service cannot take to its topic's dead-letter twin."""
        original: dict[str, Any] | None = None
        try:
            parsed = json.loads(record.value or b"")
            original = parsed if isinstance(parsed, dict) else None
        except ValueError:
            original = None
        await self._dead_letter(record, reason, error, original)

    async def start(self) -> None:
        """Connect to PostgreSQL and Kafka, create the contract's topics, start consuming."""
        configure_logging(self.name, self.settings)
        configure_tracing(self.name, self.settings)
        self._pool = await asyncpg.create_pool(
            self.settings.database_url, min_size=1, max_size=4, init=self._init_connection
        )
        self._processed = ProcessedEvents(self._pool)
        await self._processed.create_schema()
        namespaces = [self.settings.topic_namespace]
        if self.settings.serve_replay:
            namespaces.append(self.settings.replay_namespace)
        created = await ensure_topics(
            self.settings.kafka_bootstrap,
            [topic for namespace in namespaces for topic in contract_topics(namespace)],
            partitions=self.settings.topic_partitions,
            replication=self.settings.topic_replication,
        )
        # Publishing goes straight through aiokafka: FastStream's publish pipeline doubled the
        # per-message cost, and the runtime already stamps, traces and counts each event.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=self.group,
            acks="all",
            enable_idempotence=self.settings.idempotent_producer,
            max_request_size=16 * 1024 * 1024,
            request_timeout_ms=self.settings.publish_timeout_ms,
        )
        await self._producer.start()
        # Handlers may run, and publish, while the broker is still joining its groups.
        self._started = True
        await self.broker.start()
        self._prune_task = asyncio.create_task(self._prune_forever())
        log.info(
            "service_started",
            group=self.group,
            topics_created=len(created),
            subscriptions=[topic for s in self._subscriptions for topic in s.topics],
            service=self.name,
        )

    async def _init_connection(self, connection: asyncpg.Connection) -> None:
        if not self.settings.processed_synchronous_commit:
            await connection.execute("SET synchronous_commit TO off")

    async def stop(self) -> None:
        """Stop consuming, commit what was handled, flush publishes and close connections."""
        for offsets in [s.offsets for s in self._subscriptions] + self._record_offsets:
            await offsets.commit()
        if self._prune_task:
            self._prune_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
        await self.broker.stop()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._pool:
            await self._pool.close()
        self._started = False
        log.info("service_stopped", group=self.group, service=self.name)

    async def __aenter__(self) -> Service:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def publish(
        self,
        data: EventData,
        *,
        tenant: str | None = None,
        correlation_id: str | None = None,
        subject: str | None = None,
        cause: Envelope[Any] | None = None,
        event_id: str | None = None,
        wait: bool = True,
        replay: Replay | None = None,
    ) -> Envelope[Any]:
        """Stamp `data` with a full envelope and publish it, keyed by its correlation id.

        Inside a handler the tenant and correlation id carry over from the event being handled,
        which also becomes the causation id; work that finishes after its handler returned names
        that event as `cause`. With `wait=False` the call returns once the record is queued; the
        producer still delivers it with acks from all in-sync replicas. A caller that may
        publish the same decision twice (an outbox, say) passes a stable `event_id`, so that
        consumers drop the repeat.

        An event that answers a replayed one carries its replay attributes and goes to the
        replay namespace; so does one given `replay`, which is how a replay starts.
        """
        if not self._started:
            raise NotStarted(f"Service {self.name!r} is not started")
        cause = cause or _current_event.get()
        tenant = tenant or (cause.tenant if cause else None)
        correlation_id = correlation_id or (cause.correlationid if cause else None)
        replay = replay or (cause.replay if cause else None)
        if tenant is None or correlation_id is None:
            raise MissingContext(
                f"Publishing {type(data).__name__} outside a handler needs tenant and "
                f"correlation_id; got tenant={tenant!r}, correlation_id={correlation_id!r}"
            )
        namespace = (
            self.settings.topic_namespace if replay is None else self.settings.replay_namespace
        )
        topic = namespace + type(data).spec.topic
        with _span(
            f"send {topic}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "steward.tenant": tenant,
                "steward.correlation_id": correlation_id,
            },
        ) as span:
            headers: dict[str, str] = {}
            if span.get_span_context().is_valid:
                propagate.inject(headers)
            envelope = new_envelope(
                data,
                source=self.source,
                tenant=tenant,
                correlation_id=correlation_id,
                causation_id=cause.id if cause else None,
                subject=subject,
                traceparent=headers.get("traceparent"),
                event_id=event_id,
                replay=replay,
            )
            span.set_attribute("messaging.message.id", envelope.id)
            headers["content-type"] = CONTENT_TYPE
            headers["ce_type"] = envelope.type
            headers["ce_id"] = envelope.id
            await self._send(
                topic, envelope.model_dump_json().encode(), correlation_id, headers, wait
            )
        return envelope

    async def send_raw(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publish bytes as they are, for tools that re-publish recorded events."""
        if self._producer is None:
            raise NotStarted(f"Service {self.name!r} is not started")
        await self._producer.send_and_wait(
            topic,
            value,
            key=key,
            headers=[(name, text.encode()) for name, text in (headers or {}).items()],
        )

    async def _send(
        self, topic: str, value: bytes, key: str, headers: dict[str, str], wait: bool
    ) -> None:
        assert self._producer is not None
        try:
            delivery = await self._producer.send(
                topic,
                value,
                key=key.encode(),
                headers=[(name, text.encode()) for name, text in headers.items()],
            )
            if wait:
                await delivery
        except KafkaError as error:
            raise PublishFailed(f"publishing to {topic} failed: {type(error).__name__}") from error
        self.stats.published += 1

    async def _consume_batch(self, subscription: _Subscription, message: KafkaMessage) -> None:
        records: Sequence[ConsumerRecord[bytes, bytes]] = message.raw_message
        try:
            await self._handle_records(subscription, records)
        except Exception:
            # Nothing past an unhandled record may be committed: rewind and try again later.
            log.exception("batch_failed", topic=records[0].topic, records=len(records))
            await message.nack()
            await asyncio.sleep(self.settings.retry_max_seconds)
            return
        # Offsets are committed explicitly, and only those of handled records.
        subscription.offsets.handled(message.consumer, records)
        if subscription.offsets.due():
            await subscription.offsets.commit()

    async def _handle_records(
        self, subscription: _Subscription, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> None:
        assert self._processed is not None
        spec = subscription.spec

        # Parse every record; what cannot be parsed goes to the DLQ at once.
        parsed: list[tuple[ConsumerRecord[bytes, bytes], Envelope[Any]]] = []
        for record in records:
            try:
                parsed.append((record, self._parse(spec, record)))
            except _Rejected as rejected:
                await self._dead_letter(record, rejected.reason, rejected.error, rejected.envelope)
            except Exception as error:
                detail = f"unparseable: {type(error).__name__}: {error}"[:2_000]
                await self._dead_letter(record, DeadLetterReason.MALFORMED, detail, None)

        # One query tells which events this group has already handled.
        seen = await self._processed.seen(self.group, [env.id for _, env in parsed])
        done: dict[str, list[str]] = {}
        try:
            for record, envelope in parsed:
                if envelope.id in seen:
                    self.stats.duplicates += 1
                    log.info(
                        "duplicate_skipped",
                        event_id=envelope.id,
                        correlation_id=envelope.correlationid,
                        topic=record.topic,
                    )
                    continue
                seen.add(envelope.id)
                await self._handle_one(subscription, record, envelope)
                done.setdefault(record.topic, []).append(envelope.id)
        finally:
            for topic, event_ids in done.items():
                await self._processed.mark(self.group, topic, event_ids)

    def _parse(self, spec: EventSpec, record: ConsumerRecord[bytes, bytes]) -> Envelope[Any]:
        if not record.value:
            raise _Rejected(DeadLetterReason.MALFORMED, "empty message value", None)
        try:
            envelope: Envelope[Any] = spec.envelope.model_validate_json(record.value)
            return self._scoped(record, envelope)
        except ValidationError as error:
            validation_error = error
        try:
            document = json.loads(record.value)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            # Deeply nested arrays exhaust the decoder's recursion; that too is malformed input.
            raise _Rejected(
                DeadLetterReason.MALFORMED, f"not JSON: {type(error).__name__}: {error}", None
            ) from None
        if not isinstance(document, dict):
            raise _Rejected(
                DeadLetterReason.MALFORMED,
                f"expected a JSON object, got {type(document).__name__}",
                None,
            )
        found = document.get("type")
        if found != spec.type:
            raise _Rejected(
                DeadLetterReason.UNKNOWN_TYPE,
                f"unknown event type or version {found!r} on {record.topic}; "
                f"expected {spec.type!r}",
                document,
            )
        # Name the fields and what was wrong, never the values: they may hold personal data.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
            for item in validation_error.errors(include_input=False, include_url=False)[:10]
        )
        raise _Rejected(DeadLetterReason.INVALID, f"invalid {spec.type}: {problems}", document)

    def _scoped(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope[Any]
    ) -> Envelope[Any]:
        """Keep replay attributes on replay-namespace events only; a live event never has them."""
        if self.in_replay(record.topic):
            if envelope.replayof is None:
                raise _Rejected(
                    DeadLetterReason.INVALID,
                    f"an event on replay topic {record.topic} must name the request it replays "
                    "in 'replayof'",
                    envelope.model_dump(mode="json"),
                )
            return envelope
        if any(getattr(envelope, name) is not None for name in NO_REPLAY):
            # Overrides must never steer a live request, so they are dropped here, for all.
            log.warning(
                "replay_attributes_dropped",
                event_id=envelope.id,
                correlation_id=envelope.correlationid,
                topic=record.topic,
            )
            return envelope.model_copy(update=NO_REPLAY)
        return envelope

    async def _handle_one(
        self,
        subscription: _Subscription,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope[Any],
    ) -> None:
        context = (
            propagate.extract(
                {key: value.decode("latin-1") for key, value in record.headers or ()}
            )
            if _tracing()
            else None
        )
        token = _current_event.set(envelope)
        try:
            with (
                _span(
                    f"process {record.topic}",
                    context=context,
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.operation.type": "process",
                        "messaging.destination.name": record.topic,
                        "messaging.consumer.group.name": self.group,
                        "messaging.message.id": envelope.id,
                        "steward.tenant": envelope.tenant,
                        "steward.correlation_id": envelope.correlationid,
                    },
                ) as span,
            ):
                try:
                    await subscription.handler(envelope)
                except PermanentError as error:
                    await self._handler_failed(span, record, envelope, error, 1)
                    return
                except Exception as error:
                    try:
                        await self._retry(subscription, envelope, error)
                    except _GaveUp as gave_up:
                        await self._handler_failed(
                            span, record, envelope, gave_up.error, gave_up.attempts
                        )
                        return
                self.stats.handled += 1
        finally:
            _current_event.reset(token)

    async def _retry(
        self, subscription: _Subscription, envelope: Envelope[Any], first_error: Exception
    ) -> None:
        # The first attempt ran outside tenacity, so the common path pays nothing for it.
        attempts = 1
        if self.settings.retry_attempts <= 1:
            raise _GaveUp(first_error, attempts)
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.retry_attempts - 1),
                wait=wait_exponential_jitter(
                    multiplier=self.settings.retry_initial_seconds,
                    jitter=self.settings.retry_initial_seconds,
                    max=self.settings.retry_max_seconds,
                ),
                retry=retry_if_not_exception_type(PermanentError),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    self.stats.retries += 1
                    await subscription.handler(envelope)
        except Exception as error:
            raise _GaveUp(error, attempts) from error

    async def _handler_failed(
        self,
        span: trace.Span,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope[Any],
        error: BaseException,
        attempts: int,
    ) -> None:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        log.warning(
            "handler_failed",
            error_type=type(error).__name__,
            attempts=attempts,
            topic=record.topic,
        )
        await self._dead_letter(
            record,
            DeadLetterReason.HANDLER_FAILED,
            f"{type(error).__name__}: {error}"[:2_000],
            envelope.model_dump(mode="json"),
            attempts=attempts,
        )

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: DeadLetterReason,
        error: str,
        original: dict[str, Any] | None,
        *,
        attempts: int = 0,
    ) -> None:
        original = original or {}
        tenant = original.get("tenant")
        correlation = original.get("correlationid")
        dead = DeadLettered(
            reason=reason,
            error=error,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            consumer_group=self.group,
            attempts=attempts,
            original_event_id=_short(original.get("id")),
            original_type=_short(original.get("type")),
            original_value_base64=base64.b64encode(record.value or b"").decode(),
            original_headers=[
                KafkaHeader(key=key[:256], value_base64=base64.b64encode(value).decode())
                for key, value in (record.headers or ())[:64]
            ],
        )
        envelope = _safe_envelope(
            dead,
            source=self.source,
            tenant=tenant,
            correlation_id=correlation,
            fallback_key=record.key,
        )
        topic = record.topic + ".dlq"
        headers = {"content-type": CONTENT_TYPE, "ce_type": envelope.type, "ce_id": envelope.id}
        await self._send(
            topic, envelope.model_dump_json().encode(), envelope.correlationid, headers, True
        )
        self.stats.dead_lettered[reason.value] += 1
        _dead_letter_counter.add(1, {"topic": record.topic, "reason": reason.value})
        log.warning(
            "dead_lettered",
            reason=reason.value,
            error=error[:500],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            dead_letter_id=envelope.id,
        )

    async def _prune_forever(self) -> None:
        assert self._processed is not None
        retention = timedelta(days=self.settings.processed_retention_days)
        while True:
            try:
                removed = await self._processed.prune(retention)
                if removed:
                    log.info("processed_ids_pruned", removed=removed)
            except Exception:
                log.exception("processed_ids_prune_failed")
            await asyncio.sleep(3_600)


def _short(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


def _safe_envelope(
    data: DeadLettered,
    *,
    source: str,
    tenant: Any,
    correlation_id: Any,
    fallback_key: bytes | None,
) -> Envelope[DeadLettered]:
    # The original's tenant and correlation id are kept when they are valid, else replaced.
    key = fallback_key.decode("utf-8", "replace") if fallback_key else None
    for candidate_tenant, candidate_correlation in (
        (tenant, correlation_id),
        (tenant, key),
        (SYSTEM_TENANT, key),
        (SYSTEM_TENANT, None),
    ):
        try:
            return new_envelope(
                data,
                source=source,
                tenant=candidate_tenant if isinstance(candidate_tenant, str) else SYSTEM_TENANT,
                correlation_id=candidate_correlation
                if isinstance(candidate_correlation, str)
                else new_event_id(),
            )
        except ValidationError:
            continue
    raise AssertionError("unreachable: the system tenant and a fresh id are always valid")
