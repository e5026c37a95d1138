"""The gateway's errors, named by what a caller can do about them."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of the gateway's own errors."""


class GatewaySettingsError(GatewayError):
    """A setting the gateway needs is missing or unusable in this profile."""


class UnknownConversation(GatewayError):
    """No conversation with that id is kept here for the caller."""
