"""The assistant loop against a real HTTP server on 127.0.0.1 speaking the chat-completions
protocol with scripted replies (tool calls included), with the real chromadb, SQLite sessions and
token counting.

Every request the server receives is checked: it fits the window, the system prompt leads it,
no tool result is orphaned and no tool call lacks its result, the user turns keep their order,
and nothing of ours (message ids) leaks into the API payload.
"""

from __future__ import annotations

import json
import threading

import pytest

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.agent.assistant import Assistant
from hybrid_memory.agent.sessions import SessionManager
from hybrid_memory.agent.window import WindowSettings
from hybrid_memory.errors import (
    ConfigError,
    MessageFormatError,
    ScopeError,
    TokenBudgetError,
)
from hybrid_memory.llm import LLMConfig, LLMUnavailableError
from hybrid_memory.session_models import SessionEvent, SessionEventType
from hybrid_memory.testing import HashingEmbedder, Reply, ScriptedOpenAIServer
from hybrid_memory.tokens import TokenCounter
from stores.sessions import SQLiteSessionConfig, open_session_backend

SYSTEM = "You are a coding assistant. Use the tools to look at files before answering."
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file of the project.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "The file's path."}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "grep",
            "description": "Search the project for a pattern.",
            "parameters": {
                "type": "object",
                "properties": {"pattern": {"type": "string"}},
                "required": ["pattern"],
            },
        },
    },
]


def read_file(path: str) -> str:
    # ~900 tokens per file: a few reads fill the small test window
    return "\n".join(f"{path}:{i}: value_{i} = compute({i}, scale=0.{i % 10})" for i in range(90))


def grep(pattern: str) -> list[dict]:
    return [{"file": f"src/mod_{i}.py", "line": i, "text": f"{pattern} here"} for i in range(5)]


HANDLERS = {"read_file": read_file, "grep": grep}


def agent_model(body: dict) -> Reply:
    """A scripted agent: asks for a tool on 'read'/'find' requests, answers after results."""
    messages = body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        calls = sum(1 for m in messages if m["role"] == "tool")
        return Reply(content=f"Done: looked at {calls} tool results.", prompt_tokens=None)
    text = last.get("content") or ""
    n = sum(1 for m in messages if m["role"] == "user")
    if text.startswith("read"):
        path = text.split()[-1]
        return Reply(
            content=None,
            tool_calls=[
                {"id": f"call_{n}_{path}", "name": "read_file", "arguments": {"path": path}}
            ],
            prompt_tokens=None,
        )
    if text.startswith("find"):
        return Reply(
            content="Searching in parallel.",
            tool_calls=[
                {"id": f"call_{n}_a", "name": "grep", "arguments": {"pattern": "TODO"}},
                {"id": f"call_{n}_b", "name": "read_file", "arguments": {"path": "setup.cfg"}},
            ],
            prompt_tokens=None,
        )
    return Reply(content=f"Noted ({len(text)} characters).", prompt_tokens=None)


def script(i: int) -> str:
    if i % 3 == 0:
        return f"read src/file_{i}.py"
    if i % 7 == 1:
        return f"find the TODOs, round {i}"
    return f"Message {i}: the build should use option {i} and keep the cache warm."


def check_request(body: dict, limit: int, sent_users: list[str]) -> None:
    messages = body["messages"]
    counter = TokenCounter.for_model(body["model"])
    assert counter.count_messages(messages, body.get("tools")) <= limit
    assert messages[0] == {"role": "system", "content": SYSTEM}
    for m in messages:
        assert set(m) <= {"role", "content", "name", "tool_calls", "tool_call_id"}, m
    pending: set[str] = set()
    for m in messages:
        if m["role"] == "tool":
            assert m["tool_call_id"] in pending, "tool result without its call"
            pending.discard(m["tool_call_id"])
        else:
            assert not pending, "tool call without its result"
        if m["role"] == "assistant":
            pending |= {c["id"] for c in m.get("tool_calls") or []}
    assert not pending
    users = [m["content"] for m in messages if m["role"] == "user"]
    it = iter(sent_users)
    assert all(u in it for u in users), "user turns out of order"
    assert users[-1] == sent_users[-1]


@pytest.fixture
def memory(tmp_path):
    mem = HybridMemory(MemoryConfig(data_dir=tmp_path / "data", embedder=HashingEmbedder()))
    yield mem
    mem.close()


