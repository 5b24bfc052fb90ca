"""The demo writes only where it is told, or into a temporary directory, and never deletes data
it did not create."""

from __future__ import annotations

import pytest

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.demo import MARKER, USER, main
from hybrid_memory.embeddings import HashingEmbedder


@pytest.fixture(autouse=True)
def _fast_and_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_MEMORY_EMBEDDING_MODEL", "hashing")
    monkeypatch.chdir(tmp_path)


def test_by_default_the_demo_uses_a_temporary_directory(tmp_path, capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "current facts about Maya" in out and "Where does Maya live now?" in out
    assert list(tmp_path.iterdir()) == []  # nothing in the working directory


def test_a_named_directory_is_claimed_and_can_be_used_again(tmp_path, capsys):
    data = tmp_path / "demo-data"
    assert main(["--data-dir", str(data)]) == 0
    assert (data / MARKER).exists()
    first = capsys.readouterr().out
    assert main(["--data-dir", str(data)]) == 0  # its own earlier memories are replaced
    second = capsys.readouterr().out
    facts = [line for line in first.splitlines() if "current facts about Maya" in line]
    assert facts and facts == [
        line for line in second.splitlines() if "current facts about Maya" in line
    ]


def test_a_directory_with_other_data_is_refused_and_left_alone(tmp_path, capsys):
    data = tmp_path / "mine"
    config = MemoryConfig(data_dir=data, embedder=HashingEmbedder())
    with HybridMemory(config) as memory:
        memory.add("I keep my own notes here.", user_id=USER, infer=False)
    assert main(["--data-dir", str(data)]) == 2
    assert "not created by the demo" in capsys.readouterr().err
    assert not (data / MARKER).exists()
    with HybridMemory(config) as memory:
        assert [m.memory for m in memory.get_all(user_id=USER)] == ["I keep my own notes here."]
