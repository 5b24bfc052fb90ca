"""Session backends and their typed registry.

====================  =========================================  ==================================
name                  backend / config                           needs
====================  =========================================  ==================================
``"sqlite"``          SQLiteSessionBackend / SQLiteSessionConfig  nothing (the default)
``"postgres"``        PostgresSessionBackend / PostgresSessionConfig  ``hybrid-memory[postgres]``
``"redis"``           RedisSessionBackend / RedisSessionConfig    ``hybrid-memory[redis]``
``"json"``            JSONFileSessionBackend / JSONFileSessionConfig  nothing
====================  =========================================  ==================================

Every config is a pydantic model with a ``kind`` field, so a config read from a file or the
environment picks its backend: ``open_session_backend({"kind": "redis", "prefix": "app:"})``.
The optional clients (psycopg, redis) are imported only when such a backend is opened; a missing
one raises an ImportError that names the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from hybrid_memory.errors import ConfigError
from stores.sessions.base import SessionBackend
from stores.sessions.jsonfile import JSONFileSessionBackend, JSONFileSessionConfig
from stores.sessions.postgres import PostgresSessionBackend, PostgresSessionConfig
from stores.sessions.redis import RedisSessionBackend, RedisSessionConfig
from stores.sessions.sqlite import SQLiteSessionBackend, SQLiteSessionConfig

SessionBackendConfig = Annotated[
    SQLiteSessionConfig | PostgresSessionConfig | RedisSessionConfig | JSONFileSessionConfig,
    Field(discriminator="kind"),
]
"""Any backend's config; ``kind`` tells which."""

SESSION_BACKENDS: dict[str, tuple[type[BaseModel], Callable[[Any], SessionBackend]]] = {
    "sqlite": (SQLiteSessionConfig, SQLiteSessionBackend),
    "postgres": (PostgresSessionConfig, PostgresSessionBackend),
    "redis": (RedisSessionConfig, RedisSessionBackend),
    "json": (JSONFileSessionConfig, JSONFileSessionBackend),
}
"""Registry: backend name -> (config class, backend class).

The backend class is typed as what it is used for, a callable from its config to a
:class:`SessionBackend` (a Protocol class itself takes no constructor arguments)."""

_ADAPTER: TypeAdapter = TypeAdapter(SessionBackendConfig)


def session_config(value: Any) -> Any:
    """Parse a config dict (or pass a config model through) into the typed config.

    Raises:
        ConfigError: For an unknown ``kind`` or invalid fields, saying which kinds exist.
    """
    if isinstance(value, tuple(cfg for cfg, _ in SESSION_BACKENDS.values())):
        return value
    try:
        return _ADAPTER.validate_python(value)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid session backend config {value!r}: {exc.errors()[0]['msg']} "
            f"(kind must be one of {', '.join(SESSION_BACKENDS)}, with that backend's fields)"
        ) from None


def open_session_backend(config: Any) -> SessionBackend:
    """Open the backend a config names.

    Args:
        config: A config model (e.g. ``SQLiteSessionConfig(data_dir=...)``) or a dict with
            ``kind`` and that backend's fields.

    Raises:
        ConfigError: For an unknown kind or invalid fields.
        ImportError: If the backend's optional client is not installed (names the extra).
        StoreError: If the backend cannot be reached or opened.
    """
    config = session_config(config)
    _, backend_cls = SESSION_BACKENDS[config.kind]
    return backend_cls(config)


__all__ = [
    "SESSION_BACKENDS",
    "JSONFileSessionBackend",
    "JSONFileSessionConfig",
    "PostgresSessionBackend",
    "PostgresSessionConfig",
    "RedisSessionBackend",
    "RedisSessionConfig",
    "SQLiteSessionBackend",
    "SQLiteSessionConfig",
    "SessionBackend",
    "SessionBackendConfig",
    "open_session_backend",
    "session_config",
]
