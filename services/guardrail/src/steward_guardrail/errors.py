"""Exceptions a caller of the guardrail can catch by meaning."""


class GuardrailError(Exception):
    """Base class for every error the guardrail raises on purpose."""


class PolicyError(GuardrailError):
    """A tenant policy file is missing, unreadable or invalid."""


class SealError(GuardrailError):
    """A sealed original could not be encrypted or opened."""
