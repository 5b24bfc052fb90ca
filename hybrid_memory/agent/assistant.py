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
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from hybrid_memory.agent.sessions import SessionManager
from hybrid_memory.agent.usage import USAGE_DB_FILENAME, UsageStats, UsageTracker
from hybrid_memory.agent.window import ContextWindow, WindowReport, WindowSettings
from hybrid_memory.errors import (
    ConfigError,
    HybridMemoryError,
    MessageFormatError,
    SessionConflictError,
)
from hybrid_memory.llm import LLMClient, LLMConfig, LLMUnavailableError
from hybrid_memory.models import utcnow
from hybrid_memory.session_models import SessionEvent, SessionEventType, apply_event, replay

if TYPE_CHECKING:
    from hybrid_memory.memory import HybridMemory
    from hybrid_memory.session_models import Session

logger = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
MAX_MEMORY_TOKENS = 2_000
_API_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
"""The message keys sent to the model; others (our ``id``) stay in the session only."""


class ToolRun(BaseModel):
    """One tool call the assistant executed."""

    id: str
    name: str
    arguments: str
    result: str
    error: str | None = None
    """Set when the tool was unknown, its arguments were not a JSON object, or it raised."""


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
        if isinstance(max_tool_rounds, bool) or not isinstance(max_tool_rounds, int):
            raise ConfigError("max_tool_rounds must be an int")
        if max_tool_rounds < 0:
            raise ConfigError(f"max_tool_rounds must be >= 0, got {max_tool_rounds}")
        self.llm = llm
        self.memory = memory
        self.system_prompt = system_prompt
        self.tools = [copy.deepcopy(dict(t)) for t in tools or ()]
        self.tool_handlers = dict(tool_handlers or {})
        self._check_tools()
        self.max_tool_rounds = max_tool_rounds
        self.remember = remember and memory is not None
        if window is None or isinstance(window, WindowSettings):
            settings = window or WindowSettings(model=llm.model)
            summarizer = memory.summarizer if memory is not None else None
            window = ContextWindow(settings, summarizer=summarizer)
        if not isinstance(window, ContextWindow):
            raise ConfigError(
                f"window must be a ContextWindow or WindowSettings, got {type(window).__name__}"
            )
        self.window = window
        if memory_tokens is None:
            memory_tokens = min(MAX_MEMORY_TOKENS, window.limit // 10)
        if isinstance(memory_tokens, bool) or not isinstance(memory_tokens, int):
            raise ConfigError("memory_tokens must be an int")
        if not 0 <= memory_tokens < window.limit:
            raise ConfigError(
                f"memory_tokens must be in [0, {window.limit}) for this window, got {memory_tokens}"
            )
        self.memory_tokens = memory_tokens
        if sessions is None:
            from stores.sessions import SQLiteSessionConfig, open_session_backend

            data_dir = memory.config.data_dir if memory is not None else ".hybrid_memory"
            sessions = SessionManager(open_session_backend(SQLiteSessionConfig(data_dir=data_dir)))
        self.sessions = sessions
        if usage is None:
            usage = (
                UsageTracker(memory.config.data_dir / USAGE_DB_FILENAME)
                if memory is not None
                else UsageTracker()
            )
        self.usage = usage
        if memory is not None and memory.on_usage is None:
            # The memory pipeline's own model calls land in the same tracker, attributed to
            # the session and user of the turn they serve.
            memory.on_usage = usage.record

    def _check_tools(self) -> None:
        names = []
        for i, tool in enumerate(self.tools):
            fn = tool.get("function") if tool.get("type", "function") == "function" else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise ConfigError(
                    f"tool {i} must be an OpenAI tool schema "
                    '{"type": "function", "function": {"name": ..., "parameters": {...}}}'
                )
            names.append(fn["name"])
        missing = sorted(set(names) - set(self.tool_handlers))
        extra = sorted(set(self.tool_handlers) - set(names))
        if missing or extra:
            raise ConfigError(
                f"every tool needs a handler and every handler a schema: no handler for "
                f"{missing}, no schema for {extra}"
            )
        for name, handler in self.tool_handlers.items():
            if not callable(handler):
                raise ConfigError(f"the handler of tool {name!r} is not callable")

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

        history = copy.deepcopy(session.messages)
        events: list[SessionEvent] = []

        def emit(event: SessionEvent) -> None:
            apply_event(history, {}, event)
            events.append(event)

        now = utcnow()
        user_event = SessionEvent.user_message(message, id=_new_id())
        emit(user_event)
        head = [{"role": "system", "content": self.system_prompt}]
        turn = AssistantTurn(session_id=session.id, reply="", limit=self.window.limit)
        memory_message = self._memory_message(message, session, history, turn)
        if memory_message is not None:
            head.append(memory_message)

        # tool_choice is only sent with tools ("none" forbids calls once the rounds are spent)
        tool_choice: str | None = "none" if self.tools and self.max_tool_rounds == 0 else None
        rounds = 0
        while True:
            # A request that cannot fit raises TokenBudgetError here, before any model call.
            fitted = self.window.fit(head + history, self.tools or None)
            history = fitted.messages[len(head) :]
            report = fitted.report
            if report.triggered and report.tokens_saved > 0:
                turn.compressions.append(report)
                self.usage.record_compression(
                    report.tokens_before,
                    report.tokens_after,
                    session_id=session.id,
                    user_id=session.user_id,
                )
            request = [_api_message(m) for m in fitted.messages]
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
            if calls and tool_choice is None and rounds < self.max_tool_rounds:
                self._run_tools(content, calls, emit, turn)
                rounds += 1
                if rounds >= self.max_tool_rounds and self.tools:
                    tool_choice = "none"
                continue
            if calls:
                emit(
                    SessionEvent.error(
                        f"the model asked for tools again after {rounds} rounds with "
                        "tool_choice='none'; its tool calls were ignored"
                    )
                )
            turn.reply = content or ""
            emit(SessionEvent.reply(turn.reply, id=_new_id()))
            break

        self._save(session, history, events)
        turn.cost_usd = _cost(self.model, turn.prompt_tokens, turn.completion_tokens)
        if self.remember:
            self._remember(session, user_event, turn.reply, events[-1], now, turn)
        return turn

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
            calls = [_call_dict(c) for c in reply.tool_calls or []]
            return reply.content, calls, response
        except LLMUnavailableError as exc:
            self._log_failure(session, exc)
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            self._log_failure(session, exc)
            raise LLMUnavailableError(
                f"the endpoint's reply could not be used: {type(exc).__name__}: {exc}"
            ) from exc

    def _memory_message(
        self, message: str, session: Session, history: list[dict[str, Any]], turn: AssistantTurn
    ) -> dict[str, Any] | None:
        if self.memory is None or self.memory_tokens == 0:
            return None
        # A pasted document can exceed the search's query limit; the question is usually
        # at its end.
        query = message[-self.memory.config.limits.max_query_chars :]
        context = self.memory.get_context(
            query,
            user_id=session.user_id,
            agent_id=session.agent_id,
            token_budget=self.memory_tokens,
            model=self.window.settings.model,
            tiers=("memories",),
            present_ids=[m["id"] for m in history if isinstance(m.get("id"), str)],
        )
        if not context.messages:
            return None
        turn.memory_tokens = context.tokens
        turn.memories = [hit.memory for hit in context.memories]
        return context.messages[0]

    def _run_tools(
        self,
        content: str | None,
        calls: list[dict[str, Any]],
        emit: Callable[[SessionEvent], None],
        turn: AssistantTurn,
    ) -> None:
        if content:
            # Text beside tool calls: keep it on the same assistant message.
            emit(SessionEvent.reply(content, tool_calls=calls, id=_new_id()))
        else:
            for c in calls:
                fn = c["function"]
                emit(SessionEvent.tool_call(c["id"], fn["name"], fn["arguments"]))
        for c in calls:
            run = self._run_tool(c["id"], c["function"]["name"], c["function"]["arguments"])
            turn.tool_runs.append(run)
            if run.error:
                emit(SessionEvent.error(run.error, tool_call_id=run.id, tool=run.name))
            emit(SessionEvent.tool_result(run.id, run.result, id=_new_id()))

    def _run_tool(self, call_id: str, name: str, arguments: str) -> ToolRun:
        def failed(error: str) -> ToolRun:
            return ToolRun(
                id=call_id, name=name, arguments=arguments, result=f"error: {error}", error=error
            )

        handler = self.tool_handlers.get(name)
        if handler is None:
            return failed(f"unknown tool {name!r}; available: {sorted(self.tool_handlers)}")
        try:
            args = json.loads(arguments or "{}")
        except ValueError as exc:
            return failed(f"the arguments are not valid JSON ({exc}); send a JSON object")
        if not isinstance(args, dict):
            return failed("the arguments must be a JSON object")
        try:
            result = handler(**args)
        except Exception as exc:  # a tool's failure is reported to the model, not raised
            return failed(f"{name} raised {type(exc).__name__}: {exc}")
        if not isinstance(result, str):
            result = json.dumps(result, ensure_ascii=False, default=str)
        return ToolRun(id=call_id, name=name, arguments=arguments, result=result)

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

    def _remember(
        self,
        session: Session,
        user_event: SessionEvent,
        reply: str,
        reply_event: SessionEvent,
        when: Any,
        turn: AssistantTurn,
    ) -> None:
        assert self.memory is not None
        messages = [
            {
                "role": "user",
                "content": user_event.payload["content"],
                "id": user_event.payload["id"],
                "timestamp": when,
            }
        ]
        if reply.strip():
            messages.append(
                {
                    "role": "assistant",
                    "content": reply,
                    "id": reply_event.payload["id"],
                    "timestamp": utcnow(),
                }
            )
        try:
            with self.usage.attribute(session_id=session.id, user_id=session.user_id):
                self.memory.add(
                    messages,
                    user_id=session.user_id,
                    agent_id=session.agent_id,
                    run_id=session.id,
                )
        except HybridMemoryError as exc:
            turn.memory_error = f"{type(exc).__name__}: {exc}"
            logger.warning("session %s: the turn was not added to memory: %s", session.id, exc)

    # -- inspection -----------------------------------------------------------------------------

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """The working history of a session (what the next request starts from)."""
        return self.sessions.get(session_id).messages

    def stats(self, *, session_id: str | None = None, user_id: str | None = None) -> UsageStats:
        """Usage, cost and compressions, optionally of one session and/or user."""
        return self.usage.stats(session_id=session_id, user_id=user_id)


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _api_message(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k in _API_KEYS}


def _call_dict(call: Any) -> dict[str, Any]:
    """A tool call of the response as the dict the API takes back (an id made up if the
    endpoint sent none: a result must name its call)."""
    return {
        "id": call.id or f"call_{_new_id()}",
        "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments or "{}"},
    }


def _cost(model: str, prompt: int, completion: int) -> float:
    from hybrid_memory.agent.usage import price_of

    price = price_of(model)
    return (prompt * price[0] + completion * price[1]) / 1e6 if price else 0.0
