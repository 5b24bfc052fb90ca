"""Moved to :mod:`hybrid_memory.agent.registry`; this path is kept for one release."""

from hybrid_memory.agent.registry import (
    DEFAULT_MODEL,
    ENV_VAR,
    ModelInfo,
    get_model_info,
    known_models,
    register_model,
)

__all__ = [
    "DEFAULT_MODEL",
    "ENV_VAR",
    "ModelInfo",
    "get_model_info",
    "known_models",
    "register_model",
]
