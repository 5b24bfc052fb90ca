"""The assistant's two steps with long-term memory: recall before the first model call, and
remember the turn (user message and reply) after the session was saved."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_memory.agent.turn import AssistantTurn
from hybrid_memory.agent.usage import UsageTracker
from hybrid_memory.errors import HybridMemoryError
from hybrid_memory.models import utcnow
from hybrid_memory.session_models import Session, SessionEvent

if TYPE_CHECKING:
    from hybrid_memory.memory import HybridMemory

logger = logging.getLogger(__name__)


def memory_message(
    memory: HybridMemory,
    message: str,
    session: Session,
    history: list[dict[str, Any]],
    turn: AssistantTurn,
    *,
    budget: int,
    model: str,
) -> dict[str, Any] | None:
    """The system message of the long-term memories relevant to ``message``, or ``None``.

    Only the ``memories`` tier is asked for: the session's own history is sent verbatim, so
    the memory's buffer and summary tiers would repeat it; messages already in ``history``
    (by id) are left out. Sets ``turn.memory_tokens`` and ``turn.memories``.
    """
    # A pasted document can exceed the search's query limit; the question is usually
    # at its end.
    query = message[-memory.config.limits.max_query_chars :]
    context = memory.get_context(
        query,
        user_id=session.user_id,
        agent_id=session.agent_id,
        token_budget=budget,
        model=model,
        tiers=("memories",),
        present_ids=[m["id"] for m in history if isinstance(m.get("id"), str)],
    )
    if not context.messages:
        return None
    turn.memory_tokens = context.tokens
    turn.memories = [hit.memory for hit in context.memories]
    return context.messages[0]


def remember(
    memory: HybridMemory,
    usage: UsageTracker,
    session: Session,
    events: tuple[SessionEvent, SessionEvent],
    when: datetime,
    turn: AssistantTurn,
) -> None:
    """Add the turn's user message and reply (``events``) to long-term memory.

    The memory pipeline's model calls are attributed to the session and its user. A failure
    is logged and kept in ``turn.memory_error``, never raised: the session is already saved.
    """
    user_event, reply_event = events
    messages = [
        {
            "role": "user",
            "content": user_event.payload["content"],
            "id": user_event.payload["id"],
            "timestamp": when,
        }
    ]
    if turn.reply.strip():
        messages.append(
            {
                "role": "assistant",
                "content": turn.reply,
                "id": reply_event.payload["id"],
                "timestamp": utcnow(),
            }
        )
    try:
        with usage.attribute(session_id=session.id, user_id=session.user_id):
            memory.add(
                messages,
                user_id=session.user_id,
                agent_id=session.agent_id,
                run_id=session.id,
            )
    except HybridMemoryError as exc:
        turn.memory_error = f"{type(exc).__name__}: {exc}"
        logger.warning("session %s: the turn was not added to memory: %s", session.id, exc)
