"""Embedders: the protocol, the backends, and the names that select them.

``all-MiniLM-L6-v2`` (the default) runs on onnxruntime (:class:`OnnxEmbedder`); prefixes pick
another backend: ``sentence-transformers:<model>`` (torch), ``onnx:<model>``, ``hashing`` /
``hashing-<dimension>``. The int8 export (``OnnxEmbedder(quantized=True)``) has no name here:
its effect on recall has not been measured yet.
"""

from __future__ import annotations

from hybrid_memory.embeddings.base import DEFAULT_MODEL, Embedder, bundled_model_path, embed_one
from hybrid_memory.embeddings.cache import QueryVectors
from hybrid_memory.embeddings.hashing import HashingEmbedder
from hybrid_memory.embeddings.onnx_runtime import OnnxEmbedder
from hybrid_memory.embeddings.remote import OpenAIEmbedder
from hybrid_memory.embeddings.torch_st import SentenceTransformerEmbedder
from hybrid_memory.errors import ConfigError

BACKENDS = ("onnx", "sentence-transformers")


def load_embedder(spec: str = DEFAULT_MODEL) -> Embedder:
    """The embedder a name selects (see the module docstring). Only the default model has an
    ONNX path by default; another bare model name goes to sentence-transformers.

    Raises:
        ConfigError: an unknown backend prefix or a malformed ``hashing-<dimension>``.
    """
    if spec.startswith("hashing"):
        _, _, dim = spec.partition("-")
        if dim and not dim.isdigit():
            raise ConfigError(f"embedding_model {spec!r}: use 'hashing' or 'hashing-<int>'")
        return HashingEmbedder(int(dim) if dim else 384)
    backend, sep, model = spec.partition(":")
    if not sep:
        backend, model = ("onnx" if spec == DEFAULT_MODEL else "sentence-transformers"), spec
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(model or DEFAULT_MODEL)
    if backend == "onnx":
        return OnnxEmbedder(model or DEFAULT_MODEL)
    raise ConfigError(
        f"embedding_model {spec!r}: the backend before ':' must be one of {', '.join(BACKENDS)}"
    )


__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "Embedder",
    "HashingEmbedder",
    "OnnxEmbedder",
    "OpenAIEmbedder",
    "QueryVectors",
    "SentenceTransformerEmbedder",
    "bundled_model_path",
    "embed_one",
    "load_embedder",
]
