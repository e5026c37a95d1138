"""Sealed originals of redacted values, kept per request and named by a reference."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from steward_guardrail.verdicts import SealedValue

_REF_PREFIX = "guardrail:originals/"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,127}$")


class OriginalsStore:
    """Writes each request's sealed originals to a file of its own (mode 0600)."""

    # LIMITATION: the files live on this host and no service opens them for a reviewer yet;
    # a store other services can reach, behind the review desk's authorisation, would.

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def keep(
        self, tenant: str, request_id: str, conversation_id: str, sealed: list[SealedValue]
    ) -> str:
        """Store the sealed values of one request and return the reference events carry."""
        # One folder per tenant, so erasing an agency's data is one folder.
        folder = self._directory / tenant
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

        # Write then rename: a redelivered request rewrites the same file whole.
        document = {
            "conversation_id": conversation_id,
            "sealed": [value.model_dump() for value in sealed],
        }
        target = folder / f"{request_id}.json"
        partial = folder / f".{request_id}.json.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.replace(partial, target)
        return f"{_REF_PREFIX}{tenant}/{request_id}"

    def load(self, ref: str) -> list[dict[str, str]]:
        """Return the sealed values a reference names (tokens; opening them needs the key)."""
        if not ref.startswith(_REF_PREFIX):
            raise ValueError(f"Not a guardrail originals reference: {ref!r}")
        tenant, _, request_id = ref.removeprefix(_REF_PREFIX).partition("/")
        if not (_PART.match(tenant) and _PART.match(request_id)):
            raise ValueError(f"Malformed guardrail originals reference: {ref!r}")
        document = json.loads((self._directory / tenant / f"{request_id}.json").read_text())
        sealed: list[dict[str, str]] = document["sealed"]
        return sealed
