"""Exceptions a caller of the guardrail can catch by meaning."""


class GuardrailError(Exception):
    """Base class for every error the guardrail raises on purpose."""


class PolicyError(GuardrailError):
    """A tenant policy file is missing, unreadable or invalid."""


class UnknownPolicyVersion(PolicyError):
    """A replay asked for a policy version that neither the live folder nor its archive holds."""


class SealError(GuardrailError):
    """A sealed original could not be encrypted or opened."""


class PiiKeyError(GuardrailError):
    """The key that seals personal data is missing, malformed or stored unsafely."""
