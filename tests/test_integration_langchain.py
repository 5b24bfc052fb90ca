"""LangChain: the chat history keeps messages exactly in every session backend, across a
restart, per user, and feeds long-term memory; the retriever passes langchain-tests' standard
retriever suite and returns our scores, sources and dates, ranked by meaning."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_tests.integration_tests import RetrieversIntegrationTests

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.errors import MessageFormatError, ScopeError
from hybrid_memory.integrations.langchain import (
    HybridMemoryChatMessageHistory,
    HybridMemoryRetriever,
)
from hybrid_memory.testing import HashingEmbedder
from tests.integration_sessions import open_sessions  # noqa: F401 - the fixture

CONVERSATION = [
    SystemMessage("You are terse."),
    HumanMessage("I moved to Porto last month.", id="h1", name="Ana"),
    AIMessage(
        "",
        id="a1",
        tool_calls=[{"id": "call-1", "name": "weather", "args": {"city": "Porto"}}],
    ),
    ToolMessage("sunny, 24C", tool_call_id="call-1"),
    AIMessage("Porto is sunny today.", id="a2", response_metadata={"model": "x"}),
]


@pytest.fixture
def memory(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as m:
        yield m


def test_history_keeps_exactly_what_was_added_across_a_restart(open_sessions, memory):  # noqa: F811
    history = HybridMemoryChatMessageHistory(
        open_sessions(), "chat-1", user_id="ana", memory=memory
    )
    assert history.messages == []
    history.add_messages(CONVERSATION[:2])
    history.add_messages(CONVERSATION[2:])
    history.add_user_message("And tomorrow?")
    reopened = HybridMemoryChatMessageHistory(open_sessions(), "chat-1", user_id="ana")
    assert reopened.messages == [*CONVERSATION, HumanMessage("And tomorrow?")]
    # The session itself holds chat messages other tools of the package read.
    session = open_sessions().get("chat-1")
    assert [m["role"] for m in session.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    # Human and AI text went to long-term memory, found from any other run of the user.
    assert "Porto" in " ".join(h.memory for h in memory.search("Porto", user_id="ana"))
    assert history.memory_error is None
    reopened.clear()
    assert history.messages == [] and reopened.messages == []
    reopened.clear()  # clearing again is fine


def test_history_async_methods_and_users_kept_apart(open_sessions):  # noqa: F811
    sessions = open_sessions()
    history = HybridMemoryChatMessageHistory(sessions, "chat-2", user_id="ana")

    async def run():
        await history.aadd_messages([HumanMessage("hello"), AIMessage("hi")])
        got = await history.aget_messages()
        await history.aclear()
        return got, await history.aget_messages()

    got, after = asyncio.run(run())
    assert got == [HumanMessage("hello"), AIMessage("hi")] and after == []
    history.add_user_message("mine")
    intruder = HybridMemoryChatMessageHistory(sessions, "chat-2", user_id="bob")
    with pytest.raises(ScopeError):
        intruder.add_user_message("theirs")
    # A tool result that answers no call is refused and nothing is saved.
    with pytest.raises(MessageFormatError):
        history.add_messages([ToolMessage("orphan", tool_call_id="nope")])
    assert history.messages == [HumanMessage("mine")]


def seeded(memory: HybridMemory) -> HybridMemory:
    memory.add(
        [
            {"role": "user", "content": "I adopted a cat named Miso.", "id": "m1"},
            {"role": "user", "content": "I work as a nurse in Lisbon.", "id": "m2"},
            {"role": "user", "content": "My sister plays the cello.", "id": "m3"},
            {"role": "user", "content": "I am allergic to peanuts.", "id": "m4"},
        ],
        user_id="ana",
    )
    return memory


# pytest-asyncio runs in strict mode: the class mark lets it run the suite's coroutine test
# (overriding a standard test is not allowed); on the others the mark has nothing to do.
@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:.*is marked with '@pytest.mark.asyncio'")
class TestRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' own retriever suite, run against our retriever."""

    @pytest.fixture(autouse=True)
    def _memory(self, tmp_path):
        config = MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())
        with HybridMemory(config) as m:
            self.memory = seeded(m)
            yield

    @property
    def retriever_constructor(self) -> type[HybridMemoryRetriever]:
        return HybridMemoryRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self.memory, "user_id": "ana"}

    @property
    def retriever_query_example(self) -> str:
        return "What does Ana do for work?"


def test_retriever_documents_carry_our_fields_and_rank_by_meaning(tmp_path, real_embedder):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "r", embedder=real_embedder)) as memory:
        seeded(memory)
        retriever = HybridMemoryRetriever(memory=memory, user_id="ana", k=2)
        docs = retriever.invoke("Which pet does she have?")
        assert len(docs) == 2 and "Miso" in docs[0].page_content
        meta = docs[0].metadata
        assert meta["sources"] == ["m1"] and docs[0].id == meta["id"]
        assert 0 < meta["score"] <= 1 and meta["score"] >= docs[1].metadata["score"]
        assert meta["user_id"] == "ana" and meta["kind"] in ("fact", "entity", "observation")
        assert isinstance(meta["created_at"], str)
        assert HybridMemoryRetriever(memory=memory, user_id="bob").invoke("cat") == []
        with pytest.raises(ScopeError):
            HybridMemoryRetriever(memory=memory).invoke("cat")
