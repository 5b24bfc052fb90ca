"""API keys: each bound to one tenant, stored only as SHA-256 hashes (plus a short public
prefix for listing) in ``<data_dir>/service/keys.sqlite3``.

A key is ``hm_`` followed by 43 URL-safe characters (32 random bytes); it is shown once, when
it is created. The admin key comes from ``HYBRID_MEMORY_ADMIN_KEY`` and is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import uuid
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from hybrid_memory.errors import UserInputError
from hybrid_memory.models import utcnow
from hybrid_memory.server.errors import NotFoundError

KEY_PREFIX = "hm_"
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
KEYS_FILENAME = "keys.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""


def check_tenant_id(tenant_id: str) -> str:
    """``tenant_id`` if it is well formed, else :class:`UserInputError` saying the rule."""
    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise UserInputError(
            f"tenant_id {tenant_id!r} is not valid: use 1-63 characters of a-z, 0-9, '_' and "
            "'-', starting with a letter or digit"
        )
    return tenant_id


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKey(BaseModel):
    """A key as listed (never its secret)."""

    id: str
    prefix: str
    tenant_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


class CreatedKey(BaseModel):
    """A new key: ``key`` is the secret, shown this once."""

    id: str
    key: str
    tenant_id: str
    name: str
    created_at: datetime


class KeyStore:
    """The API keys of a data dir (thread-safe; one SQLite connection)."""

    def __init__(self, service_dir: Path):
        service_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(service_dir / KEYS_FILENAME, check_same_thread=False)
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)

    def create(self, tenant_id: str, name: str = "") -> CreatedKey:
        """A new key for ``tenant_id`` (the tenant needs no other set-up)."""
        check_tenant_id(tenant_id)
        if not isinstance(name, str) or len(name) > 200:
            raise UserInputError("name must be a string of at most 200 characters")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        created = CreatedKey(
            id=uuid.uuid4().hex, key=key, tenant_id=tenant_id, name=name, created_at=utcnow()
        )
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO api_keys (id, hash, prefix, tenant_id, name, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    created.id,
                    hash_key(key),
                    key[:10],
                    tenant_id,
                    name,
                    created.created_at.isoformat(),
                ),
            )
        return created

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key (of one tenant when given), oldest first, revoked ones included."""
        sql = "SELECT id, prefix, tenant_id, name, created_at, revoked_at FROM api_keys"
        params: tuple[str, ...] = ()
        if tenant_id is not None:
            sql, params = sql + " WHERE tenant_id = ?", (tenant_id,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [
            ApiKey(
                id=r[0], prefix=r[1], tenant_id=r[2], name=r[3], created_at=r[4], revoked_at=r[5]
            )
            for r in rows
        ]

    def revoke(self, key_id: str) -> None:
        """Revoke a key by id; it authenticates nothing from now on."""
        with self._lock, self._conn:
            done = self._conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                (utcnow().isoformat(), key_id),
            )
        if done.rowcount == 0:
            raise NotFoundError(f"no API key with id {key_id!r}")

    def tenant_of(self, key: str) -> str | None:
        """The tenant a live key belongs to; None for an unknown or revoked key."""
        if not key.startswith(KEY_PREFIX):
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT tenant_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
                (hash_key(key),),
            ).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def is_admin(key: str, admin_key: str | None) -> bool:
    """Whether ``key`` is the admin key (constant-time comparison)."""
    return bool(admin_key) and hmac.compare_digest(key.encode(), (admin_key or "").encode())
