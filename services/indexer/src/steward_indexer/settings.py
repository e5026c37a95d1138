"""Settings of the indexer service, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt
from steward_bus import BusSettings


class IndexerSettings(BusSettings):
    """Bus settings plus the indexer's own (`STEWARD_QDRANT_*`, `STEWARD_INDEXER_*`)."""

    # Local mode keeps the collections in this folder (':memory:' keeps them in memory).
    qdrant_path: Path = Path(".steward/qdrant")
    # A Qdrant server, e.g. http://127.0.0.1:6333; when set, qdrant_path is not used.
    qdrant_url: str | None = None
    indexer_collection: str = Field(default="steward_chunks", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # The small generation model answers best from a few short passages.
    indexer_top_k: PositiveInt = Field(default=4, le=50)
    indexer_embedding_batch: PositiveInt = 32
