"""hybrid-memory: long-term memory for LLM assistants and agents.

The public names are those in ``__all__``; everything else is reached through its module.
"""

import typing as _typing

from hybrid_memory.config import MemoryConfig
from hybrid_memory.errors import (
    AmbiguousIdError,
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
    AuditEntry,
    EventType,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Message,
    QuarantineEntry,
    RepairReport,
    Scope,
)

if _typing.TYPE_CHECKING:
    from hybrid_memory.aio import AsyncHybridMemory
    from hybrid_memory.memory import HybridMemory

__version__ = "0.1.0"


def __getattr__(name: str) -> _typing.Any:
    # Imported lazily: the orchestrator pulls in chromadb, which the CLI's --help does not need.
    if name == "HybridMemory":
        from hybrid_memory.memory import HybridMemory

        return HybridMemory
    if name == "AsyncHybridMemory":
        from hybrid_memory.aio import AsyncHybridMemory

        return AsyncHybridMemory
    raise AttributeError(f"module 'hybrid_memory' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "AsyncHybridMemory", "HybridMemory"})


__all__ = [
    "AddEvent",
    "AddResult",
    "AmbiguousIdError",
    "AsyncHybridMemory",
    "AuditEntry",
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
    "MemoryStatus",
    "Message",
    "MessageFormatError",
    "ProcessingError",
    "QuarantineEntry",
    "QuarantineWarning",
    "RepairReport",
    "Scope",
    "ScopeError",
    "StoreError",
    "StoreLockedError",
    "TokenBudgetError",
    "UserInputError",
]
