"""The assistant loop: memory, context window, model, usage and session in one call.

For each user message, :meth:`Assistant.chat`:

1. loads the session (or creates it) from the :class:`~hybrid_memory.agent.sessions.SessionManager`;
2. asks :class:`~hybrid_memory.memory.HybridMemory` for the long-term memories relevant to the
   message (``get_context(..., tiers=("memories",))``: the session's own history is sent
   verbatim, so the memory's buffer and summary tiers would repeat it);
3. fits system prompt + memories + history + the message into the model's window with a
   :class:`~hybrid_memory.agent.window.ContextWindow` (tool schemas counted);
4. calls the model through :class:`~hybrid_memory.llm.LLMClient` (any OpenAI-compatible
   endpoint, bounded retries), runs the tools it asks for and calls it again, up to
   ``max_tool_rounds`` rounds, refitting the window before every call;
5. records usage (the response's real counts, else estimates) and compressions in a
   :class:`~hybrid_memory.agent.usage.UsageTracker`;
6. saves the turn to the session as events (user message, tool calls, tool results, reply),
   and adds the user message and the reply to long-term memory.

What the session keeps: ``Session.messages`` is the *working* history, the one the next request
starts from. When the window compresses (summary, compacted tool results, dropped turns), the
compressed history is saved, so compression happens once at the trigger and not on every later
call; the session's event log records the compression as a snapshot and still replays to the
saved state, and every original turn stays in long-term memory (``memory.get_messages``).

A turn is all or nothing: if the model fails, nothing of the turn is added to the history (an
``error`` event is logged) and :class:`~hybrid_memory.llm.LLMUnavailableError` is raised, so
sending the same message again does not duplicate it. Tools that already ran are not undone.
If another process saved the same session meanwhile, the turn's events are appended to that
newer version (the compression of this call is dropped; the next call redoes it).

Example:
    >>> llm = LLMConfig(model="gpt-4o-mini", api_key="sk-...")
    >>> assistant = Assistant(llm, memory=HybridMemory())  # doctest: +SKIP
    >>> turn = assistant.chat("I moved to Porto last month.", user_id="maya")  # doctest: +SKIP
    >>> turn.reply, turn.session_id, turn.prompt_tokens  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_memory.agent.memory_step import memory_message, remember
from hybrid_memory.agent.sessions import SessionManager
from hybrid_memory.agent.tools import ToolRun, check_tools, run_tool
from hybrid_memory.agent.turn import AssistantTurn, TurnDraft, api_message, call_dict, new_id
from hybrid_memory.agent.usage import USAGE_DB_FILENAME, UsageStats, UsageTracker, price_of
from hybrid_memory.agent.window import ContextWindow, WindowSettings
from hybrid_memory.errors import ConfigError, MessageFormatError, SessionConflictError
from hybrid_memory.llm import LLMClient, LLMConfig, LLMUnavailableError
from hybrid_memory.models import utcnow
from hybrid_memory.session_models import SessionEvent, SessionEventType, replay

if TYPE_CHECKING:
    from hybrid_memory.memory import HybridMemory
    from hybrid_memory.session_models import Session

__all__ = ["DEFAULT_SYSTEM_PROMPT", "MAX_MEMORY_TOKENS", "Assistant", "AssistantTurn", "ToolRun"]

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
MAX_MEMORY_TOKENS = 2_000


def _check_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int")
    return value


class Assistant:
    """A chat assistant with long-term memory, a managed context window and sessions.

    Args:
        llm: Where the model is: an :class:`~hybrid_memory.llm.LLMConfig` (any
            OpenAI-compatible ``base_url``) or a ready :class:`~hybrid_memory.llm.LLMClient`.
        memory: Long-term memory; ``None`` runs without it.
        sessions: Where sessions live; default SQLite in the memory's data dir (or
            ``./.hybrid_memory`` without memory).
        window: A :class:`ContextWindow` or its :class:`WindowSettings`; default the
            ``balanced`` preset for the model, summarizing with the memory's summarizer
            (LLM-written when the memory has a model, offline otherwise).
        system_prompt: The first message of every request.
        tools: OpenAI tool schemas sent with every request.
        tool_handlers: The function run for each tool name, called with the parsed arguments
            as keyword arguments; a non-string result is sent as JSON.
        usage: The tracker for calls and compressions; default the memory's (so the memory
            pipeline's own model calls sit beside the chat calls, under their own category).
        memory_tokens: Token budget of the memory message; default
            ``min(2000, limit // 10)``.
        max_tool_rounds: Tool rounds per turn before the model is asked to answer without
            tools (``tool_choice="none"``).
        remember: Add each turn (user message and reply) to long-term memory.

    Raises:
        ConfigError: A tool schema without a handler (or the reverse), or a bad setting.
    """

    def __init__(
        self,
        llm: LLMConfig | LLMClient,
        *,
        memory: HybridMemory | None = None,
        sessions: SessionManager | None = None,
        window: ContextWindow | WindowSettings | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_handlers: Mapping[str, Callable[..., Any]] | None = None,
        usage: UsageTracker | None = None,
        memory_tokens: int | None = None,
        max_tool_rounds: int = 8,
        remember: bool = True,
    ) -> None:
        if isinstance(llm, LLMConfig):
            llm = LLMClient(llm)
        if not isinstance(llm, LLMClient):
            raise ConfigError(f"llm must be an LLMConfig or an LLMClient, got {type(llm).__name__}")
        if not isinstance(system_prompt, str) or not system_prompt.strip():
            raise ConfigError("system_prompt must be a non-empty string")
        if _check_int("max_tool_rounds", max_tool_rounds) < 0:
            raise ConfigError(f"max_tool_rounds must be >= 0, got {max_tool_rounds}")
        self.llm = llm
        self.memory = memory
        self.system_prompt = system_prompt
        self.tools = [copy.deepcopy(dict(t)) for t in tools or ()]
        self.tool_handlers = dict(tool_handlers or {})
        check_tools(self.tools, self.tool_handlers)
        self.max_tool_rounds = max_tool_rounds
        self.remember = remember and memory is not None
        self.window = self._window(window)
        self.memory_tokens = self._memory_tokens(memory_tokens)
        self.sessions = sessions if sessions is not None else self._default_sessions()
        self.usage = usage if usage is not None else self._default_usage()
        if memory is not None and memory.on_usage is None:
            # The memory pipeline's own model calls land in the same tracker, attributed to
            # the session and user of the turn they serve.
            memory.on_usage = self.usage.record

    def _window(self, window: ContextWindow | WindowSettings | None) -> ContextWindow:
        if window is None or isinstance(window, WindowSettings):
            settings = window or WindowSettings(model=self.llm.model)
            summarizer = self.memory.summarizer if self.memory is not None else None
            window = ContextWindow(settings, summarizer=summarizer)
        if not isinstance(window, ContextWindow):
            raise ConfigError(
                f"window must be a ContextWindow or WindowSettings, got {type(window).__name__}"
            )
        return window

    def _memory_tokens(self, memory_tokens: int | None) -> int:
        limit = self.window.limit
        if memory_tokens is None:
            memory_tokens = min(MAX_MEMORY_TOKENS, limit // 10)
        if not 0 <= _check_int("memory_tokens", memory_tokens) < limit:
            raise ConfigError(
                f"memory_tokens must be in [0, {limit}) for this window, got {memory_tokens}"
            )
        return memory_tokens

    def _default_sessions(self) -> SessionManager:
        from stores.sessions import SQLiteSessionConfig, open_session_backend

        data_dir = (
            self.memory.config.data_dir if self.memory is not None else Path(".hybrid_memory")
        )
        return SessionManager(open_session_backend(SQLiteSessionConfig(data_dir=data_dir)))

    def _default_usage(self) -> UsageTracker:
        if self.memory is None:
            return UsageTracker()
        return UsageTracker(self.memory.config.data_dir / USAGE_DB_FILENAME)

    @property
    def model(self) -> str:
        """The model called."""
        return self.llm.model

    # -- the loop -------------------------------------------------------------------------------

    def chat(
        self,
        message: str,
        *,
        user_id: str,
        session_id: str | None = None,
        agent_id: str | None = None,
    ) -> AssistantTurn:
        """Answer one user message in a session (created when ``session_id`` is new or None).

        Raises:
            MessageFormatError: If ``message`` is not a non-empty string.
            ScopeError: If the session belongs to another user or agent.
            TokenBudgetError: If the system prompt, memories and message cannot fit the window
                (nothing of the turn is saved).
            LLMUnavailableError: If the model failed (an ``error`` event is logged; nothing of
                the turn is saved).
        """
        if not isinstance(message, str) or not message.strip():
            raise MessageFormatError(
                f"message must be a non-empty string, got {type(message).__name__}"
                + (f" {message!r}" if isinstance(message, str) else "")
            )
        if session_id is None:
            session = self.sessions.create(user_id, agent_id=agent_id)
        else:
            session = self.sessions.get_or_create(session_id, user_id=user_id, agent_id=agent_id)

        draft = TurnDraft(history=copy.deepcopy(session.messages))
        now = utcnow()
        user_event = SessionEvent.user_message(message, id=new_id())
        draft.emit(user_event)
        head = [{"role": "system", "content": self.system_prompt}]
        turn = AssistantTurn(session_id=session.id, reply="", limit=self.window.limit)
        if self.memory is not None and self.memory_tokens > 0:
            found = memory_message(
                self.memory,
                message,
                session,
                draft.history,
                turn,
                budget=self.memory_tokens,
                model=self.window.settings.model,
            )
            if found is not None:
                head.append(found)
        self._converse(session, head, draft, turn)
        self._save(session, draft.history, draft.events)
        turn.cost_usd = _cost(self.model, turn.prompt_tokens, turn.completion_tokens)
        if self.remember:
            assert self.memory is not None  # remember is only set with a memory
            remember(self.memory, self.usage, session, (user_event, draft.events[-1]), now, turn)
        return turn

    def _converse(
        self, session: Session, head: list[dict[str, Any]], draft: TurnDraft, turn: AssistantTurn
    ) -> None:
        """Call the model, run the tools it asks for and call it again, until it answers."""
        # tool_choice is only sent with tools ("none" forbids calls once the rounds are spent)
        tool_choice: str | None = "none" if self.tools and self.max_tool_rounds == 0 else None
        rounds = 0
        while True:
            content, calls = self._round(session, head, draft, turn, tool_choice)
            if calls and tool_choice is None and rounds < self.max_tool_rounds:
                self._run_tools(content, calls, draft, turn)
                rounds += 1
                if rounds >= self.max_tool_rounds and self.tools:
                    tool_choice = "none"
                continue
            if calls:
                draft.emit(
                    SessionEvent.error(
                        f"the model asked for tools again after {rounds} rounds with "
                        "tool_choice='none'; its tool calls were ignored"
                    )
                )
            turn.reply = content or ""
            draft.emit(SessionEvent.reply(turn.reply, id=new_id()))
            return

    def _round(
        self,
        session: Session,
        head: list[dict[str, Any]],
        draft: TurnDraft,
        turn: AssistantTurn,
        tool_choice: str | None,
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """One model call on the refitted history: the reply's text and tool calls."""
        # A request that cannot fit raises TokenBudgetError here, before any model call.
        fitted = self.window.fit(head + draft.history, self.tools or None)
        draft.history = fitted.messages[len(head) :]
        report = fitted.report
        if report.triggered and report.tokens_saved > 0:
            turn.compressions.append(report)
            self.usage.record_compression(
                report.tokens_before,
                report.tokens_after,
                session_id=session.id,
                user_id=session.user_id,
            )
        request = [api_message(m) for m in fitted.messages]
        turn.request_tokens.append(report.tokens_after)
        content, calls, response = self._call(session, request, tool_choice)
        turn.model_calls += 1
        prompt, completion = self.usage.record_call(
            self.model,
            request,
            content,
            response=response,
            tools=self.tools or None,
            category="chat",
            session_id=session.id,
            user_id=session.user_id,
        )
        turn.prompt_tokens += prompt
        turn.completion_tokens += completion
        return content, calls

    def _call(
        self, session: Session, request: list[dict[str, Any]], tool_choice: str | None
    ) -> tuple[str | None, list[dict[str, Any]], Any]:
        """One model call: the reply's text, its tool calls as dicts, and the raw response.
        A failure logs an ``error`` event in the session and raises LLMUnavailableError."""
        try:
            response = self.llm.complete(request, tools=self.tools or None, tool_choice=tool_choice)
            choices = getattr(response, "choices", None)
            if not choices or getattr(choices[0], "message", None) is None:
                raise ValueError("the reply has no choices[0].message")
            reply = choices[0].message
            calls = [call_dict(c) for c in reply.tool_calls or []]
            return reply.content, calls, response
        except LLMUnavailableError as exc:
            self._log_failure(session, exc)
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            self._log_failure(session, exc)
            raise LLMUnavailableError(
                f"the endpoint's reply could not be used: {type(exc).__name__}: {exc}"
            ) from exc

    def _run_tools(
        self,
        content: str | None,
        calls: list[dict[str, Any]],
        draft: TurnDraft,
        turn: AssistantTurn,
    ) -> None:
        if content:
            # Text beside tool calls: keep it on the same assistant message.
            draft.emit(SessionEvent.reply(content, tool_calls=calls, id=new_id()))
        else:
            for c in calls:
                fn = c["function"]
                draft.emit(SessionEvent.tool_call(c["id"], fn["name"], fn["arguments"]))
        for c in calls:
            fn = c["function"]
            run = run_tool(self.tool_handlers, c["id"], fn["name"], fn["arguments"])
            turn.tool_runs.append(run)
            if run.error:
                draft.emit(SessionEvent.error(run.error, tool_call_id=run.id, tool=run.name))
            draft.emit(SessionEvent.tool_result(run.id, run.result, id=new_id()))

    def _log_failure(self, session: Session, exc: Exception) -> None:
        with contextlib.suppress(SessionConflictError):
            self.sessions.record(
                session, [SessionEvent.error(f"model call failed: {type(exc).__name__}: {exc}")]
            )

    def _save(
        self, session: Session, history: list[dict[str, Any]], events: list[SessionEvent]
    ) -> None:
        """Save the turn as events on top of the (possibly compressed) earlier history."""
        turn_messages, _ = replay(events)
        n = len(turn_messages)
        logged = events
        if history[len(history) - n :] == turn_messages:
            session.messages = history[: len(history) - n]
        else:  # the window rewrote messages of this very turn: store the result as it is
            session.messages = history
            logged = [e for e in events if e.type in (SessionEventType.ERROR,)]
        try:
            self.sessions.save(session, events=logged)
        except SessionConflictError:
            # Someone saved the session meanwhile: append this turn to their version.
            self.sessions.update(session.id, lambda _: list(events))

    # -- inspection -----------------------------------------------------------------------------

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """The working history of a session (what the next request starts from)."""
        return self.sessions.get(session_id).messages

    def stats(self, *, session_id: str | None = None, user_id: str | None = None) -> UsageStats:
        """Usage, cost and compressions, optionally of one session and/or user."""
        return self.usage.stats(session_id=session_id, user_id=user_id)


def _cost(model: str, prompt: int, completion: int) -> float:
    price = price_of(model)
    return (prompt * price[0] + completion * price[1]) / 1e6 if price else 0.0
