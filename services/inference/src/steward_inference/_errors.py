"""Exceptions a caller of the inference service can catch by meaning."""

from __future__ import annotations


class InferenceError(Exception):
    """Base class for every failure the inference service reports."""

    reason: str = "inference_error"


class PromptNotFoundError(InferenceError):
    """No template with the asked id and version is in the registry."""

    reason = "prompt_not_found"


class PromptTemplateError(InferenceError):
    """A prompt template file is malformed or a render is missing a value."""

    reason = "prompt_invalid"


class GenerationFailedError(InferenceError):
    """The backend could not produce a completion, after bounded retries where they apply."""

    def __init__(self, message: str, *, reason: str, model: str, attempts: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.model = model
        self.attempts = attempts


class CircuitOpenError(GenerationFailedError):
    """The backend's circuit breaker is open, so the call was refused without trying."""

    def __init__(self, message: str, *, model: str, retry_after_s: float) -> None:
        super().__init__(message, reason="circuit_open", model=model, attempts=0)
        self.retry_after_s = retry_after_s


class AdapterNotFoundError(GenerationFailedError):
    """A request named an adapter that the backend's adapter folder does not hold."""

    def __init__(self, message: str, *, adapter: str, model: str) -> None:
        super().__init__(message, reason="adapter_not_found", model=model, attempts=0)
        self.adapter = adapter


class UnsupportedFeatureError(InferenceError):
    """The request asks a backend for something it cannot do."""

    reason = "unsupported_feature"


class RouteUnavailableError(InferenceError):
    """Generation is switched off for this tenant, route or model by the kill switch."""

    reason = "route_disabled"

    def __init__(self, message: str, *, scope: str, value: str) -> None:
        super().__init__(message)
        self.scope = scope
        self.value = value
