"""Moved to :mod:`hybrid_memory.agent.sessions`; this path is kept for one release."""

from hybrid_memory.agent.sessions import (
    DEFAULT_IDLE_TTL,
    EXPORT_FORMAT,
    Checkpoint,
    Session,
    SessionEvent,
    SessionEventType,
    SessionManager,
    replay,
)

__all__ = [
    "DEFAULT_IDLE_TTL",
    "EXPORT_FORMAT",
    "Checkpoint",
    "Session",
    "SessionEvent",
    "SessionEventType",
    "SessionManager",
    "replay",
]
