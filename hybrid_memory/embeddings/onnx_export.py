"""The one-time export of a Hugging Face encoder to ONNX, kept in a per-user cache.

The export is the only step that imports torch. It is written under a file lock (two processes
using the model for the first time export it once), to a temporary file that is renamed into
place with a checksum beside it, and checked against the torch model on probe sentences before
it is kept: an export whose vectors differ is refused, never cached. Where it lives:
``$HYBRID_MEMORY_CACHE_DIR/onnx/<model>-<variant>-<fingerprint>/`` (default cache dir
``$XDG_CACHE_HOME/hybrid-memory``, else ``~/.cache/hybrid-memory``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybrid_memory.errors import ConfigError

CACHE_ENV = "HYBRID_MEMORY_CACHE_DIR"
VARIANTS = ("fp32", "int8")
PROBES = (
    "I moved to Lisbon last spring and work as a nurse.",
    "What is the name of my sister's dog?",
    "Caroline went hiking near Boston with Melanie yesterday.",
    "ok",
)
FP32_MIN_COSINE = 0.9999
"""An fp32 export must give the torch model's vectors (cosine at least this on every probe):
it then shares the torch embedder's name, so stores written by either open with the other."""
_OPSET = 17
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportedModel:
    """An export on disk: the ONNX file, the tokenizer and the model's sequence limit."""

    onnx_path: Path
    tokenizer_path: Path
    max_length: int


def cache_root() -> Path:
    """The per-user cache directory of hybrid-memory."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hybrid-memory"


def _fingerprint(model_dir: Path) -> str:
    """Changes when the model's files do (configs by content, weights by size and time, so
    that opening needs no pass over the weights)."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.exists():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _max_length(model_dir: Path) -> int:
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_valid(onnx_path: Path) -> bool:
    checksum = onnx_path.with_name(onnx_path.name + ".sha256")
    try:
        expected = checksum.read_text("ascii").strip()
    except OSError:
        return False
    return onnx_path.exists() and _sha256(onnx_path) == expected


def ensure_export(model: str, model_dir: Path, variant: str = "fp32") -> ExportedModel:
    """The export of ``model`` (files in ``model_dir``), made now when it is not cached yet.

    Raises:
        ConfigError: ``variant`` is unknown, or the export cannot be made or does not match
            the torch model (nothing is cached then).
    """
    if variant not in VARIANTS:
        raise ConfigError(f"ONNX variant {variant!r}: use one of {', '.join(VARIANTS)}")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") or "model"
    target = cache_root() / "onnx" / f"{safe}-{variant}-{_fingerprint(model_dir)}"
    exported = ExportedModel(
        onnx_path=target / "model.onnx",
        tokenizer_path=model_dir / "tokenizer.json",
        max_length=_max_length(model_dir),
    )
    if _is_valid(exported.onnx_path):
        return exported
    from filelock import FileLock

    try:
        target.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target / ".export.lock")):
            if not _is_valid(exported.onnx_path):  # another process may have just made it
                _export(model_dir, exported, variant)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the ONNX export of {model!r} under {target}: {exc}. Set "
            f"{CACHE_ENV} to a writable directory."
        ) from exc
    return exported


def _export(model_dir: Path, exported: ExportedModel, variant: str) -> None:
    _log.info("exporting %s to ONNX (%s) once, into %s", model_dir, variant, exported.onnx_path)
    target = exported.onnx_path.parent
    tmp = target / f"model.onnx.tmp-{os.getpid()}"
    tmp_sum = target / f"model.onnx.sha256.tmp-{os.getpid()}"
    try:
        reference = _torch_export(model_dir, tmp, exported.max_length)
        if variant == "int8":
            _quantize(tmp)
        cosine = _agreement(tmp, exported, reference)
        if variant == "fp32" and cosine < FP32_MIN_COSINE:
            raise ConfigError(
                f"the ONNX export of {model_dir} gives other vectors than torch (cosine "
                f"{cosine:.5f} < {FP32_MIN_COSINE}); use 'sentence-transformers:<model>'"
            )
        info = {"variant": variant, "min_cosine_vs_torch": round(cosine, 6), "opset": _OPSET}
        (target / "export.json").write_text(json.dumps(info) + "\n", "utf-8")
        tmp_sum.write_text(_sha256(tmp) + "\n", "ascii")
        # The model first, then its checksum: a reader trusts the file only once both agree.
        os.replace(tmp, exported.onnx_path)
        os.replace(tmp_sum, exported.onnx_path.with_name("model.onnx.sha256"))
    finally:
        for leftover in (tmp, tmp_sum, tmp.with_name(tmp.name + ".data")):
            leftover.unlink(missing_ok=True)


def _torch_export(model_dir: Path, out: Path, max_length: int) -> np.ndarray:
    """Export the encoder's last hidden state; return torch's pooled vectors of the probes."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer

    class LastHidden(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    from hybrid_memory.embeddings.torch_st import quiet_loading

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    with quiet_loading():
        wrapper = LastHidden(AutoModel.from_pretrained(str(model_dir))).eval()
    batch = tokenizer(
        list(PROBES), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    args = tuple(batch[n] for n in names)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            args,
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=_OPSET,
            dynamo=False,
        )
        hidden = wrapper(*args).numpy()
    return mean_pool(hidden, batch["attention_mask"].numpy())


def _quantize(path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantized = path.with_name(path.name + ".int8")
    quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8)
    os.replace(quantized, path)


def _agreement(onnx_path: Path, exported: ExportedModel, reference: np.ndarray) -> float:
    """The smallest cosine between the export's and torch's vectors of the probes."""
    from hybrid_memory.embeddings.onnx_runtime import OnnxSession

    session = OnnxSession(onnx_path, exported.tokenizer_path, exported.max_length)
    vectors = session.embed(list(PROBES))
    return float(np.min(np.sum(vectors * reference, axis=1)))


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors the attention mask keeps, L2-normalized (the pooling of
    sentence-transformers models such as all-MiniLM-L6-v2)."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.where(norms == 0, 1.0, norms)).astype(np.float32)
