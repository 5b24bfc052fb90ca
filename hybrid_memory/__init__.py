"""hybrid-memory: long-term memory for LLM assistants and agents."""

from hybrid_memory.errors import (
    ConfigError,
    EmbedderMismatchError,
    ExtractionError,
    FilterError,
    HybridMemoryError,
    InputTooLargeError,
    MemoryNotFoundError,
    MessageFormatError,
    ScopeError,
    StoreError,
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

__version__ = "0.1.0"

__all__ = [
    "AddEvent",
    "AddResult",
    "ConfigError",
    "EmbedderMismatchError",
    "EventType",
    "ExtractionError",
    "FilterError",
    "HistoryEntry",
    "HybridMemoryError",
    "InputTooLargeError",
    "MemoryContext",
    "MemoryHit",
    "MemoryItem",
    "MemoryKind",
    "MemoryNotFoundError",
    "Message",
    "MessageFormatError",
    "Scope",
    "ScopeError",
    "StoreError",
    "TokenBudgetError",
    "UserInputError",
]
