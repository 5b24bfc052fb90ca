"""The write path: model calls and reads first, then one short transaction.

A slow model for one user must never hold the store: no request reaches the model while a write
transaction is open, and writers of other users go on meanwhile. A plan made stale by another
writer is refused at commit and nothing of it is written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from hybrid_memory import EventType, HybridMemory, MemoryConfig
from hybrid_memory.fallback import Fallback
from hybrid_memory.llm import LLMConfig
from hybrid_memory.memory.commit import commit
from hybrid_memory.memory.consolidate import AddOptions
from hybrid_memory.memory.extract import extract
from hybrid_memory.memory.plan import Plan, PlanConflict
from hybrid_memory.models import Message, Scope, utcnow
from hybrid_memory.testing import HashingEmbedder, ScriptedOpenAIServer


def write_locked(db_path) -> bool:
    """Whether another connection holds a write transaction on the database right now."""
    probe = sqlite3.connect(str(db_path), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        probe.close()


def test_no_model_call_happens_inside_a_write_transaction(tmp_path):
    data = tmp_path / "m"
    locked_during_calls: list[bool] = []
    ana_waiting, others_done = threading.Event(), threading.Event()

    def model(body: dict) -> str:
        prompt = body["messages"][0]["content"]
        locked_during_calls.append(write_locked(data / "memory.db"))
        if prompt.startswith("You extract"):
            fact = {
                "text": "Ana lives in Porto.",
                "sources": ["a1"],
                "attribute": "home",
                "subject": "Ana",
                "single_valued": True,
            }
            return json.dumps({"facts": [fact]})
        if prompt.startswith("You maintain"):
            # Ana's consolidation is slow: it waits until the other user's writes are done
            # (or gives up after 20 s, which fails the test below).
            ana_waiting.set()
            others_done.wait(20)
            return '{"event": "ADD", "id": null, "text": null, "reason": "new"}'
        return "summary"

    with ScriptedOpenAIServer(model) as server:
        llm = LLMConfig(base_url=server.base_url, api_key="t", model="gpt-4o-mini", timeout=30)
        memory = HybridMemory(MemoryConfig(data_dir=data, embedder=HashingEmbedder(), llm=llm))
        memory.add("I like green tea.", user_id="bo", infer=False)  # something to update later
        (bo_memory,) = memory.get_all(user_id="bo")
        ana_say = {"role": "user", "name": "Ana", "content": "I live in Porto.", "id": "a1"}
        memory.add({**ana_say, "id": "a0", "content": "I live in Lisbon."}, user_id="ana")
        adder = threading.Thread(target=memory.add, args=(ana_say,), kwargs={"user_id": "ana"})
        adder.start()
        assert ana_waiting.wait(20), "Ana's add never reached consolidation"
        started = time.perf_counter()
        memory.add("I walk my dog every morning.", user_id="bo", infer=False)
        memory.update(bo_memory.id, "I like black tea.", user_id="bo")
        memory.delete(bo_memory.id, user_id="bo")
        took = time.perf_counter() - started
        others_done.set()
        adder.join(30)
        assert not adder.is_alive()
        facts = [m.memory for m in memory.get_all(user_id="ana")]
        memory.close()
    assert took < 10, f"another user's writes waited {took:.1f}s for a model call"
    assert locked_during_calls and not any(locked_during_calls)
    assert "Ana lives in Porto." in facts


def test_a_stale_plan_writes_nothing(tmp_path):
    """A plan that changes a memory another writer changed meanwhile is refused."""
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as mem:
        mem.add({"role": "user", "name": "Ana", "content": "I live in Lisbon."}, user_id="ana")
        scope = Scope(user_id="ana")
        msg = Message(role="user", name="Ana", content="I live in Porto.", id="p1")
        with mem.records.unit_of_work() as uow:
            uow.insert_turn(scope, msg, 5, utcnow(), {})
        plan = Plan(scope=scope, now=utcnow(), extracted=["p1"])
        fallback = Fallback()
        candidates = extract(mem.pipeline, fallback, [], scope, [msg], [], infer=True)
        mem._ingest.consolidation.plan(plan, candidates, AddOptions(metadata={}), fallback)
        (update,) = [e for e in plan.events if e.event == EventType.UPDATE]
        assert update.previous_memory == "Ana lives in Lisbon."
        # Another writer changes the memory the plan updates.
        mem.update(update.id, "Ana lives in Lisbon, near the river.", user_id="ana")
        before = mem.export(user_id="ana")
        with pytest.raises(PlanConflict):
            commit(mem.records, plan)
        assert mem.export(user_id="ana") == before
        # The add path re-plans on a conflict: reprocessing the message now applies it.
        done = mem.reprocess(user_id="ana")
        assert [e.memory for e in done.events(EventType.UPDATE)] == ["Ana lives in Porto."]
        assert [e.previous_memory for e in done.events(EventType.UPDATE)] == [
            "Ana lives in Lisbon, near the river."
        ]