def make_assistant(server, memory, **kw) -> Assistant:
    kw.setdefault(
        "window",
        WindowSettings(model="gpt-4o-mini", context_window=6000, reserved_output_tokens=1000),
    )
    kw.setdefault("system_prompt", SYSTEM)
    return Assistant(
        LLMConfig(base_url=server.base_url, api_key="test", model="gpt-4o-mini", max_retries=0),
        memory=memory,
        tools=TOOLS,
        tool_handlers=HANDLERS,
        **kw,
    )


def test_sixty_turn_tool_heavy_conversation_fits_every_request(memory, tmp_path):
    with ScriptedOpenAIServer(agent_model) as server:
        assistant = make_assistant(server, memory)
        limit = assistant.window.limit
        sent: list[str] = []
        turns = []
        seen = 0
        for i in range(60):
            sent.append(script(i))
            turn = assistant.chat(sent[-1], user_id="dev", session_id="proj-1")
            turns.append(turn)
            for body in server.requests[seen:]:
                check_request(body, limit, sent)
            assert turn.model_calls == len(server.requests) - seen
            seen = len(server.requests)
            assert all(t <= limit for t in turn.request_tokens)

        # the conversation is far larger than the window, so the window had to work
        assert sum(len(t.compressions) for t in turns) >= 3
        assert sum(len(t.tool_runs) for t in turns) >= 25
        stats = assistant.stats(session_id="proj-1")
        assert stats.compression.compressions == sum(len(t.compressions) for t in turns)
        assert stats.compression.tokens_saved > 0
        chat = assistant.stats().by_category["chat"]
        assert chat.calls == len(server.requests) and chat.estimated_calls == 0
        # actual usage: the server reports the real size of each request
        assert chat.prompt_tokens == sum(
            TokenCounter.for_model("gpt-4o-mini").count_messages(b["messages"], b.get("tools"))
            for b in server.requests
        )
        assert stats.by_user["dev"].calls >= chat.calls
        assert chat.cost_usd == pytest.approx(
            (chat.prompt_tokens * 0.15 + chat.completion_tokens * 0.60) / 1e6
        )
        assert sum(t.prompt_tokens for t in turns) == chat.prompt_tokens

        # the session replays from its event log, and every turn reached long-term memory
        manager = assistant.sessions
        session = manager.get("proj-1")
        assert manager.replay("proj-1") == (session.messages, session.state)
        types = {e.type for e in manager.events("proj-1")}
        assert {
            SessionEventType.USER_MESSAGE,
            SessionEventType.TOOL_CALL,
            SessionEventType.TOOL_RESULT,
            SessionEventType.REPLY,
            SessionEventType.SNAPSHOT,
        } <= types
        stored = memory.get_messages(user_id="dev", run_id="proj-1")
        assert [m.content for m in stored if m.role == "user"] == sent
        assert len(stored) == 120

        # a restart: a new assistant over the same files continues the same history
        again = Assistant(
            LLMConfig(base_url=server.base_url, api_key="test", model="gpt-4o-mini"),
            memory=memory,
            sessions=SessionManager(
                open_session_backend(SQLiteSessionConfig(data_dir=tmp_path / "data"))
            ),
            system_prompt=SYSTEM,
            tools=TOOLS,
            tool_handlers=HANDLERS,
            window=assistant.window,
        )
        before = len(again.history("proj-1"))
        again.chat("one more thing", user_id="dev", session_id="proj-1")
        assert server.requests[-1]["messages"][1:-1] != []
        assert len(again.history("proj-1")) == before + 2


def test_long_term_memory_reaches_a_new_session(tmp_path, real_embedder):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=real_embedder)) as memory:
        with ScriptedOpenAIServer(lambda body: "Okay.") as server:
            assistant = Assistant(
                LLMConfig(base_url=server.base_url, api_key="t", model="gpt-4o-mini"),
                memory=memory,
            )
            first = assistant.chat("I'm allergic to peanuts.", user_id="maya")
            assistant.chat(
                "I moved to Porto last month.", user_id="maya", session_id=first.session_id
            )
            second = assistant.chat("Which snacks should I buy for the trip?", user_id="maya")
            assert second.session_id != first.session_id
            request = server.requests[-1]["messages"]
            assert request[1]["role"] == "system" and "peanut" in request[1]["content"]
            assert any("peanut" in m for m in second.memories)
            assert 0 < second.memory_tokens <= assistant.memory_tokens
            # another user's memories never appear
            other = assistant.chat("Which snacks should I buy?", user_id="bob")
            assert other.memories == []
            assert "peanut" not in json.dumps(server.requests[-1]["messages"])


