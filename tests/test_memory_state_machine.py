"""A Hypothesis state machine against a plain-dict model of what must be stored.

Invariants after every step: each user's memories equal the model's; search only ever returns
the caller's memories; no duplicates; the vector store and SQLite agree; every memory's history
starts with its ADD.
"""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)

from hybrid_memory import EventType, HybridMemory, MemoryConfig, MemoryNotFoundError
from hybrid_memory.models import normalize_text
from hybrid_memory.testing import HashingEmbedder

USERS = st.sampled_from(["alice", "bob", "carol"])
WORDS = st.sampled_from(
    ["apples", "boston", "cats", "dogs", "emacs", "fjords", "guitars", "hiking", "ink", "jazz"]
)
TEXTS = st.lists(WORDS, min_size=1, max_size=4).map(lambda ws: "note about " + " ".join(ws))

_EMBEDDER = HashingEmbedder()


class MemoryMachine(RuleBasedStateMachine):
    memories = Bundle("memories")

    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="hm-state-")
        self.mem = HybridMemory(MemoryConfig(data_dir=self.dir, embedder=_EMBEDDER))
        self.model: dict[str, dict[str, str]] = {"alice": {}, "bob": {}, "carol": {}}
        self.msg = 0

    def teardown(self):
        self.mem.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(target=memories, user=USERS, text=TEXTS)
    def add(self, user, text):
        self.msg += 1
        result = self.mem.add(
            {"role": "user", "content": text, "id": f"m{self.msg}"}, user_id=user, infer=False
        )
        (event,) = result.results
        existing = {normalize_text(t): i for i, t in self.model[user].items()}
        if normalize_text(text) in existing:
            assert event.event == EventType.NONE
            assert event.id == existing[normalize_text(text)]
        else:
            assert event.event == EventType.ADD
            self.model[user][event.id] = text
        return (user, event.id)

    @rule(ref=consumes(memories))
    def delete(self, ref):
        user, memory_id = ref
        if memory_id in self.model[user]:
            self.mem.delete(memory_id, user_id=user)
            del self.model[user][memory_id]
        else:
            try:
                self.mem.delete(memory_id, user_id=user)
            except MemoryNotFoundError:
                pass
            else:
                raise AssertionError("deleting a deleted memory succeeded")

    @rule(ref=memories, other=USERS, text=TEXTS)
    def update(self, ref, other, text):
        user, memory_id = ref
        if memory_id not in self.model[user]:
            return
        if other != user:
            try:
                self.mem.update(memory_id, text, user_id=other)
            except MemoryNotFoundError:
                return
            raise AssertionError("another user updated a memory")
        self.mem.update(memory_id, text, user_id=user)
        self.model[user][memory_id] = text

    @rule(user=USERS, query=WORDS)
    def search_stays_in_scope(self, user, query):
        hits = self.mem.search(query, user_id=user, limit=50)
        assert all(h.user_id == user for h in hits)
        assert {h.id for h in hits} <= set(self.model[user])
        assert len({h.id for h in hits}) == len(hits)

    @invariant()
    def stores_agree_with_the_model(self):
        total = 0
        for user, expected in self.model.items():
            got = {m.id: m.memory for m in self.mem.get_all(user_id=user)}
            assert got == expected
            total += len(got)
        assert self.mem.vectors.count() == total
        assert self.mem.records.pending() == []


MemoryMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMemoryMachine = MemoryMachine.TestCase


class InMemoryMachine(MemoryMachine):
    """The same rules and invariants on the in-memory reference backend."""

    def __init__(self):
        RuleBasedStateMachine.__init__(self)
        self.dir = tempfile.mkdtemp(prefix="hm-state-")
        self.mem = HybridMemory(
            MemoryConfig(
                data_dir=self.dir,
                embedder=_EMBEDDER,
                records={"kind": "memory"},
                vectors={"kind": "memory"},
            )
        )
        self.model = {"alice": {}, "bob": {}, "carol": {}}
        self.msg = 0


InMemoryMachine.TestCase.settings = MemoryMachine.TestCase.settings
TestInMemoryMachine = InMemoryMachine.TestCase
