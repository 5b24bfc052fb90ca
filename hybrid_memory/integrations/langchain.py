"""LangChain: a chat message history over our sessions, and a retriever over ``search``.

- :class:`HybridMemoryChatMessageHistory` keeps a conversation in a
  :class:`~hybrid_memory.agent.sessions.SessionManager` session (SQLite, PostgreSQL, Redis or
  JSON files; it survives restarts, saves are compare-and-set). Each message is stored as an
  OpenAI chat message that also carries LangChain's own form under ``"langchain"``, so
  ``messages`` gives back exactly the messages added (ids, names, tool calls, metadata); a
  session another part of the package wrote (the ``Assistant``) reads as converted messages.
  With a ``memory``, the text of human and AI messages also goes to long-term memory
  (``run_id`` = the session id), where facts are extracted and found from other sessions.
  ``clear()`` deletes the session; what long-term memory learnt from it stays.
- :class:`HybridMemoryRetriever` returns the hits of :meth:`HybridMemory.search` as
  ``Document``s: the memory's text as ``page_content``; its id, score (higher = more
  relevant, 0-1), sources, dates, kind, status and metadata in ``metadata``. ``k`` (or
  ``invoke(query, k=...)``) is the number of hits; ``filters`` and ``threshold`` are
  :meth:`~HybridMemory.search`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from hybrid_memory.agent.sessions import SessionManager
from hybrid_memory.errors import HybridMemoryError, SessionNotFoundError
from hybrid_memory.integrations._extras import missing_extra, sync_memory
from hybrid_memory.models import MemoryHit, content_hash
from hybrid_memory.session_models import Session

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.documents import Document
    from langchain_core.messages import (
        BaseMessage,
        convert_to_messages,
        convert_to_openai_messages,
        message_to_dict,
        messages_from_dict,
    )
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise missing_extra("LangChain", "langchain", exc) from exc

__all__ = ["HybridMemoryChatMessageHistory", "HybridMemoryRetriever"]

logger = logging.getLogger(__name__)
LANGCHAIN_KEY = "langchain"
_ROLES = {"human": "user", "ai": "assistant"}


class HybridMemoryChatMessageHistory(BaseChatMessageHistory):
    """A LangChain chat history kept in one of our sessions.

    Args:
        sessions: where sessions are kept (``SessionManager(open_session_backend(...))``).
        session_id: the conversation (created on the first message).
        user_id: whose conversation; a session of another user is refused (``ScopeError``).
        agent_id: optionally, which agent's.
        memory: a HybridMemory (or AsyncHybridMemory) fed with the human and AI messages.

    Example:
        >>> history = HybridMemoryChatMessageHistory(sessions, "chat-1", user_id="alice")
        >>> history.add_user_message("Hi!")
        >>> history.messages
        [HumanMessage(content='Hi!', ...)]
    """

    def __init__(
        self,
        sessions: SessionManager,
        session_id: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        memory: Any = None,
    ) -> None:
        self.sessions = sessions
        self.session_id = session_id
        self.user_id = user_id
        self.agent_id = agent_id
        self.memory = sync_memory(memory) if memory is not None else None
        self.memory_error: str | None = None
        """The last failure to add messages to long-term memory (the session was saved)."""

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The messages added so far, oldest first, as they were added."""
        session = self.sessions.find(self.session_id)
        if session is None:
            return []
        return [_message(m) for m in session.messages]

    async def aget_messages(self) -> list[BaseMessage]:
        """:attr:`messages` in a worker thread."""
        return await asyncio.to_thread(lambda: self.messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` to the session (one save), then feed long-term memory.

        Raises:
            MessageFormatError: a message that is not valid chat (e.g. a tool result answering
                no earlier tool call); nothing was saved.
            ScopeError: the session belongs to another user or agent.
        """
        stored = [_stored(m) for m in messages]
        self.sessions.get_or_create(self.session_id, user_id=self.user_id, agent_id=self.agent_id)
        start = 0

        def append(session: Session) -> None:
            nonlocal start
            start = len(session.messages)
            session.messages.extend(stored)

        self.sessions.update(self.session_id, append)
        self._remember(messages, start)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """:meth:`add_messages` in a worker thread."""
        await asyncio.to_thread(self.add_messages, messages)

    def clear(self) -> None:
        """Delete the session (long-term memory keeps what it learnt)."""
        try:
            self.sessions.delete(self.session_id)
        except SessionNotFoundError:
            pass  # clearing an empty history is not an error

    async def aclear(self) -> None:
        """:meth:`clear` in a worker thread."""
        await asyncio.to_thread(self.clear)

    def _remember(self, messages: Sequence[BaseMessage], start: int) -> None:
        if self.memory is None:
            return
        chat = [
            {
                "role": _ROLES[m.type],
                "content": m.text,
                "id": m.id or f"{self.session_id}-{start + i}-{content_hash(m.text)[:8]}",
                **({"name": m.name} if m.name else {}),
            }
            for i, m in enumerate(messages)
            if m.type in _ROLES and m.text.strip()
        ]
        if not chat:
            return
        try:
            self.memory.add(
                chat, user_id=self.user_id, agent_id=self.agent_id, run_id=self.session_id
            )
            self.memory_error = None
        except HybridMemoryError as exc:
            # The session is saved; the same messages (same ids) can be added again later.
            self.memory_error = f"{type(exc).__name__}: {exc}"
            logger.warning("session %s: not added to memory: %s", self.session_id, exc)


def _message(stored: dict[str, Any]) -> BaseMessage:
    """The LangChain message a stored one holds, or for a message another part of the
    package wrote (the Assistant, the Agents SDK session), its conversion."""
    if LANGCHAIN_KEY in stored:
        return messages_from_dict([stored[LANGCHAIN_KEY]])[0]
    keys = ("role", "content", "tool_calls", "tool_call_id", "name")
    chat = {k: stored[k] for k in keys if stored.get(k) is not None}
    chat.setdefault("content", "")
    return convert_to_messages([chat])[0]


def _stored(message: BaseMessage) -> dict[str, Any]:
    """The chat form of ``message`` with LangChain's exact form under ``"langchain"``."""
    chat = convert_to_openai_messages(message)
    assert isinstance(chat, dict)  # one message in, one out
    return {**chat, LANGCHAIN_KEY: message_to_dict(message)}


class HybridMemoryRetriever(BaseRetriever):
    """A LangChain retriever over :meth:`HybridMemory.search` within one scope.

    Attributes:
        memory: the HybridMemory (or AsyncHybridMemory) searched.
        user_id / agent_id / run_id: the scope searched (at least one).
        k: hits per query (``invoke(query, k=2)`` overrides it).
        filters / threshold / include_superseded: as :meth:`HybridMemory.search` takes them.

    Example:
        >>> retriever = HybridMemoryRetriever(memory=memory, user_id="alice", k=3)
        >>> retriever.invoke("Where does Alice live?")[0].metadata["score"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Any
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    k: int = 4
    filters: dict[str, Any] | None = None
    threshold: float | None = None
    include_superseded: bool | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        hits = sync_memory(self.memory).search(
            query,
            user_id=self.user_id,
            agent_id=self.agent_id,
            run_id=self.run_id,
            limit=kwargs.get("k", self.k),
            filters=kwargs.get("filters", self.filters),
            threshold=kwargs.get("threshold", self.threshold),
            include_superseded=self.include_superseded,
        )
        return [hit_document(hit) for hit in hits]


def hit_document(hit: MemoryHit) -> Document:
    """A search hit as a LangChain ``Document`` (its fields in ``metadata``, JSON-ready)."""
    fields = hit.model_dump(mode="json", exclude={"memory", "hash", "score_details"})
    return Document(page_content=hit.memory, id=hit.id, metadata=fields)
