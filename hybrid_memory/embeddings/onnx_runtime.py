"""The default embedder: the bundled model exported once to ONNX, run with onnxruntime and the
``tokenizers`` package. No process imports torch to embed (only the one-time export does)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hybrid_memory.embeddings.base import DEFAULT_MODEL, bundled_model_path, model_dimension
from hybrid_memory.embeddings.onnx_export import ensure_export, mean_pool
from hybrid_memory.errors import ConfigError


class OnnxSession:
    """An onnxruntime session and its tokenizer: texts in, pooled unit vectors out.

    Thread-safe: onnxruntime runs concurrent calls of one session, and releases the GIL while
    it computes, so several threads embed at once.
    """

    def __init__(self, onnx_path: Path, tokenizer_path: Path, max_length: int, threads: int = 0):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # Idle worker threads sleep instead of spinning: on a busy machine (or with several
        # threads embedding at once) spinning workers steal the cores the work needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(onnx_path), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ConfigError(f"cannot load the ONNX model {onnx_path}: {exc}") from exc
        tokenizer.enable_truncation(max_length=max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of each batch
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts``, one batch."""
        encodings = self._tokenizer.encode_batch(texts)
        feeds: dict[str, Any] = {
            "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        return mean_pool(hidden[0], feeds["attention_mask"])


_SESSIONS: dict[tuple[str, str], OnnxSession] = {}
_SESSIONS_LOCK = threading.Lock()


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) through onnxruntime.

    The model is exported from its bundled weights the first time any process uses it (see
    :mod:`hybrid_memory.embeddings.onnx_export`); after that, loading takes well under a second
    and nothing imports torch. Nothing loads until the first text is embedded, so opening a
    memory that only lists or reads costs nothing. Sessions are shared by every embedder of the
    same model in the process.

    The fp32 export gives the torch model's vectors (checked at export, and by the test
    suite), so it carries the same name as :class:`SentenceTransformerEmbedder` and stores
    written by either open with the other. ``quantized=True`` (a dynamically quantized int8
    export) moves vectors (cosine about 0.97) and has a name of its own; its effect on recall
    has not been measured, so it is no default and no configuration name selects it.

    Example:
        >>> emb = OnnxEmbedder()
        >>> emb.embed_batch(["hello"]).shape
        (1, 384)
    """

    def __init__(
        self, model: str = DEFAULT_MODEL, *, quantized: bool = False, batch_size: int = 64
    ):
        self.model_id = model
        self.variant = "int8" if quantized else "fp32"
        self.name = f"onnx-int8/{model}" if quantized else f"sentence-transformers/{model}"
        self.batch_size = batch_size
        self._dir = Path(bundled_model_path(model))
        self.dimension = model_dimension(self._dir)

    def session(self) -> OnnxSession:
        """The loaded session (exporting the model first if this user has no export yet)."""
        key = (str(self._dir), self.variant)
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(key)
            if session is None:
                exported = ensure_export(self.model_id, self._dir, self.variant)
                session = OnnxSession(
                    exported.onnx_path, exported.tokenizer_path, exported.max_length
                )
                _SESSIONS[key] = session
            return session

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self.session()
        # Batches of similar length waste less work on padding.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = session.embed([texts[i] for i in rows])
        return out
