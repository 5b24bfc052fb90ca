"""The embedders: the ONNX default against the torch reference, the one-time export (cache,
checksum, file lock, no torch afterwards), backend names, and the query-vector cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.embeddings import (
    DEFAULT_MODEL,
    HashingEmbedder,
    OnnxEmbedder,
    QueryVectors,
    SentenceTransformerEmbedder,
    load_embedder,
)
from hybrid_memory.errors import ConfigError, EmbedderMismatchError

TEXTS = [
    "I moved to Lisbon last spring and work as a nurse.",
    "What is the name of my sister's dog?",
    "ok",
    "Ünïcödé naïve café — 東京で寿司を食べた 🍣",
    "Caroline went hiking near Boston with Melanie. " * 60,  # beyond the 256-token limit
    "",
]
ROOT = Path(__file__).resolve().parents[1]


class CountingEmbedder:
    """The hashing embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.name, self.dimension = self.inner.name, self.inner.dimension
        self.texts: list[str] = []

    def embed_batch(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_batch(texts)


@pytest.mark.slow
def test_the_onnx_default_gives_the_torch_vectors(real_embedder):
    torch_embedder = load_embedder(f"sentence-transformers:{DEFAULT_MODEL}")
    assert isinstance(real_embedder, OnnxEmbedder)
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    onnx_vectors = real_embedder.embed_batch(TEXTS)
    torch_vectors = torch_embedder.embed_batch(TEXTS)
    cosines = np.sum(onnx_vectors * torch_vectors, axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # The same vectors, so the same name: a store written by either opens with the other.
    assert real_embedder.name == torch_embedder.name
    assert real_embedder.dimension == torch_embedder.dimension == 384


@pytest.mark.slow
def test_a_store_written_by_torch_opens_with_the_onnx_default(tmp_path, real_embedder):
    torch_embedder = load_embedder(f"sentence-transformers:{DEFAULT_MODEL}")
    config = MemoryConfig(data_dir=tmp_path, embedder=torch_embedder, llm_from_env=False)
    with HybridMemory(config) as memory:
        memory.add("I adopted a grey cat called Miso.", user_id="u", infer=False)
    with HybridMemory(MemoryConfig(data_dir=tmp_path, llm_from_env=False)) as memory:
        assert isinstance(memory.embedder, OnnxEmbedder)
        hits = memory.search("What is my pet called?", user_id="u")
        assert hits and "Miso" in hits[0].memory
    int8 = OnnxEmbedder(quantized=True)  # other vectors, so another name: refused
    with pytest.raises(EmbedderMismatchError):
        HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=int8, llm_from_env=False))


def test_backend_names():
    assert isinstance(load_embedder("hashing-64"), HashingEmbedder)
    assert load_embedder("hashing-64").dimension == 64
    onnx = load_embedder(DEFAULT_MODEL)  # nothing loads until the first text
    assert isinstance(onnx, OnnxEmbedder) and onnx.dimension == 384
    assert isinstance(load_embedder(f"onnx:{DEFAULT_MODEL}"), OnnxEmbedder)
    assert OnnxEmbedder(quantized=True).name != onnx.name  # other vectors, another name
    with pytest.raises(ConfigError, match="backend before ':'"):
        load_embedder(f"onnx-int8:{DEFAULT_MODEL}")  # not offered: recall not measured
    with pytest.raises(ConfigError, match="backend before ':'"):
        load_embedder(f"tensorflow:{DEFAULT_MODEL}")
    with pytest.raises(ConfigError, match="hashing-<int>"):
        load_embedder("hashing-x")


_EXPORT = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    from hybrid_memory.embeddings import OnnxEmbedder
    vector = OnnxEmbedder().embed_batch(["hello there"])[0]
    print("torch-loaded" if "torch" in sys.modules else "no-torch", round(float(vector[0]), 5))
    """
)


def _embed_in_process(cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HYBRID_MEMORY_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _EXPORT], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


@pytest.mark.slow
def test_the_export_happens_once_and_is_checked(tmp_path):
    cache = tmp_path / "cache"
    # Two processes using the model for the first time at once: one exports, under the lock.
    first, second = _embed_in_process(cache), _embed_in_process(cache)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert sum(o.count("exporting") for o in outputs) == 1, outputs
    values = {o.strip().splitlines()[-1].split()[-1] for o in outputs}
    assert len(values) == 1  # the same vector from both
    (folder,) = (cache / "onnx").iterdir()
    names = {p.name for p in folder.iterdir()}
    assert {"model.onnx", "model.onnx.sha256", "export.json"} <= names
    assert not [n for n in names if ".tmp" in n]  # nothing half-written left behind
    assert json.loads((folder / "export.json").read_text())["min_cosine_vs_torch"] >= 0.9999

    # Later processes load the export without torch.
    again = _embed_in_process(cache)
    out = again.communicate(timeout=120)[0]
    assert "exporting" not in out and "no-torch" in out, out

    # A damaged export fails its checksum, so the next use exports again instead of using it.
    from hybrid_memory.embeddings.onnx_export import _is_valid

    assert _is_valid(folder / "model.onnx")
    with (folder / "model.onnx").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0" * 64)
    assert not _is_valid(folder / "model.onnx")


def test_an_unwritable_cache_is_a_config_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("HYBRID_MEMORY_CACHE_DIR", str(blocker / "sub"))
    from hybrid_memory.embeddings.onnx_export import ensure_export

    with pytest.raises(ConfigError, match="HYBRID_MEMORY_CACHE_DIR"):
        ensure_export("m", Path(OnnxEmbedder()._dir), "fp32")
    with pytest.raises(ConfigError, match="variant"):
        ensure_export("m", Path(OnnxEmbedder()._dir), "fp16")


def test_query_vectors_are_cached_and_read_only():
    counting = CountingEmbedder()
    queries = QueryVectors(counting, size=2)
    first = queries.get("where do I live?")
    assert queries.get("where do I live?") is first
    assert counting.texts == ["where do I live?"]
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared between callers: nobody may change it
    queries.get_many(["a", "b"])  # evicts the oldest (size 2)
    queries.get("where do I live?")
    assert counting.texts == ["where do I live?", "a", "b", "where do I live?"]
    many = [f"t{i}" for i in range(10)]
    assert queries.embed_batch(many).shape == (10, counting.dimension)  # a batch goes through
    assert len(queries._cache) == 2


def test_search_and_context_embed_a_query_once(tmp_path):
    counting = CountingEmbedder()
    config = MemoryConfig(
        data_dir=tmp_path,
        embedder=counting,
        records={"kind": "memory"},
        vectors={"kind": "memory"},
        llm_from_env=False,
    )
    with HybridMemory(config) as memory:
        memory.add("I adopted a grey cat called Miso.", user_id="u", infer=False)
        counting.texts.clear()
        memory.search("What is my cat called?", user_id="u")
        asked = list(counting.texts)
        memory.search("What is my cat called?", user_id="u")
        memory.get_context("What is my cat called?", user_id="u", token_budget=500)
    assert "What is my cat called?" in asked
    assert counting.texts == asked  # the second search and the context embedded nothing
