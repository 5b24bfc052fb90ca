"""Model registry: context window, maximum output and prices of common chat models.

Figures are the providers' published list prices (USD per 1M tokens, standard tier, prompts
under any long-context surcharge) and limits as of 2025. They change: override any entry with
:func:`register_model`, or without code through the ``HYBRID_MEMORY_MODELS`` environment
variable holding a JSON object ``{"model": {"context_window": ..., ...}}`` (also read from a
JSON file path). Lookup matches the exact name, then the longest known prefix (so dated
snapshots such as ``gpt-4o-2024-08-06`` find ``gpt-4o``); an unknown model gets
:data:`DEFAULT_MODEL` with a one-time warning instead of an error.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hybrid_memory.errors import ConfigError


class ModelInfo(BaseModel):
    """What the library needs to know about one model.

    Attributes:
        name: Model name as sent to the API.
        provider: ``openai``, ``anthropic``, ``google`` or ``unknown``.
        context_window: Maximum tokens of prompt plus reply.
        max_output_tokens: Maximum tokens of one reply.
        input_price: USD per 1M input tokens.
        output_price: USD per 1M output tokens.
        exact_tokenizer: True when token counts are exact (tiktoken), False for estimates.
        known: False when the entry is the default used for an unknown model.
    """

    name: str
    provider: str = "unknown"
    context_window: int = 128_000
    max_output_tokens: int = 4_096
    input_price: float = 0.0
    output_price: float = 0.0
    exact_tokenizer: bool = False
    known: bool = True

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD cost of a call with these token counts."""
        return (input_tokens * self.input_price + output_tokens * self.output_price) / 1e6


def _m(name: str, provider: str, window: int, out: int, pin: float, pout: float) -> ModelInfo:
    return ModelInfo(
        name=name,
        provider=provider,
        context_window=window,
        max_output_tokens=out,
        input_price=pin,
        output_price=pout,
        exact_tokenizer=provider == "openai",
    )


_BUILTIN: list[ModelInfo] = [
    _m("gpt-4o", "openai", 128_000, 16_384, 2.50, 10.00),
    _m("gpt-4o-mini", "openai", 128_000, 16_384, 0.15, 0.60),
    _m("gpt-4.1", "openai", 1_047_576, 32_768, 2.00, 8.00),
    _m("gpt-4.1-mini", "openai", 1_047_576, 32_768, 0.40, 1.60),
    _m("gpt-4.1-nano", "openai", 1_047_576, 32_768, 0.10, 0.40),
    _m("o3", "openai", 200_000, 100_000, 2.00, 8.00),
    _m("o3-mini", "openai", 200_000, 100_000, 1.10, 4.40),
    _m("o4-mini", "openai", 200_000, 100_000, 1.10, 4.40),
    _m("gpt-5", "openai", 400_000, 128_000, 1.25, 10.00),
    _m("gpt-5-mini", "openai", 400_000, 128_000, 0.25, 2.00),
    _m("gpt-5-nano", "openai", 400_000, 128_000, 0.05, 0.40),
    _m("gpt-4-turbo", "openai", 128_000, 4_096, 10.00, 30.00),
    _m("gpt-3.5-turbo", "openai", 16_385, 4_096, 0.50, 1.50),
    _m("claude-3-5-sonnet", "anthropic", 200_000, 8_192, 3.00, 15.00),
    _m("claude-3-5-haiku", "anthropic", 200_000, 8_192, 0.80, 4.00),
    _m("claude-3-7-sonnet", "anthropic", 200_000, 64_000, 3.00, 15.00),
    _m("claude-sonnet-4", "anthropic", 200_000, 64_000, 3.00, 15.00),
    _m("claude-opus-4", "anthropic", 200_000, 32_000, 15.00, 75.00),
    _m("claude-3-opus", "anthropic", 200_000, 4_096, 15.00, 75.00),
    _m("claude-3-haiku", "anthropic", 200_000, 4_096, 0.25, 1.25),
    _m("gemini-1.5-pro", "google", 2_097_152, 8_192, 1.25, 5.00),
    _m("gemini-1.5-flash", "google", 1_048_576, 8_192, 0.075, 0.30),
    _m("gemini-2.0-flash", "google", 1_048_576, 8_192, 0.10, 0.40),
    _m("gemini-2.0-flash-lite", "google", 1_048_576, 8_192, 0.075, 0.30),
    _m("gemini-2.5-pro", "google", 1_048_576, 65_536, 1.25, 10.00),
    _m("gemini-2.5-flash", "google", 1_048_576, 65_536, 0.30, 2.50),
]

DEFAULT_MODEL = ModelInfo(name="default", known=False)
"""Used for unknown models: a 128k window, 4k reply, no price (cost reported as 0)."""

ENV_VAR = "HYBRID_MEMORY_MODELS"

_LOCK = threading.Lock()
_MODELS: dict[str, ModelInfo] = {m.name: m for m in _BUILTIN}
_ENV_LOADED: str | None = None
_WARNED: set[str] = set()


def register_model(info: ModelInfo | None = None, **fields: Any) -> ModelInfo:
    """Add or replace a model entry (a ``ModelInfo`` or its fields as keywords).

    Raises:
        ConfigError: When the fields are not a valid ``ModelInfo``.
    """
    if info is None:
        try:
            info = ModelInfo(**fields)
        except ValidationError as exc:
            raise ConfigError(f"invalid model entry {fields!r}: {exc}") from exc
    with _LOCK:
        _MODELS[info.name] = info
    return info


def _load_env() -> None:
    global _ENV_LOADED
    raw = os.environ.get(ENV_VAR, "")
    if raw == (_ENV_LOADED or ""):
        return
    text = raw
    if raw and not raw.lstrip().startswith("{"):
        try:
            text = Path(raw).read_text()
        except OSError as exc:
            raise ConfigError(
                f"{ENV_VAR} must be a JSON object or the path of a JSON file; cannot read {raw!r}"
            ) from exc
    try:
        entries = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ENV_VAR} is not valid JSON: {exc}") from exc
    if not isinstance(entries, dict):
        raise ConfigError(f'{ENV_VAR} must be a JSON object {{"model": {{...}}}}')
    for name, fields in entries.items():
        base = _lookup(name) or DEFAULT_MODEL
        merged = base.model_dump() | dict(fields or {}) | {"name": name, "known": True}
        register_model(**merged)
    _ENV_LOADED = raw


def _lookup(model: str) -> ModelInfo | None:
    name = model.lower().split("/")[-1]
    with _LOCK:
        if name in _MODELS:
            return _MODELS[name]
        candidates = [k for k in _MODELS if name.startswith(k + "-") or name.startswith(k + "@")]
        return _MODELS[max(candidates, key=len)] if candidates else None


def get_model_info(model: str) -> ModelInfo:
    """Registry entry for ``model``; unknown models get the default entry and a warning once."""
    _load_env()
    info = _lookup(model)
    if info is not None:
        return info
    if model not in _WARNED:
        _WARNED.add(model)
        warnings.warn(
            f"unknown model {model!r}: assuming a {DEFAULT_MODEL.context_window}-token window "
            f"and no price; add it with register_model() or {ENV_VAR}",
            stacklevel=2,
        )
    return DEFAULT_MODEL.model_copy(update={"name": model})


def known_models() -> list[str]:
    """Names of all registered models."""
    _load_env()
    with _LOCK:
        return sorted(_MODELS)
