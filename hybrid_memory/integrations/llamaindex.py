"""LlamaIndex: :class:`HybridMemoryBlock`, a memory block of a LlamaIndex ``Memory``.

Each time the ``Memory`` is read (``memory.aget()``/``get()``, as an agent does before every
model call), the block asks :meth:`HybridMemory.get_context` for the context of the current
query (the last user message): the relevant long-term memories with their dates, packed into
``token_budget`` tokens, which the ``Memory`` inserts into the system message. What the
``Memory`` hands the block (messages flushed out of its short-term queue, or ``aput`` called
directly) is added to long-term memory, where facts are extracted and consolidated.

By default only the ``memories`` tier is asked for: the ``Memory`` already sends the recent
chat itself. ``tiers=("memories", "summary")`` adds the running summary of ``run_id``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hybrid_memory.integrations._extras import missing_extra, sync_memory

try:
    from llama_index.core.base.llms.types import ChatMessage, MessageRole
    from llama_index.core.memory.memory import BaseMemoryBlock
    from pydantic import ConfigDict, Field
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise missing_extra("LlamaIndex", "llamaindex", exc) from exc

__all__ = ["HybridMemoryBlock"]

_ROLES = {MessageRole.USER: "user", MessageRole.ASSISTANT: "assistant"}


class HybridMemoryBlock(BaseMemoryBlock[str]):
    """A LlamaIndex memory block backed by :class:`HybridMemory`.

    Attributes:
        memory: the HybridMemory (or AsyncHybridMemory).
        user_id / agent_id / run_id: the scope (at least one); without ``run_id``, the messages
            put are stored under the ``Memory``'s session id as the run.
        token_budget: tokens of ``model`` the block's context may take.
        tiers: which tiers of the context to include.

    Example:
        >>> block = HybridMemoryBlock(memory=memory, user_id="alice", token_budget=400)
        >>> chat_memory = Memory.from_defaults(session_id="chat-1", memory_blocks=[block])
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "hybrid_memory"
    description: str | None = "Long-term memories relevant to the current message."
    memory: Any = Field(description="The HybridMemory behind the block.")
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    token_budget: int = Field(default=500, ge=1)
    model: str = "gpt-4o-mini"
    tiers: tuple[str, ...] = ("memories",)

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        """The context of the last user message ("" when there is none or nothing fits)."""
        query = next(
            (m.content for m in reversed(messages or []) if m.role == MessageRole.USER),
            None,
        )
        if not query or not query.strip():
            return ""
        memory = sync_memory(self.memory)
        context = await asyncio.to_thread(
            memory.get_context,
            query[-memory.config.limits.max_query_chars :],
            user_id=self.user_id,
            agent_id=self.agent_id,
            run_id=self.run_id or block_kwargs.get("session_id"),
            token_budget=self.token_budget,
            model=self.model,
            tiers=self.tiers,
        )
        if not (context.memories or context.summary or context.recent):
            return ""
        return "\n\n".join(str(m["content"]) for m in context.messages)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        """Add the user and assistant messages with text to long-term memory."""
        chat = [
            {"role": _ROLES[m.role], "content": m.content}
            for m in messages
            if m.role in _ROLES and m.content and m.content.strip()
        ]
        if not chat:
            return
        run_id = self.run_id or next(
            (m.additional_kwargs.get("session_id") for m in messages if m.additional_kwargs),
            None,
        )
        await asyncio.to_thread(
            sync_memory(self.memory).add,
            chat,
            user_id=self.user_id,
            agent_id=self.agent_id,
            run_id=run_id,
        )
