"""``add(..., defer=True)``: the messages are stored now and turned into memories later,
exactly once, by an add of the same messages or by ``reprocess`` (what a service's
background jobs are built on)."""

from __future__ import annotations

import pytest

from hybrid_memory import HybridMemory
from hybrid_memory.errors import MessageFormatError
from hybrid_memory.testing import HashingEmbedder

SAID = [
    {"role": "user", "content": "I moved to Boston last spring.", "id": "m1"},
    {"role": "user", "content": "I love sushi.", "id": "m2"},
]


def open_memory(tmp_path) -> HybridMemory:
    return HybridMemory(data_dir=tmp_path / "m", embedder=HashingEmbedder())


def test_a_deferred_add_stores_the_messages_and_extracts_nothing(tmp_path):
    with open_memory(tmp_path) as memory:
        stored = memory.add(SAID, user_id="ana", defer=True)
        assert stored.message_ids == ["m1", "m2"] and stored.results == []
        assert [m.id for m in memory.get_messages(user_id="ana")] == ["m1", "m2"]
        assert memory.get_all(user_id="ana") == []


def test_the_same_add_later_finishes_it_once(tmp_path):
    with open_memory(tmp_path) as memory:
        memory.add(SAID, user_id="ana", defer=True, metadata={"source": "chat"})
        done = memory.add(SAID, user_id="ana")
        assert done.results and done.message_ids == ["m1", "m2"]
        first = sorted(m.memory for m in memory.get_all(user_id="ana"))
        assert all(m.metadata == {"source": "chat"} for m in memory.get_all(user_id="ana"))
        assert memory.add(SAID, user_id="ana").results == []
        assert memory.reprocess(user_id="ana").results == []
        assert sorted(m.memory for m in memory.get_all(user_id="ana")) == first
        assert len(memory.get_messages(user_id="ana")) == 2


def test_reopening_finishes_deferred_messages_with_the_offline_pipeline(tmp_path):
    with open_memory(tmp_path) as memory:
        memory.add(SAID, user_id="ana", defer=True)
    with open_memory(tmp_path) as memory:
        recovered = sorted(m.memory for m in memory.get_all(user_id="ana"))
        assert any("Boston" in text for text in recovered)
        assert memory.add(SAID, user_id="ana").results == []
        assert sorted(m.memory for m in memory.get_all(user_id="ana")) == recovered


def test_a_deferred_add_checks_its_input_first(tmp_path):
    with open_memory(tmp_path) as memory:
        with pytest.raises(MessageFormatError, match="role"):
            memory.add([{"role": "robot", "content": "x"}], user_id="ana", defer=True)
        assert memory.get_messages(user_id="ana") == []
