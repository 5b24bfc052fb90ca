"""The session backends the framework adapters are tested on: every one of ours, each test
on a fresh SQLite dir, JSON dir, PostgreSQL schema or Redis prefix (removed afterwards)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hybrid_memory.agent.sessions import SessionManager
from stores.sessions import JSONFileSessionConfig, SQLiteSessionConfig, open_session_backend
from tests.test_session_stores import _postgres_config, _redis_config

BACKENDS = ["sqlite", "json", "postgres", "redis"]


@pytest.fixture(params=BACKENDS)
def open_sessions(request, tmp_path) -> Iterator[Callable[[], SessionManager]]:
    """Opens a SessionManager on the backend (again, as after a restart, on each call)."""
    kind = request.param
    if kind == "sqlite":
        config: Any = SQLiteSessionConfig(data_dir=tmp_path / "sessions")
    elif kind == "json":
        config = JSONFileSessionConfig(directory=tmp_path / "sessions")
    elif kind == "postgres":
        config = _postgres_config()
    else:
        config = _redis_config()
    opened: list[SessionManager] = []

    def manager() -> SessionManager:
        opened.append(SessionManager(open_session_backend(config)))
        return opened[-1]

    yield manager
    for m in opened:
        m.close()
    if kind == "postgres":
        cleanup = open_session_backend(config.model_copy(update={"auto_migrate": False}))
        cleanup.drop_schema()
        cleanup.close()
    elif kind == "redis":
        import redis

        client = redis.Redis.from_url(config.url)
        keys = list(client.scan_iter(match=f"{config.prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
