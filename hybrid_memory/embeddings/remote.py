"""Embeddings from an OpenAI-compatible endpoint."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hybrid_memory.llm import LLMConfig


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