def test_model_failure_saves_nothing_of_the_turn(memory):
    state = {"fail": False}

    def model(body):
        return Reply(status=500, content="overloaded") if state["fail"] else "Fine."

    with ScriptedOpenAIServer(model) as server:
        assistant = make_assistant(server, memory)
        assistant.chat("hello there", user_id="u", session_id="s")
        before = assistant.history("s")
        state["fail"] = True
        with pytest.raises(LLMUnavailableError):
            assistant.chat("this one fails", user_id="u", session_id="s")
        assert assistant.history("s") == before
        events = assistant.sessions.events("s")
        assert events[-1].type is SessionEventType.ERROR
        assert "500" in events[-1].payload["message"] or "failed" in events[-1].payload["message"]
        assert "this one fails" not in [m.content for m in memory.get_messages(user_id="u")]
        state["fail"] = False
        assistant.chat("this one fails", user_id="u", session_id="s")
        users = [m["content"] for m in assistant.history("s") if m["role"] == "user"]
        assert users == ["hello there", "this one fails"]


def test_model_failure_before_first_turn(memory):
    state = {"fail": False}

    def model(body):
        return Reply(status=500, content="overloaded") if state["fail"] else "Fine."

    with ScriptedOpenAIServer(model) as server:
        assistant = make_assistant(server, memory)
        state["fail"] = True
        with pytest.raises(LLMUnavailableError):
            assistant.chat("hello there", user_id="u", session_id="s")
        assert assistant.history("s") == []


def test_tool_failures_are_reported_to_the_model(memory):
    replies = [
        Reply(
            content=None,
            tool_calls=[
                {"id": "c1", "name": "delete_everything", "arguments": {}},
                {"id": "c2", "name": "read_file", "arguments": "{not json"},
                {"id": "c3", "name": "read_file", "arguments": {"wrong": 1}},
                {"id": "c4", "name": "grep", "arguments": {"pattern": "x"}},
            ],
        ),
        Reply(content="I could only grep."),
    ]
    with ScriptedOpenAIServer(replies) as server:
        assistant = make_assistant(server, memory)
        turn = assistant.chat("do things", user_id="u", session_id="s")
        assert turn.reply == "I could only grep."
        errors = {r.id: r.error for r in turn.tool_runs}
        assert "unknown tool 'delete_everything'" in errors["c1"]
        assert "not valid JSON" in errors["c2"]
        assert "read_file raised TypeError" in errors["c3"]
        assert errors["c4"] is None
        results = {
            m["tool_call_id"]: m["content"]
            for m in server.requests[1]["messages"]
            if m["role"] == "tool"
        }
        assert results["c1"].startswith("error: unknown tool")
        assert json.loads(results["c4"])[0]["file"] == "src/mod_0.py"
        logged = [e for e in assistant.sessions.events("s") if e.type is SessionEventType.ERROR]
        assert {e.payload["tool_call_id"] for e in logged} == {"c1", "c2", "c3"}


def test_tool_rounds_are_bounded(memory):
    def always_tools(body):
        n = len(body["messages"])
        return Reply(
            content=None,
            tool_calls=[{"id": f"c{n}", "name": "grep", "arguments": {"pattern": "a"}}],
        )

    with ScriptedOpenAIServer(always_tools) as server:
        assistant = make_assistant(server, memory, max_tool_rounds=3)
        turn = assistant.chat("loop forever", user_id="u", session_id="s")
        assert turn.model_calls == 4 and len(turn.tool_runs) == 3
        assert [b.get("tool_choice") for b in server.requests] == [None, None, None, "none"]
        assert turn.reply == ""
        history = assistant.history("s")
        assert history[-1] == {"role": "assistant", "content": "", "id": history[-1]["id"]}
        events = assistant.sessions.events("s")
        assert any("tool_choice='none'" in e.payload.get("message", "") for e in events)

        no_tools = make_assistant(server, memory, max_tool_rounds=0)
        turn = no_tools.chat("loop forever", user_id="u", session_id="s0")
        assert turn.model_calls == 1 and turn.tool_runs == []
        assert server.requests[-1]["tool_choice"] == "none"


