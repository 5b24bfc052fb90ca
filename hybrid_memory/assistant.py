"""Moved to :mod:`hybrid_memory.agent.assistant`; this path is kept for one release."""

from hybrid_memory.agent.assistant import (
    DEFAULT_SYSTEM_PROMPT,
    MAX_MEMORY_TOKENS,
    Assistant,
    AssistantTurn,
    ToolRun,
)

__all__ = ["DEFAULT_SYSTEM_PROMPT", "MAX_MEMORY_TOKENS", "Assistant", "AssistantTurn", "ToolRun"]
