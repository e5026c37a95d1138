"""Issuer, audience and types shared by the steward_auth tests."""

from __future__ import annotations

from collections.abc import Callable

ISSUER = "https://id.example.gov"
AUDIENCE = "steward-review"

TokenFactory = Callable[..., str]
