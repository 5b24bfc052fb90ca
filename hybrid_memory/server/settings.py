"""The service's settings (env prefix ``HYBRID_MEMORY_SERVER_``; the admin key is
``HYBRID_MEMORY_ADMIN_KEY``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from hybrid_memory.errors import ConfigError

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServerSettings(BaseSettings):
    """How ``hybrid-memory serve`` runs.

    Args:
        data_dir: where every tenant's memory (``tenants/<id>/``) and the service's own
            tables (``service/``: API keys, background jobs) live.
        host / port: where to listen.
        no_auth: serve every request as tenant ``default`` without a key; only allowed on a
            loopback address.
        max_body_bytes: larger request bodies are refused with 413 before they are parsed.
        job_workers: background adds processed at the same time.
        admin_key: manages API keys (``/v1/admin/keys``); from ``HYBRID_MEMORY_ADMIN_KEY``.
        embedding_model: the embedder all tenants share (``HYBRID_MEMORY_EMBEDDING_MODEL``).
    """

    model_config = SettingsConfigDict(
        env_prefix="HYBRID_MEMORY_SERVER_", extra="forbid", populate_by_name=True
    )

    data_dir: Path = Path(".hybrid_memory")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    no_auth: bool = False
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    job_workers: int = Field(default=2, ge=1, le=64)
    admin_key: SecretStr | None = Field(default=None, validation_alias="HYBRID_MEMORY_ADMIN_KEY")
    embedding_model: str | None = Field(
        default=None, validation_alias="HYBRID_MEMORY_EMBEDDING_MODEL"
    )

    def check(self) -> ServerSettings:
        """Refuse settings that would expose memories: raise :class:`ConfigError`."""
        if self.no_auth and not is_loopback(self.host):
            raise ConfigError(
                f"--no-auth serves every memory without a key, so it is only allowed on a "
                f"loopback address (127.0.0.1, ::1, localhost), not {self.host!r}: create a key "
                "with `hybrid-memory keys create --tenant T` instead"
            )
        return self

    @property
    def service_dir(self) -> Path:
        """The service's own tables (keys, jobs)."""
        return self.data_dir / "service"
