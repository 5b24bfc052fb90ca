"""One writer per embedded data dir: a second process (or a second memory in the same process)
is refused with an error naming the holder and saying how to share a store; the lock goes with
the process that held it, even when it is killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from hybrid_memory import HybridMemory, MemoryConfig, StoreError, StoreLockedError
from hybrid_memory.testing import HashingEmbedder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HOLDER = """
import sys
from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.testing import HashingEmbedder
m = HybridMemory(MemoryConfig(data_dir=sys.argv[1], embedder=HashingEmbedder()))
m.add("I live in Oslo.", user_id="u", infer=False)
print("ready", flush=True)
if sys.stdin.readline().strip() == "close":
    m.close()
    print("closed", flush=True)
    sys.stdin.readline()
"""


def holder(data_dir) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(data_dir)],
        env={**os.environ, "PYTHONPATH": ROOT},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", proc.stderr.read() if proc.stderr else line
    return proc


def config(path, **kw) -> MemoryConfig:
    return MemoryConfig(data_dir=path, embedder=HashingEmbedder(), **kw)


def test_a_second_process_is_refused_with_the_holder_and_how_to_share(tmp_path):
    proc = holder(tmp_path)
    try:
        with pytest.raises(StoreLockedError) as info:
            HybridMemory(config(tmp_path))
        err = info.value
        assert isinstance(err, StoreError)
        assert err.holder["pid"] == proc.pid and err.holder["host"] == socket.gethostname()
        text = str(err)
        assert str(proc.pid) in text and "one process at a time" in text and "server" in text
        # the refused open touched nothing: the holder's data is intact
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("close\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "closed"
        # released by close(), while the holder process still runs
        with HybridMemory(config(tmp_path)) as mem:
            assert [h.memory for h in mem.search("Oslo", user_id="u")] == ["I live in Oslo."]
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    proc = holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lock_file = tmp_path / ".hybrid-memory.lock"
    assert json.loads(lock_file.read_text())["pid"] == proc.pid  # the file stays...
    with HybridMemory(config(tmp_path)) as mem:  # ...and does not block
        assert mem.search("Oslo", user_id="u")
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()


def test_a_second_memory_in_the_same_process_is_refused(tmp_path):
    with HybridMemory(config(tmp_path)):
        with pytest.raises(StoreLockedError, match="this process"):
            HybridMemory(config(tmp_path))
    with HybridMemory(config(tmp_path)):  # free again after close()
        pass


def test_a_memory_dropped_without_close_gives_the_lock_back(tmp_path):
    HybridMemory(config(tmp_path)).add("I live in Oslo.", user_id="u", infer=False)
    with HybridMemory(config(tmp_path)) as mem:
        assert mem.search("Oslo", user_id="u")


def test_a_refused_open_leaves_the_lock_free(tmp_path):
    """An open that fails after taking the lock (another embedder) gives it back."""
    with HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder(384))):
        pass
    with pytest.raises(StoreError):
        HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder(128)))
    with HybridMemory(MemoryConfig(data_dir=tmp_path, embedder=HashingEmbedder(384))):
        pass


def test_in_memory_backends_take_no_lock(tmp_path):
    kinds = {"records": {"kind": "memory"}, "vectors": {"kind": "memory"}}
    with HybridMemory(config(tmp_path, **kinds)), HybridMemory(config(tmp_path, **kinds)):
        pass
    assert not (tmp_path / ".hybrid-memory.lock").exists()