def test_bad_input_is_refused_before_anything_is_written(memory):
    with ScriptedOpenAIServer(lambda body: "ok") as server:
        assistant = make_assistant(server, memory)
        assistant.chat("hi", user_id="u", session_id="s")
        before = (assistant.history("s"), len(server.requests))
        for bad in ("", "   ", None, 42, ["hi"]):
            with pytest.raises(MessageFormatError):
                assistant.chat(bad, user_id="u", session_id="s")
        with pytest.raises(ScopeError, match="belongs to user 'u'"):
            assistant.chat("let me in", user_id="intruder", session_id="s")
        huge = "word " * 20_000
        with pytest.raises(TokenBudgetError):
            assistant.chat(huge, user_id="u", session_id="s")
        assert (assistant.history("s"), len(server.requests)) == before

        with pytest.raises(TokenBudgetError, match="system prompts"):
            make_assistant(server, memory, system_prompt="long " * 6000).chat(
                "hi", user_id="u", session_id="s2"
            )
        with pytest.raises(ConfigError, match="no handler for"):
            Assistant(LLMConfig(base_url=server.base_url, api_key="t"), tools=TOOLS)
        with pytest.raises(ConfigError, match="no schema for"):
            Assistant(LLMConfig(base_url=server.base_url, api_key="t"), tool_handlers=HANDLERS)
        with pytest.raises(ConfigError, match="memory_tokens"):
            make_assistant(server, memory, memory_tokens=10**6)
        with pytest.raises(ConfigError, match="max_tool_rounds"):
            make_assistant(server, memory, max_tool_rounds=-1)
        with pytest.raises(ConfigError, match="tool 0"):
            Assistant(
                LLMConfig(base_url=server.base_url, api_key="t"),
                tools=[{"name": "x"}],
                tool_handlers={"x": print},
            )


def test_a_concurrent_save_is_merged_not_lost(memory, tmp_path):
    other = SessionManager(open_session_backend(SQLiteSessionConfig(data_dir=tmp_path / "data")))
    once = threading.Event()

    def model(body):
        if not once.is_set():
            once.set()
            # another process writes to the same session while the model is thinking
            other.update("s", lambda s: [SessionEvent.user_message("from the other process")])
        return "answer"

    with ScriptedOpenAIServer(lambda body: "first") as warmup:
        make_assistant(warmup, memory).chat("start", user_id="u", session_id="s")
    with ScriptedOpenAIServer(model) as server:
        assistant = make_assistant(server, memory)
        assistant.chat("my turn", user_id="u", session_id="s")
        users = [m["content"] for m in assistant.history("s") if m["role"] == "user"]
        assert users == ["start", "from the other process", "my turn"]
        assert assistant.history("s")[-1]["content"] == "answer"
        session = assistant.sessions.get("s")
        assert assistant.sessions.replay("s") == (session.messages, session.state)


def test_memory_pipeline_calls_are_attributed_to_the_session(tmp_path):
    def pipeline(body):
        return '{"facts": []}'

    with (
        ScriptedOpenAIServer(pipeline) as mem_server,
        ScriptedOpenAIServer(lambda body: "Hello!") as chat_server,
    ):
        llm = LLMConfig(base_url=mem_server.base_url, api_key="t", max_retries=0)
        with HybridMemory(
            MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder(), llm=llm)
        ) as memory:
            assistant = make_assistant(chat_server, memory)
            assistant.chat(
                "I work at Lumen Labs as a data analyst.", user_id="ana", session_id="s1"
            )
            stats = assistant.stats(session_id="s1")
            assert stats.by_category["chat"].calls == 1
            pipeline_calls = sum(t.calls for c, t in stats.by_category.items() if c != "chat")
            assert pipeline_calls == len(mem_server.requests) >= 1
            assert stats.by_user["ana"].calls == 1 + pipeline_calls


def test_agent_demo_runs_offline_and_recalls_across_sessions(tmp_path, capsys, real_embedder):
    from hybrid_memory.agent import demo as agent_demo

    assert agent_demo.main(["--data-dir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    # the replies are scripted, but they depend on what the memory put into the request
    assert "you deploy on Fridays." in out
    assert "Test against billing_stage." in out
    assert "compressed" in out and "tokens saved" in out
    assert "billing-thursday" in out and "priya" in out
