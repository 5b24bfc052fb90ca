"""Redis session backend: sessions whose idle expiry is Redis's own key TTL.

Install with ``pip install "hybrid-memory[redis]"``. Keys, under a configurable prefix:
``s:<id>`` (hash: version, user_id, expires_at, body), ``e:<id>`` (list: the event log),
``c:<id>`` (list: checkpoints) and ``u:<user_id>`` (sorted set of the user's session ids by
update time). The three per-session keys carry the session's expiry (``PEXPIREAT``), so Redis
drops an idle session by itself. Commits run as one Lua script: the version check and every
write happen atomically on the server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hybrid_memory.errors import StoreError
from hybrid_memory.session_models import Checkpoint, Session, SessionEvent
from stores.sessions.base import conflict, parse_checkpoint, parse_event, parse_session
from stores.sessions.sqlite import from_ts

_COMMIT = """
local cur = redis.call('HGET', KEYS[1], 'version')
local curv = 0
if cur then curv = tonumber(cur) end
if curv ~= tonumber(ARGV[1]) then return {0, curv} end
if curv == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'body', ARGV[3], 'expires_at', ARGV[9],
           'user_id', ARGV[7])
local n = tonumber(ARGV[8])
for i = 1, n do redis.call('RPUSH', KEYS[2], ARGV[9 + i]) end
for i = 10 + n, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[6])
for i = 1, 3 do
  if ARGV[4] ~= '' then redis.call('PEXPIREAT', KEYS[i], ARGV[4])
  else redis.call('PERSIST', KEYS[i]) end
end
return {1, curv}
"""

_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'expires_at', ARGV[2])
for i = 1, 3 do
  if ARGV[1] ~= '' then redis.call('PEXPIREAT', KEYS[i], ARGV[1])
  else redis.call('PERSIST', KEYS[i]) end
end
return 1
"""

# Deletes the session only if it is still expired at ARGV[1] (it may have been saved since).
_PURGE_ONE = """
local exp = redis.call('HGET', KEYS[1], 'expires_at')
if (not exp) or exp == '' or tonumber(exp) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
"""


class RedisSessionConfig(BaseModel):
    """Configuration of :class:`RedisSessionBackend`.

    Attributes:
        url: The Redis server, as a ``redis://`` URL.
        prefix: Prepended to every key, to share one Redis between applications.
        socket_timeout: Seconds to wait for the server.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["redis"] = "redis"
    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = Field(default="hybrid_memory:sessions:", min_length=1)
    socket_timeout: float = Field(default=5.0, gt=0)


def _redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError(
            'the Redis session backend needs the redis client: pip install "hybrid-memory[redis]"'
        ) from exc
    return redis


def _ms(value: datetime | None) -> str:
    # Rounded up: Redis must not drop a key before the session's own expiry time.
    return "" if value is None else str(math.ceil(value.timestamp() * 1000))


def _seconds(value: datetime | None) -> str:
    return "" if value is None else repr(value.timestamp())


class RedisSessionBackend:
    """Sessions in Redis with TTL = idle expiry and Lua compare-and-set commits."""

    def __init__(self, config: RedisSessionConfig) -> None:
        redis = _redis()
        self.config = config
        self._p = config.prefix
        self._r = redis.Redis.from_url(
            config.url,
            socket_timeout=config.socket_timeout,
            socket_connect_timeout=config.socket_timeout,
        )
        try:
            self._r.ping()
        except redis.RedisError as exc:
            raise StoreError(
                f"cannot reach Redis at {config.url}: {exc}. Is the server running? "
                '(redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "")'
            ) from exc
        self._commit = self._r.register_script(_COMMIT)
        self._touch = self._r.register_script(_TOUCH)
        self._purge_one = self._r.register_script(_PURGE_ONE)

    def _keys(self, session_id: str) -> list[str]:
        return [f"{self._p}{k}:{session_id}" for k in ("s", "e", "c")]

    def _user_key(self, user_id: str) -> str:
        return f"{self._p}u:{user_id}"

    def _session(self, session_id: str, fields: list) -> Session | None:
        version, body, expires = fields
        if version is None or body is None:
            return None
        session = parse_session(body, f"{session_id!r} at key {self._p}s:{session_id}")
        session.version = int(version)
        session.expires_at = from_ts(float(expires)) if expires else None
        return session

    def load(self, session_id: str) -> Session | None:
        fields = self._r.hmget(self._keys(session_id)[0], "version", "body", "expires_at")
        return self._session(session_id, fields)

    def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        events: Sequence[SessionEvent] = (),
        checkpoints: Sequence[Checkpoint] = (),
    ) -> None:
        args = [
            expected_version,
            session.version,
            session.model_dump_json(),
            _ms(session.expires_at),
            session.updated_at.timestamp(),
            session.id,
            session.user_id,
            len(events),
            _seconds(session.expires_at),
            *(e.model_dump_json() for e in events),
            *(c.model_dump_json() for c in checkpoints),
        ]
        keys = [*self._keys(session.id), self._user_key(session.user_id)]
        ok, actual = self._commit(keys=keys, args=args)
        if not ok:
            raise conflict(session.id, expected_version, int(actual) or None)

    def touch(self, session_id: str, expires_at: datetime | None) -> bool:
        return bool(
            self._touch(keys=self._keys(session_id), args=[_ms(expires_at), _seconds(expires_at)])
        )

    def delete(self, session_id: str) -> bool:
        keys = self._keys(session_id)
        user_id = self._r.hget(keys[0], "user_id")
        deleted = self._r.delete(*keys)
        if user_id is not None:
            self._r.zrem(self._user_key(user_id.decode()), session_id)
        return user_id is not None and deleted > 0

    def list_sessions(
        self, user_id: str, *, agent_id: str | None, now: datetime, limit: int, offset: int
    ) -> list[Session]:
        ukey = self._user_key(user_id)
        members = self._r.zrange(ukey, 0, -1, withscores=True)
        ids = [m.decode() for m, _ in sorted(members, key=lambda m: (-m[1], m[0]))]
        pipe = self._r.pipeline(transaction=False)
        for session_id in ids:
            pipe.hmget(self._keys(session_id)[0], "version", "body", "expires_at")
        found, gone = [], []
        for session_id, fields in zip(ids, pipe.execute(), strict=True):
            session = self._session(session_id, fields)
            if session is None:
                gone.append(session_id)  # expired by Redis: drop it from the index too
            elif not session.is_expired(now) and (agent_id is None or session.agent_id == agent_id):
                found.append(session)
        if gone:
            self._r.zrem(ukey, *gone)
        return found[offset : offset + limit]

    def checkpoints(self, session_id: str) -> list[Checkpoint]:
        raw = self._r.lrange(self._keys(session_id)[2], 0, -1)
        return [parse_checkpoint(b, f"of session {session_id!r}") for b in raw]

    def events(self, session_id: str, *, after_seq: int = 0) -> list[SessionEvent]:
        # seq n is at list index n - 1: the log is appended only by commits, in order.
        raw = self._r.lrange(self._keys(session_id)[1], after_seq, -1)
        return [parse_event(b, f"of session {session_id!r}") for b in raw]

    def purge_expired(self, now: datetime) -> int:
        """Delete sessions expired by the caller's clock (Redis drops them at their TTL anyway)."""
        purged = 0
        now_s = _seconds(now)
        for key in self._r.scan_iter(match=f"{self._p}s:*", count=500):
            session_id = key.decode()[len(self._p) + 2 :]
            purged += self._purge_one(keys=self._keys(session_id), args=[now_s])
        return purged

    def close(self) -> None:
        self._r.close()
