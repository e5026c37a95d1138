"""Tracing and structured logging set up once per process."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, TextIO, cast

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

if TYPE_CHECKING:
    from steward_bus.settings import BusSettings

_configured: dict[str, bool] = {}


def _one_line(span: ReadableSpan) -> str:
    return str(span.to_json(indent=None)) + "\n"


def configure_tracing(service_name: str, settings: BusSettings) -> TracerProvider | None:
    """Install the process's tracer provider with the configured exporter, once."""
    if _configured.get("tracing") or settings.otel_exporter == "none":
        return None
    exporter: SpanExporter
    if settings.otel_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint)
    elif settings.otel_exporter == "file":
        settings.trace_dir.mkdir(parents=True, exist_ok=True)
        out = (settings.trace_dir / f"{service_name}.jsonl").open("a", encoding="utf-8")
        exporter = ConsoleSpanExporter(out=out, formatter=_one_line)
    else:
        exporter = ConsoleSpanExporter(formatter=_one_line)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured["tracing"] = True
    return provider


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the time, so redirections made later still apply."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(service_name: str, settings: BusSettings) -> None:
    """Structured logs on stderr: JSON lines carrying the bound correlation and event ids."""
    if _configured.get("logging"):
        return
    # Imported here: the runtime imports this module.
    from steward_bus.runtime import add_event_context

    level = logging.getLevelName(settings.log_level)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer()
    )
    structlog.contextvars.bind_contextvars(service=service_name)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_event_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    # Libraries log through the standard module; keep their chatter at warnings.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    _configured["logging"] = True
