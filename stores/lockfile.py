"""The single-writer lock of an embedded data dir: an OS file lock (``flock``) on
``<data dir>/.hybrid-memory.lock``.

The embedded stores (SQLite and chroma's persistent client under one data dir) are safe for one
writing process only: chroma keeps an in-process index, and two processes writing through it
lose writes or corrupt it. The memory therefore takes this lock when it opens embedded stores
and holds it until ``close()``; a second opener, in another process or in the same one, gets a
:class:`~hybrid_memory.errors.StoreLockedError` naming the holder.

The holder writes its pid, host, start time and program into the file, for that message only:
the lock itself is the OS's. The OS drops it when the holder's file descriptor is closed, or when
the process dies in any way (``kill -9`` included), so a file left behind never blocks anyone.
The descriptor is not inherited by child processes. On a platform without ``fcntl`` the lock is
not taken.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybrid_memory.errors import StoreError, StoreLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".hybrid-memory.lock"
SHARING = (
    "An embedded store has one process at a time. To share it, let one process own it and "
    "serve the others (close it here first), or use server backends instead of the embedded "
    "SQLite and chroma ones."
)


def _holder(fd: int) -> dict[str, Any]:
    """What the holder wrote (empty when it is unreadable or not written yet)."""
    try:
        data = os.pread(fd, 4096, 0)
        info = json.loads(data.decode("utf-8")) if data else {}
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _refusal(directory: Path, holder: dict[str, Any]) -> str:
    pid, host = holder.get("pid"), holder.get("host")
    if pid == os.getpid() and host == socket.gethostname():
        who = f"this process (pid {pid}) already has it open in another HybridMemory"
        return (
            f"the memory store at {directory} is in use: {who}; close that one first, or use "
            f"the same HybridMemory object everywhere in the process. {SHARING}"
        )
    if pid is None:
        who = "another process"
    else:
        who = f"process {pid} on {host or 'an unknown host'}"
        if holder.get("program"):
            who += f" ({holder['program']}"
            who += f", since {holder['since']})" if holder.get("since") else ")"
    return f"the memory store at {directory} is in use by {who}. {SHARING}"


class DataDirLock:
    """A held lock; :meth:`release` gives it back (idempotent)."""

    def __init__(self, path: Path, fd: int | None):
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, directory: Path) -> DataDirLock:
        """Take the lock of ``directory`` without waiting.

        Raises:
            StoreLockedError: another process, or another memory of this process, holds it.
            StoreError: the lock file cannot be created.
        """
        path = Path(directory) / LOCK_NAME
        if fcntl is None:  # pragma: no cover
            return cls(path, None)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreLockedError(
                _refusal(Path(directory), holder), path=str(path), holder=holder
            ) from None
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "program": " ".join(sys.argv)[:200] or sys.executable,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __del__(self) -> None:
        # A memory dropped without close() must not keep its data dir locked for the rest of
        # the process (``HybridMemory(config).add(...)`` in a script, then another open).
        try:
            self.release()
        except Exception:  # at interpreter exit the modules it needs may be gone
            pass

    def release(self) -> None:
        """Give the lock back (the file stays; the next opener overwrites it)."""
        fd, self._fd = self._fd, None
        if fd is None or fcntl is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
