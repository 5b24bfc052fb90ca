"""OpenAI Agents SDK: :class:`HybridMemorySession`, a ``Session`` kept in our session stores
that also feeds long-term memory, and :func:`memory_tools` (remember / recall) for agents that
manage their memory themselves.

The session keeps every item the runner gives it in a
:class:`~hybrid_memory.agent.sessions.SessionManager` session (SQLite, PostgreSQL, Redis or
JSON files): each item is stored as the chat message it amounts to (a message, an assistant
turn calling a function, a tool result) carrying the item itself under ``"agents_item"``, so
``get_items`` returns exactly the items added, in order, after a restart too. Items of other
types (reasoning, hosted tool calls...) are kept verbatim as empty assistant turns. A session
written by another part of the package (the ``Assistant``, the LangChain history) is read as
the items its messages amount to (text messages, function calls and their outputs).
With a ``memory``, the text of user and assistant messages is also added to long-term memory
(``run_id`` = the session id), where facts are extracted and found from every other session
of the user; ``clear_session`` deletes the session, not what long-term memory learnt.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from hybrid_memory.agent.sessions import SessionManager
from hybrid_memory.errors import HybridMemoryError, SessionNotFoundError
from hybrid_memory.integrations._extras import missing_extra, sync_memory
from hybrid_memory.models import content_hash
from hybrid_memory.session_models import Session

try:
    from agents import FunctionTool, function_tool
    from agents.memory.session_settings import SessionSettings, resolve_session_limit
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise missing_extra("OpenAI Agents SDK", "openai-agents", exc) from exc

__all__ = ["HybridMemorySession", "memory_tools"]

logger = logging.getLogger(__name__)
ITEM_KEY = "agents_item"
_CHAT_ROLES = ("user", "assistant", "system", "developer")


class HybridMemorySession:
    """An Agents SDK ``Session`` over our session stores, feeding long-term memory.

    Args:
        session_id: the conversation (created on the first items).
        sessions: where sessions are kept (``SessionManager(open_session_backend(...))``).
        user_id: whose conversation; a session of another user is refused (``ScopeError``).
        agent_id: optionally, which agent's.
        memory: a HybridMemory (or AsyncHybridMemory) fed with user and assistant text.
        session_settings: the SDK's settings (``limit``: items ``get_items`` returns).

    Example:
        >>> session = HybridMemorySession("chat-1", sessions=sessions, user_id="alice")
        >>> await Runner.run(agent, "Hi, I'm Alice.", session=session)
    """

    def __init__(
        self,
        session_id: str,
        *,
        sessions: SessionManager,
        user_id: str,
        agent_id: str | None = None,
        memory: Any = None,
        session_settings: SessionSettings | None = None,
    ) -> None:
        self.session_id = session_id
        self.sessions = sessions
        self.user_id = user_id
        self.agent_id = agent_id
        self.memory = sync_memory(memory) if memory is not None else None
        self.session_settings = session_settings
        self.memory_error: str | None = None
        """The last failure to add items to long-term memory (the session was saved)."""

    async def get_items(self, limit: int | None = None) -> list[Any]:
        """The items, oldest first; the latest ``limit`` when given (or set in the settings)."""
        limit = resolve_session_limit(limit, self.session_settings)
        session = await asyncio.to_thread(self.sessions.find, self.session_id)
        items = [i for m in (session.messages if session else []) for i in _items(m)]
        return items[-limit:] if limit is not None and limit > 0 else items

    async def add_items(self, items: list[Any]) -> None:
        """Append items to the session (one save), then feed long-term memory.

        Raises:
            MessageFormatError: an item that is not valid as chat (e.g. a function output
                answering no earlier call); nothing was saved.
            ScopeError: the session belongs to another user or agent.
        """
        if items:
            await asyncio.to_thread(self._add, [dict(i) for i in items])

    def _add(self, items: list[dict[str, Any]]) -> None:
        stored = [_chat(item) for item in items]
        self.sessions.get_or_create(self.session_id, user_id=self.user_id, agent_id=self.agent_id)
        start = 0

        def append(session: Session) -> None:
            nonlocal start
            start = len(session.messages)
            session.messages.extend(stored)

        self.sessions.update(self.session_id, append)
        self._remember(stored, start)

    async def pop_item(self) -> Any | None:
        """Remove and return the latest item (``None`` when there is none)."""
        return await asyncio.to_thread(self._pop)

    def _pop(self) -> Any | None:
        if self.sessions.find(self.session_id) is None:
            return None
        popped: list[Any] = []

        def pop(session: Session) -> None:
            popped[:] = _items(session.messages.pop())[-1:] if session.messages else []

        self.sessions.update(self.session_id, pop)
        return popped[0] if popped else None

    async def clear_session(self) -> None:
        """Delete the session (long-term memory keeps what it learnt)."""
        await asyncio.to_thread(self._clear)

    def _clear(self) -> None:
        try:
            self.sessions.delete(self.session_id)
        except SessionNotFoundError:
            pass  # clearing an empty session is not an error

    def _remember(self, stored: list[dict[str, Any]], start: int) -> None:
        if self.memory is None:
            return
        chat = [
            {
                "role": m["role"],
                "content": m["content"],
                # Item ids are not unique (chat-completions models give every item the same
                # placeholder id): the position and the text name the message.
                "id": f"{self.session_id}-{start + i}-{content_hash(m['content'])[:8]}",
            }
            for i, m in enumerate(stored)
            if m["role"] in ("user", "assistant") and not m.get("tool_calls") and m["content"]
        ]
        if not chat:
            return
        try:
            self.memory.add(
                chat, user_id=self.user_id, agent_id=self.agent_id, run_id=self.session_id
            )
            self.memory_error = None
        except HybridMemoryError as exc:
            # The session is saved; adding the same items again (same ids) finishes it.
            self.memory_error = f"{type(exc).__name__}: {exc}"
            logger.warning("session %s: not added to memory: %s", self.session_id, exc)


def _chat(item: dict[str, Any]) -> dict[str, Any]:
    """The chat message an item amounts to, carrying the item itself."""
    kind = item.get("type")
    if kind in (None, "message") and item.get("role") in _CHAT_ROLES:
        chat: dict[str, Any] = {"role": item["role"], "content": _text(item.get("content"))}
    elif kind == "function_call":
        call = {"name": item.get("name"), "arguments": item.get("arguments") or "{}"}
        chat = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": item.get("call_id"), "type": "function", "function": call}],
        }
    elif kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        chat = {"role": "tool", "tool_call_id": item.get("call_id"), "content": text}
    else:
        chat = {"role": "assistant", "content": ""}
    return {**chat, ITEM_KEY: item}


def _items(message: dict[str, Any]) -> list[Any]:
    """The items a stored message holds: the item added, or for a message another part of
    the package wrote (the Assistant, the LangChain history), the items it amounts to."""
    if ITEM_KEY in message:
        return [message[ITEM_KEY]]
    if message.get("role") == "tool":
        return [
            {
                "type": "function_call_output",
                "call_id": message.get("tool_call_id"),
                "output": _text(message.get("content")),
            }
        ]
    calls = [
        {
            "type": "function_call",
            "call_id": call.get("id"),
            "name": call.get("function", {}).get("name"),
            "arguments": call.get("function", {}).get("arguments") or "{}",
        }
        for call in message.get("tool_calls") or []
    ]
    text = _text(message.get("content"))
    said = [{"role": message["role"], "content": text}] if text or not calls else []
    return said + calls


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "\n".join(
        str(p.get("text") or p.get("refusal") or "") for p in parts if isinstance(p, dict)
    ).strip()


def memory_tools(
    memory: Any, *, user_id: str, agent_id: str | None = None, limit: int = 5
) -> list[FunctionTool]:
    """Two function tools bound to one scope: ``remember(text)`` stores a memory,
    ``recall(query)`` returns the most relevant memories with their dates and scores.

    The scope is fixed here, never chosen by the model, so an agent only ever reads and
    writes the memories of the user it serves.

    Example:
        >>> agent = Agent(name="assistant", tools=memory_tools(memory, user_id="alice"))
    """
    mem = sync_memory(memory)

    async def remember(text: str) -> str:
        """Store something worth remembering about the user, in a short sentence."""
        result = await asyncio.to_thread(
            mem.add, {"role": "user", "content": text}, user_id=user_id, agent_id=agent_id
        )
        stored = [e.memory for e in result.results if e.event.value in ("ADD", "UPDATE")]
        return "remembered: " + "; ".join(stored) if stored else "already known"

    async def recall(query: str) -> str:
        """Look up what is remembered about the user that answers the query."""
        hits = await asyncio.to_thread(
            mem.search, query, user_id=user_id, agent_id=agent_id, limit=limit
        )
        if not hits:
            return "nothing remembered about that"
        lines = []
        for hit in hits:
            when = (hit.event_time or hit.created_at).date().isoformat()
            lines.append(f"- {hit.memory} ({when}, score {hit.score:.2f})")
        return "\n".join(lines)

    return [function_tool(remember), function_tool(recall)]
