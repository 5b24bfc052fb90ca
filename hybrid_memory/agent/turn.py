"""One turn of the assistant: what it reports (:class:`AssistantTurn`) and what it builds
(:class:`TurnDraft`, the history and the session events of the turn so far)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from hybrid_memory.agent.tools import ToolRun
from hybrid_memory.agent.window import WindowReport
from hybrid_memory.session_models import SessionEvent, apply_event

_API_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
"""The message keys sent to the model; others (our ``id``) stay in the session only."""


class AssistantTurn(BaseModel):
    """What one :meth:`Assistant.chat` did."""

    session_id: str
    reply: str
    tool_runs: list[ToolRun] = Field(default_factory=list)
    model_calls: int = 0
    prompt_tokens: int = 0
    """Input tokens of this turn's model calls (the endpoint's counts when it reports them)."""
    completion_tokens: int = 0
    cost_usd: float = 0.0
    request_tokens: list[int] = Field(default_factory=list)
    """Our exact count of each request sent (messages + tool schemas), each <= ``limit``."""
    limit: int
    """The window's limit: context window minus the tokens reserved for the reply."""
    compressions: list[WindowReport] = Field(default_factory=list)
    """The window reports of the calls that compressed the history."""
    memory_tokens: int = 0
    """Tokens of the long-term memory message sent with the first call."""
    memories: list[str] = Field(default_factory=list)
    """The long-term memories that message held."""
    memory_error: str | None = None
    """Set when adding the turn to long-term memory failed (the session was saved)."""


@dataclass
class TurnDraft:
    """The working history of a turn in progress and the session events that built it.

    Attributes:
        history: The session's messages plus the turn's so far (replaced by the window's
            fitted copy before every model call).
        events: The turn's events, in order, saved to the session at the end of the turn.
    """

    history: list[dict[str, Any]]
    events: list[SessionEvent] = field(default_factory=list)

    def emit(self, event: SessionEvent) -> None:
        """Apply ``event`` to the history and keep it for the save."""
        apply_event(self.history, {}, event)
        self.events.append(event)


def new_id() -> str:
    """A fresh message id (16 hex characters)."""
    return uuid.uuid4().hex[:16]


def api_message(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with only the keys the chat API takes."""
    return {k: v for k, v in message.items() if k in _API_KEYS}


def call_dict(call: Any) -> dict[str, Any]:
    """A tool call of the response as the dict the API takes back (an id made up if the
    endpoint sent none: a result must name its call)."""
    return {
        "id": call.id or f"call_{new_id()}",
        "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments or "{}"},
    }
