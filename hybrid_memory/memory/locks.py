"""Who may write what, when: per-owner write locks and the messages an add is processing.

Writes are serialized per owner scope (the user/agent a memory belongs to), never globally: two
adds for the same user plan and commit one after the other, so the second sees what the first
stored (no duplicate, no lost update), while adds for other users run at the same time. An
operation that spans owners (reset, import, delete_all) takes the lock exclusively.

With a record store shared by several processes (:class:`~stores.base.ProcessLocks`), each lock
also takes the store's lock across processes, after the in-process one: threads of one process
queue here without holding a connection, and one of them at a time competes with the other
processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from hybrid_memory.models import Scope
from stores.base import ProcessLocks


class ScopeLocks:
    """Re-entrant per-owner locks under a shared/exclusive gate.

    Args:
        across: the record store's locks across processes, when it is shared (None: this
            process is the only writer).
    """

    def __init__(self, across: ProcessLocks | None = None) -> None:
        self._across = across
        self._guard = threading.Condition()
        self._locks: dict[str, tuple[threading.RLock, int]] = {}
        self._shared = 0
        self._exclusive: threading.Thread | None = None
        self._exclusive_depth = 0

    @contextmanager
    def hold(self, owner: Scope) -> Iterator[None]:
        """Serialize writers of ``owner``; waits while an exclusive operation runs."""
        me = threading.current_thread()
        with self._guard:
            self._guard.wait_for(lambda: self._exclusive in (None, me))
            self._shared += 1
            lock, users = self._locks.get(owner.key, (threading.RLock(), 0))
            self._locks[owner.key] = (lock, users + 1)
        try:
            with lock, self._process(lambda a: a.owner_lock(owner)):
                yield
        finally:
            with self._guard:
                lock, users = self._locks[owner.key]
                if users == 1:
                    del self._locks[owner.key]
                else:
                    self._locks[owner.key] = (lock, users - 1)
                self._shared -= 1
                self._guard.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Run alone: waits for every holder to finish and keeps new ones out."""
        me = threading.current_thread()
        with self._guard:
            self._guard.wait_for(lambda: self._exclusive in (None, me))
            self._exclusive = me
            self._exclusive_depth += 1
            self._guard.wait_for(lambda: self._shared == 0)
        try:
            with self._process(lambda a: a.exclusive_lock()):
                yield
        finally:
            with self._guard:
                self._exclusive_depth -= 1
                if not self._exclusive_depth:
                    self._exclusive = None
                self._guard.notify_all()

    def drain(self) -> AbstractContextManager[Any]:
        """The outbox drainer's turn across processes (nothing to wait for in one process)."""
        return self._process(lambda a: a.drain_lock())

    def _process(
        self, take: Callable[[ProcessLocks], AbstractContextManager[Any]]
    ) -> AbstractContextManager[Any]:
        return take(self._across) if self._across is not None else nullcontext()


class InFlight:
    """Messages an add (or a reprocess) is working on, so that no one else extracts them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claimed: set[tuple[str, str]] = set()

    def claim(self, scope: Scope, ids: Iterable[str]) -> list[str]:
        """Claim the ids nobody holds; returns those now held by the caller."""
        with self._lock:
            free = [i for i in ids if (scope.key, i) not in self._claimed]
            self._claimed.update((scope.key, i) for i in free)
            return free

    def release(self, scope: Scope, ids: Iterable[str]) -> None:
        with self._lock:
            self._claimed.difference_update((scope.key, i) for i in ids)
