"""Steward's gateway: the governed HTTP door in front of the event pipeline."""

from steward_gateway.app import Gateway, main, serve
from steward_gateway.settings import GatewaySettings

__all__ = ["Gateway", "GatewaySettings", "main", "serve"]
