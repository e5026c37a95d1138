"""Settings of the indexer service, read from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, PositiveInt
from pydantic_settings import SettingsConfigDict
from steward_bus import BusSettings


class IndexerSettings(BusSettings):
    """Bus settings plus the indexer's own (environment names `STEWARD_INDEXER_*`)."""

    # Fields may also be given by name, as tests do; the aliases below are for the environment.
    model_config = SettingsConfigDict(populate_by_name=True)

    # Local mode keeps the collections in this folder (':memory:' keeps them in memory).
    indexer_qdrant_path: Path = Path(".steward/qdrant")
    # A Qdrant server, e.g. http://127.0.0.1:6333; when set, the folder is not used.
    # STEWARD_QDRANT_URL is the short name; the deployments use the prefixed one.
    indexer_qdrant_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("STEWARD_INDEXER_QDRANT_URL", "STEWARD_QDRANT_URL"),
    )
    indexer_collection: str = Field(default="steward_chunks", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # The small generation model answers best from a few short passages.
    indexer_top_k: PositiveInt = Field(default=4, le=50)
    indexer_embedding_batch: PositiveInt = 32
    # Torch threads of the embedding model; one keeps a question's encode from waiting on
    # threads that other services' work has pushed off the CPU.
    indexer_embedding_threads: PositiveInt = 1
    # Retrieval answers replays too, in the replay namespace.
    serve_replay: bool = True
