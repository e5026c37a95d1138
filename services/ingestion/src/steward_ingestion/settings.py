"""Settings of the ingestion service, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt
from steward_bus import BusSettings


class IngestionSettings(BusSettings):
    """Bus settings plus ingestion's own (environment names `STEWARD_INGESTION_*`)."""

    # Folders whose files a submission may name by path; anything else is refused.
    # A list is given as JSON, e.g. STEWARD_INGESTION_ALLOWED_ROOTS='["/srv/agency-docs"]'.
    ingestion_allowed_roots: list[Path] = Field(default_factory=lambda: [Path(".steward/inbox")])
    ingestion_max_bytes: PositiveInt = 20 * 1024 * 1024
    # document.chunked holds at most 5,000 chunks.
    ingestion_max_chunks: PositiveInt = Field(default=5_000, le=5_000)
    # The embedded broker takes messages up to ~5 MB; the envelope and headers need the rest.
    ingestion_max_event_bytes: PositiveInt = 4 * 1024 * 1024
