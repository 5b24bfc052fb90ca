"""LlamaIndex: a real ``Memory`` with our block puts the token-budgeted context of the current
message into its system message, and what it flushes out of its short-term queue is stored in
long-term memory and found again from another chat."""

from __future__ import annotations

import asyncio

from llama_index.core.llms import ChatMessage
from llama_index.core.memory import Memory

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.integrations.llamaindex import HybridMemoryBlock
from hybrid_memory.testing import HashingEmbedder
from hybrid_memory.tokens import TokenCounter


def test_the_memory_gets_the_context_of_the_current_message(tmp_path, real_embedder):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=real_embedder)) as memory:
        memory.add(
            [
                {"role": "user", "content": "I live in Lisbon.", "id": "m1"},
                {"role": "user", "content": "My dog is called Bolt.", "id": "m2"},
                {"role": "user", "content": "I play the violin on weekends.", "id": "m3"},
            ],
            user_id="ana",
            run_id="earlier",
        )
        block = HybridMemoryBlock(memory=memory, user_id="ana", token_budget=110)
        chat = Memory.from_defaults(session_id="chat-1", memory_blocks=[block])

        async def turn(text: str) -> list[ChatMessage]:
            await chat.aput(ChatMessage(role="user", content=text))
            return await chat.aget()

        messages = asyncio.run(turn("What is the name of my pet?"))
        system = messages[0]
        assert system.role == "system" and "Bolt" in system.content
        # The block stays within its budget (the framing instructions included).
        block_text = asyncio.run(block.aget([ChatMessage(role="user", content="my pet")]))
        assert TokenCounter.for_model("gpt-4o-mini").count_text(block_text) <= 110
        assert "Bolt" in block_text
        assert messages[-1].content == "What is the name of my pet?"
        # Another user's block sees nothing of ana's.
        other = HybridMemoryBlock(memory=memory, user_id="bob")
        assert asyncio.run(other.aget([ChatMessage(role="user", content="pet")])) == ""


def test_messages_flushed_by_the_memory_reach_long_term_memory(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as memory:
        block = HybridMemoryBlock(memory=memory, user_id="ana")
        chat = Memory.from_defaults(
            session_id="chat-1", memory_blocks=[block], token_limit=60, token_flush_size=20
        )

        async def talk() -> None:
            await chat.aput(ChatMessage(role="user", content="I work as a nurse in Porto."))
            await chat.aput(ChatMessage(role="assistant", content="Noted, a nurse in Porto."))
            for i in range(6):
                await chat.aput(ChatMessage(role="user", content=f"Filler message number {i}."))
                await chat.aput(ChatMessage(role="assistant", content=f"Reply {i}."))

        asyncio.run(talk())
        stored = [m.content for m in memory.get_messages(user_id="ana")]
        assert stored[:2] == ["I work as a nurse in Porto.", "Noted, a nurse in Porto."]
        assert memory.get_messages(user_id="ana", run_id="chat-1")  # the Memory's session
        # A new chat of the same user gets the fact from the first one.
        fresh = Memory.from_defaults(session_id="chat-2", memory_blocks=[block])
        asyncio.run(fresh.aput(ChatMessage(role="user", content="Where do I work as a nurse?")))
        assert "Porto" in asyncio.run(fresh.aget())[0].content
