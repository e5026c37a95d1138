"""Build a ready InferenceWorker from settings."""

from __future__ import annotations

from steward_inference._embedded import EmbeddedLlama, EmbeddedLlamaConfig
from steward_inference._generation import Generator
from steward_inference._openai_backend import HttpBackendConfig, OpenAICompatibleGenerator
from steward_inference._prompts import PromptRegistry
from steward_inference._routing import ModelChoice, RouteTable
from steward_inference._worker import InferenceWorker
from steward_inference.settings import BackendChoice, InferenceSettings


def build_generator(settings: InferenceSettings) -> Generator:
    """Start the configured backend; an embedded model loads here and closes with it."""
    if settings.backend is BackendChoice.HTTP:
        return OpenAICompatibleGenerator(
            HttpBackendConfig(
                base_url=settings.base_url,
                model=settings.model,
                server_kind=settings.server_kind,
                revision=settings.model_revision,
                api_key=settings.api_key,
                timeout_s=settings.timeout_s,
                max_attempts=settings.max_attempts,
                stream=settings.stream,
                breaker_failures=settings.breaker_failures,
                breaker_cooldown_s=settings.breaker_cooldown_s,
            )
        )

    llama = EmbeddedLlama(
        EmbeddedLlamaConfig(
            model_name=settings.model,
            threads=settings.threads,
            parallel=settings.parallel,
            context_per_slot=settings.context_per_slot,
        )
    ).start()
    return llama.generator(
        owns_model=True, adapter_dir=settings.adapter_dir, max_adapters=settings.max_adapters
    )


def build_worker(settings: InferenceSettings | None = None) -> InferenceWorker:
    """Return a worker with the packaged prompts, one backend and the default route."""
    settings = settings or InferenceSettings()
    generator = build_generator(settings)
    return InferenceWorker(
        registry=PromptRegistry.packaged(),
        routes=RouteTable(ModelChoice(model=settings.model, revision=settings.model_revision)),
        generators={settings.model: generator},
        max_in_flight=settings.max_in_flight,
    )
