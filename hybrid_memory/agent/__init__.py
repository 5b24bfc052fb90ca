"""The agent-loop toolkit: context window, sessions, the assistant loop and usage tracking.

Modules:

- :mod:`~hybrid_memory.agent.window`: :class:`ContextWindow` fits a chat request into a model's
  window (settings, report, the fit loop); :mod:`~hybrid_memory.agent.strategies` holds the
  strategies it composes.
- :mod:`~hybrid_memory.agent.sessions`: :class:`SessionManager`, sessions that survive restarts
  in any backend of :mod:`stores.sessions`; built from
  :mod:`~hybrid_memory.agent.session_lifecycle` (find, create, save, expiry),
  :mod:`~hybrid_memory.agent.session_save` (what one save checks and writes) and
  :mod:`~hybrid_memory.agent.session_export` (the JSON export document).
- :mod:`~hybrid_memory.agent.assistant`: :class:`Assistant`, memory + window + model + sessions
  in one ``chat()`` call; with :mod:`~hybrid_memory.agent.turn` (what a turn reports and
  builds), :mod:`~hybrid_memory.agent.tools` (running tool calls) and
  :mod:`~hybrid_memory.agent.memory_step` (recall and remember).
- :mod:`~hybrid_memory.agent.usage`: :class:`UsageTracker`, tokens and cost per session, user,
  category and model; :mod:`~hybrid_memory.agent.usage_stats` sums and draws them.
- :mod:`~hybrid_memory.agent.registry`: context windows and prices of common models.
- :mod:`~hybrid_memory.agent.demo`: ``python -m hybrid_memory.agent.demo``.

The memory product (:class:`~hybrid_memory.memory.HybridMemory`) does not depend on this
package; this package builds on it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybrid_memory.agent.assistant import Assistant, AssistantTurn
    from hybrid_memory.agent.sessions import SessionManager
    from hybrid_memory.agent.usage import UsageStats, UsageTracker
    from hybrid_memory.agent.window import ContextWindow, WindowReport, WindowSettings

# Imported on first use: the window alone should not pull in the HTTP client of the assistant.
_LAZY = {
    "Assistant": "hybrid_memory.agent.assistant",
    "AssistantTurn": "hybrid_memory.agent.assistant",
    "ContextWindow": "hybrid_memory.agent.window",
    "SessionManager": "hybrid_memory.agent.sessions",
    "UsageStats": "hybrid_memory.agent.usage",
    "UsageTracker": "hybrid_memory.agent.usage",
    "WindowReport": "hybrid_memory.agent.window",
    "WindowSettings": "hybrid_memory.agent.window",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hybrid_memory.agent' has no attribute {name!r}")


__all__ = [
    "Assistant",
    "AssistantTurn",
    "ContextWindow",
    "SessionManager",
    "UsageStats",
    "UsageTracker",
    "WindowReport",
    "WindowSettings",
]
