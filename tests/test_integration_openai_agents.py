"""OpenAI Agents SDK: a real ``Runner`` against a scripted OpenAI-protocol server on 127.0.0.1;
our session holds the items across two runs (and a restart, in every session backend), feeds
long-term memory, and the remember / recall tools store and find memories of one user."""

from __future__ import annotations

import asyncio
import json

import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
from agents.memory import Session
from agents.tool_context import ToolContext
from openai import AsyncOpenAI

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.errors import MessageFormatError, ScopeError
from hybrid_memory.integrations.openai_agents import HybridMemorySession, memory_tools
from hybrid_memory.testing import HashingEmbedder, Reply, ScriptedOpenAIServer
from tests.integration_sessions import open_sessions  # noqa: F401 - the fixture

set_tracing_disabled(True)  # traces would be sent to OpenAI's servers


@pytest.fixture
def memory(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as m:
        yield m


def agent_for(server: ScriptedOpenAIServer, **kw) -> Agent:
    client = AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    return Agent(name="assistant", instructions="Be brief.", model=model, **kw)


def sent(request: dict) -> list[tuple[str, str]]:
    return [(m["role"], m.get("content") or "") for m in request["messages"]]


def test_the_session_holds_the_items_across_two_runs(open_sessions, memory):  # noqa: F811
    replies = ["Nice to meet you, Ana.", "You live in Porto."]

    async def scenario(server: ScriptedOpenAIServer) -> HybridMemorySession:
        # One event loop for the whole test: the HTTP client belongs to the loop it ran on.
        agent = agent_for(server)
        first = HybridMemorySession(
            "chat-1", sessions=open_sessions(), user_id="ana", memory=memory
        )
        out = await Runner.run(agent, "I'm Ana and I live in Porto.", session=first)
        assert out.final_output == "Nice to meet you, Ana."
        # A new process: the same session id on a freshly opened store.
        again = HybridMemorySession(
            "chat-1", sessions=open_sessions(), user_id="ana", memory=memory
        )
        out = await Runner.run(agent, "Where do I live?", session=again)
        assert out.final_output == "You live in Porto."
        return again

    with ScriptedOpenAIServer(replies) as server:
        again = asyncio.run(scenario(server))
        assert sent(server.requests[1])[1:] == [
            ("user", "I'm Ana and I live in Porto."),
            ("assistant", "Nice to meet you, Ana."),
            ("user", "Where do I live?"),
        ]
    assert isinstance(again, Session)  # the SDK's runtime-checkable protocol
    items = asyncio.run(again.get_items())
    assert [i.get("role") for i in items] == ["user", "assistant", "user", "assistant"]
    assert asyncio.run(again.get_items(limit=1)) == items[-1:]
    # User and assistant text went to long-term memory, found from any other run.
    assert "Porto" in " ".join(h.memory for h in memory.search("Porto", user_id="ana"))
    assert again.memory_error is None
    assert asyncio.run(again.pop_item()) == items[-1]
    assert asyncio.run(again.get_items()) == items[:-1]
    asyncio.run(again.clear_session())
    assert asyncio.run(again.get_items()) == [] and asyncio.run(again.pop_item()) is None
    asyncio.run(again.clear_session())  # clearing again is fine


def test_function_calls_are_kept_and_sessions_stay_with_their_user(open_sessions):  # noqa: F811
    sessions = open_sessions()
    session = HybridMemorySession("chat-2", sessions=sessions, user_id="ana")
    items = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        {"type": "reasoning", "id": "r1", "summary": []},
        {
            "type": "message",
            "role": "assistant",
            "id": "__fake_id__",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Sunny.", "annotations": []}],
        },
    ]
    asyncio.run(session.add_items(items))
    assert asyncio.run(session.get_items()) == items
    with pytest.raises(MessageFormatError):
        asyncio.run(session.add_items([{"type": "function_call_output", "call_id": "x"}]))
    assert asyncio.run(session.get_items()) == items  # nothing of the refused add was saved
    intruder = HybridMemorySession("chat-2", sessions=sessions, user_id="bob")
    with pytest.raises(ScopeError):
        asyncio.run(intruder.add_items([{"role": "user", "content": "hi"}]))


def tool_call(name: str, arguments: dict) -> Reply:
    return Reply(
        content=None, tool_calls=[{"id": f"call-{name}", "name": name, "arguments": arguments}]
    )


def test_remember_and_recall_tools_store_and_find_memories_of_one_user(memory):
    script = [
        tool_call("remember", {"text": "Ana is allergic to peanuts."}),
        "I'll remember that.",
        tool_call("recall", {"query": "peanuts allergy"}),
        "You are allergic to peanuts.",
    ]

    async def scenario(server: ScriptedOpenAIServer) -> str:
        agent = agent_for(server, tools=memory_tools(memory, user_id="ana"))
        await Runner.run(agent, "Remember: I'm allergic to peanuts.")
        assert "peanuts" in " ".join(m.memory for m in memory.get_all(user_id="ana"))
        return (await Runner.run(agent, "What am I allergic to?")).final_output

    with ScriptedOpenAIServer(script) as server:
        assert asyncio.run(scenario(server)) == "You are allergic to peanuts."
        tool_result = server.requests[3]["messages"][-1]
        assert tool_result["role"] == "tool" and "peanuts" in tool_result["content"]
        assert "score" in tool_result["content"]
        schema = {t["function"]["name"] for t in server.requests[0]["tools"]}
        assert schema == {"remember", "recall"}
    # The tools are bound to ana: another user's tools find nothing of hers.
    bob = {t.name: t for t in memory_tools(memory, user_id="bob")}
    args = json.dumps({"query": "peanuts"})
    ctx = ToolContext(context=None, tool_name="recall", tool_call_id="c", tool_arguments=args)
    found = asyncio.run(bob["recall"].on_invoke_tool(ctx, args))
    assert found == "nothing remembered about that"


def test_sessions_written_by_the_langchain_history_read_as_items_and_back(open_sessions):  # noqa: F811
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    from hybrid_memory.integrations.langchain import HybridMemoryChatMessageHistory

    sessions = open_sessions()
    history = HybridMemoryChatMessageHistory(sessions, "chat-3", user_id="ana")
    history.add_messages([HumanMessage("hi"), AIMessage("hello")])
    session = HybridMemorySession("chat-3", sessions=sessions, user_id="ana")
    assert asyncio.run(session.get_items()) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    call = {"type": "function_call", "call_id": "c1", "name": "clock", "arguments": "{}"}
    asyncio.run(
        session.add_items(
            [call, {"type": "function_call_output", "call_id": "c1", "output": "9:00"}]
        )
    )
    last = history.messages[-2:]
    assert isinstance(last[0], AIMessage) and last[0].tool_calls[0]["name"] == "clock"
    assert isinstance(last[1], ToolMessage) and last[1].content == "9:00"
    assert asyncio.run(session.pop_item())["type"] == "function_call_output"
