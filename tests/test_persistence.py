"""Durability: restarts, crashes between the SQLite commit and the vector write, embedder checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from hybrid_memory import EmbedderMismatchError, HybridMemory, MemoryConfig
from hybrid_memory.testing import HashingEmbedder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code: str, data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYBRID_MEMORY_DATA_DIR": str(data_dir), "PYTHONPATH": ROOT}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_memories_survive_a_process_restart(tmp_path):
    data = tmp_path / "data"
    writer = run_python(
        """
        from hybrid_memory import HybridMemory, MemoryConfig
        from hybrid_memory.testing import HashingEmbedder
        m = HybridMemory(MemoryConfig(embedder=HashingEmbedder()))
        m.add([{"role": "user", "name": "Ana", "content": "I live in Porto and I have a cat.",
                "id": "p1", "timestamp": "2024-01-02T10:00:00"}], user_id="ana", run_id="r1")
        print(len(m.get_all(user_id="ana")))
        """,
        data,
    )
    assert writer.returncode == 0, writer.stderr
    written = int(writer.stdout.strip().splitlines()[-1])
    assert written >= 1
    reader = run_python(
        """
        import json
        from hybrid_memory import HybridMemory, MemoryConfig
        from hybrid_memory.testing import HashingEmbedder
        m = HybridMemory(MemoryConfig(embedder=HashingEmbedder()))
        hits = m.search("Where does Ana live?", user_id="ana")
        print(json.dumps({"n": len(m.get_all(user_id="ana")), "top": hits[0].memory,
                          "sources": hits[0].sources,
                          "buffer": [t.id for t in m.get_buffer(user_id="ana", run_id="r1")]}))
        """,
        data,
    )
    assert reader.returncode == 0, reader.stderr
    out = json.loads(reader.stdout.strip().splitlines()[-1])
    assert out["n"] == written
    assert "Porto" in out["top"] and out["sources"] == ["p1"]
    assert out["buffer"] == ["p1"]


def test_a_crash_after_commit_is_repaired_on_open(tmp_path):
    """The process dies after the SQLite commit and before chroma is written: on the next open
    the outbox is replayed and the memory is searchable."""
    data = tmp_path / "data"
    crashed = run_python(
        """
        import os
        from hybrid_memory import HybridMemory, MemoryConfig
        from hybrid_memory.testing import HashingEmbedder
        m = HybridMemory(MemoryConfig(embedder=HashingEmbedder()))
        # Die exactly where a real crash hurts most: after the commit, before the vector write.
        m.outbox.drain = lambda: os._exit(17)
        m.add("Remember that the boiler code is 4321.", user_id="u", infer=False)
        """,
        data,
    )
    assert crashed.returncode == 17, crashed.stderr
    with HybridMemory(MemoryConfig(data_dir=data, embedder=HashingEmbedder())) as m:
        assert m.records.pending() == []
        assert m.vectors.count() == 1
        hits = m.search("boiler code", user_id="u")
        assert [h.memory for h in hits] == ["Remember that the boiler code is 4321."]


def test_a_crash_during_extraction_loses_no_message(tmp_path):
    """The process dies inside the transaction that stores an add's memories. The message
    itself was saved first, so on the next open it is extracted again, exactly once."""
    data = tmp_path / "data"
    crashed = run_python(
        """
        import os
        from hybrid_memory import HybridMemory, MemoryConfig
        from hybrid_memory.testing import HashingEmbedder
        m = HybridMemory(MemoryConfig(embedder=HashingEmbedder()))
        m.add("I live in Oslo.", user_id="u")
        # Die in the middle of the transaction of the second add.
        from stores.sqlite import SQLiteUnitOfWork
        SQLiteUnitOfWork.enqueue = lambda self, op: os._exit(18)
        m.add("I adopted a dog named Rex.", user_id="u")
        """,
        data,
    )
    assert crashed.returncode == 18, crashed.stderr
    with HybridMemory(MemoryConfig(data_dir=data, embedder=HashingEmbedder())) as m:
        assert [t.content for t in m.get_messages(user_id="u")] == [
            "I live in Oslo.",
            "I adopted a dog named Rex.",
        ]
        items = m.get_all(user_id="u")
        rex = [i.memory for i in items if "Rex" in i.memory]
        assert rex and len(rex) == len(set(rex)), "rebuilt once, without duplicates"
        assert m.records.unextracted(None) == []
        assert m.vectors.count() == len(m.get_all(user_id="u", include_superseded=True))
        # opening again changes nothing
    with HybridMemory(MemoryConfig(data_dir=data, embedder=HashingEmbedder())) as m:
        assert sorted(i.id for i in m.get_all(user_id="u")) == sorted(i.id for i in items)


def test_an_interrupted_add_is_finished_as_it_was_asked(tmp_path):
    """infer=False, metadata and expiry of an add cut short are kept with its messages."""
    data = tmp_path / "data"
    crashed = run_python(
        """
        import os
        from hybrid_memory import HybridMemory, MemoryConfig
        from hybrid_memory.testing import HashingEmbedder
        m = HybridMemory(MemoryConfig(embedder=HashingEmbedder()))
        from stores.sqlite import SQLiteUnitOfWork
        SQLiteUnitOfWork.enqueue = lambda self, op: os._exit(19)
        m.add("The wifi password is hunter2", user_id="u", infer=False,
              metadata={"category": "secrets"}, expires_at="2999-01-01T00:00:00")
        """,
        data,
    )
    assert crashed.returncode == 19, crashed.stderr
    with HybridMemory(MemoryConfig(data_dir=data, embedder=HashingEmbedder())) as m:
        (item,) = m.get_all(user_id="u")
        assert item.memory == "The wifi password is hunter2"
        assert item.metadata == {"category": "secrets"} and item.expires_at.year == 2999


def test_another_embedder_is_refused(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder(384))) as m:
        m.add("I live in Oslo.", user_id="u")
    with pytest.raises(EmbedderMismatchError, match="hashing-384"):
        HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder(128)))
    # the data is untouched and still readable with the right embedder
    with HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder(384))) as m:
        assert m.search("Oslo", user_id="u")


def test_reset_clears_everything(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder())) as m:
        m.add("I live in Oslo.", user_id="u")
        m.add("I live in Lima.", user_id="v")
        m.reset()
        assert m.get_all(user_id="u") == [] and m.get_all(user_id="v") == []
        assert m.vectors.count() == 0
        m.add("I live in Quito.", user_id="u")
        assert m.search("Quito", user_id="u")
