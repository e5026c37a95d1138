"""Steward inference: grounded draft answers with provenance, routing and a kill switch."""

from steward_inference._circuit import CircuitBreaker, CircuitState
from steward_inference._citations import CitationMarkers, parse_citations
from steward_inference._embedded import (
    EmbeddedLlama,
    EmbeddedLlamaConfig,
    EmbeddedLlamaGenerator,
    smollm2_gguf_path,
)
from steward_inference._errors import (
    AdapterNotFoundError,
    CircuitOpenError,
    GenerationFailedError,
    InferenceError,
    PromptNotFoundError,
    PromptTemplateError,
    RouteUnavailableError,
    UnsupportedFeatureError,
)
from steward_inference._factory import build_generator, build_worker
from steward_inference._generation import Generation, GenerationRequest, Generator, TokenUsage
from steward_inference._language import detect_language
from steward_inference._limiter import InFlightLimiter
from steward_inference._openai_backend import (
    HttpBackendConfig,
    OpenAICompatibleGenerator,
    ServerKind,
)
from steward_inference._prompts import (
    ChatMessage,
    Passage,
    PromptRef,
    PromptRegistry,
    PromptTemplate,
    RenderedPrompt,
    SamplingParams,
    parse_template,
)
from steward_inference._routing import (
    KillScope,
    ModelChoice,
    Promotion,
    ResolvedRoute,
    RouteTable,
    canary_bucket,
)
from steward_inference._worker import (
    Citation,
    Draft,
    DraftRequest,
    InferenceWorker,
    ModelRef,
)
from steward_inference.settings import BackendChoice, InferenceSettings

__all__ = [
    "AdapterNotFoundError",
    "BackendChoice",
    "ChatMessage",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Citation",
    "CitationMarkers",
    "Draft",
    "DraftRequest",
    "EmbeddedLlama",
    "EmbeddedLlamaConfig",
    "EmbeddedLlamaGenerator",
    "Generation",
    "GenerationFailedError",
    "GenerationRequest",
    "Generator",
    "HttpBackendConfig",
    "InFlightLimiter",
    "InferenceError",
    "InferenceSettings",
    "InferenceWorker",
    "KillScope",
    "ModelChoice",
    "ModelRef",
    "OpenAICompatibleGenerator",
    "Passage",
    "Promotion",
    "PromptNotFoundError",
    "PromptRef",
    "PromptRegistry",
    "PromptTemplate",
    "PromptTemplateError",
    "RenderedPrompt",
    "ResolvedRoute",
    "RouteTable",
    "RouteUnavailableError",
    "SamplingParams",
    "ServerKind",
    "TokenUsage",
    "UnsupportedFeatureError",
    "build_generator",
    "build_worker",
    "canary_bucket",
    "detect_language",
    "parse_citations",
    "parse_template",
    "smollm2_gguf_path",
]
