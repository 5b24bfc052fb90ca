"""hybrid-memory: long-term memory for LLM assistants and agents."""

from typing import TYPE_CHECKING, Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.errors import (
    ConfigError,
    EmbedderMismatchError,
    ExtractionError,
    FilterError,
    HybridMemoryError,
    InputTooLargeError,
    MemoryNotFoundError,
    MessageFormatError,
    ProcessingError,
    QuarantineWarning,
    ScopeError,
    StoreError,
    StoreLockedError,
    TokenBudgetError,
    UserInputError,
)
from hybrid_memory.models import (
    AddEvent,
    AddResult,
    EventType,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
    MemoryKind,
    Message,
    Scope,
)

if TYPE_CHECKING:
    from hybrid_memory.aio import AsyncHybridMemory
    from hybrid_memory.memory import HybridMemory

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Imported lazily: the orchestrator pulls in chromadb, which the CLI's --help does not need.
    if name == "HybridMemory":
        from hybrid_memory.memory import HybridMemory

        return HybridMemory
    if name == "AsyncHybridMemory":
        from hybrid_memory.aio import AsyncHybridMemory

        return AsyncHybridMemory
    raise AttributeError(f"module 'hybrid_memory' has no attribute {name!r}")


__all__ = [
    "AddEvent",
    "AsyncHybridMemory",
    "AddResult",
    "ConfigError",
    "EmbedderMismatchError",
    "EventType",
    "ExtractionError",
    "FilterError",
    "HistoryEntry",
    "HybridMemory",
    "HybridMemoryError",
    "InputTooLargeError",
    "MemoryConfig",
    "MemoryContext",
    "MemoryHit",
    "MemoryItem",
    "MemoryKind",
    "MemoryNotFoundError",
    "Message",
    "MessageFormatError",
    "ProcessingError",
    "QuarantineWarning",
    "Scope",
    "ScopeError",
    "StoreError",
    "StoreLockedError",
    "TokenBudgetError",
    "UserInputError",
]
