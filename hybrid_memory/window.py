"""Moved to :mod:`hybrid_memory.agent.window`; this path is kept for one release."""

from hybrid_memory.agent.window import (
    DEFAULT_TOOL_NOTE,
    DEFAULT_TOOL_RULES,
    PRESETS,
    PROTECTED_ROLES,
    ROLES,
    STRATEGIES,
    SUMMARY_PREFIX,
    ContextWindow,
    WindowReport,
    WindowResult,
    WindowSettings,
    validate_messages,
)

__all__ = [
    "DEFAULT_TOOL_NOTE",
    "DEFAULT_TOOL_RULES",
    "PRESETS",
    "PROTECTED_ROLES",
    "ROLES",
    "STRATEGIES",
    "SUMMARY_PREFIX",
    "ContextWindow",
    "WindowReport",
    "WindowResult",
    "WindowSettings",
    "validate_messages",
]
