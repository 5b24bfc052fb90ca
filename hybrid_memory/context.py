"""Moved to :mod:`hybrid_memory.memory.context`; this path is kept for one release."""

from hybrid_memory.memory.context import (  # noqa: F401
    CONTEXT_TIERS,
    DEFAULT_SHARES,
    INSTRUCTIONS,
    MEMORIES_HEADER,
    SUMMARY_HEADER,
    build_context,
    memory_line,
)
