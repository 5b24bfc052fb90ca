"""The SQLite history store: memory records, audit history, turns, summaries and the vector outbox.

SQLite is the source of truth. One ``add`` writes everything it changes in ONE transaction,
including an *outbox* row holding the vector operations (with the vectors themselves). The vector
store is updated from the outbox after the commit, and pending outbox rows are replayed when the
store is opened, so after a crash either all of an add's effects are there or none are.

WAL mode and a busy timeout let readers in other processes work while one process writes.
Lexical search uses FTS5's built-in BM25 over the memory texts.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hybrid_memory.errors import EmbedderMismatchError, StoreError
from hybrid_memory.models import (
    EventType,
    HistoryEntry,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Message,
    Scope,
    as_utc,
)

SCHEMA_VERSION = 1

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS memories (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        memory TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        sources TEXT NOT NULL DEFAULT '[]',
        entities TEXT NOT NULL DEFAULT '[]',
        subject TEXT, attribute TEXT,
        hash TEXT NOT NULL,
        importance REAL NOT NULL DEFAULT 0.5,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        event_time TEXT, valid_from TEXT, valid_to TEXT,
        superseded_by TEXT, expires_at TEXT
    );
    CREATE INDEX IF NOT EXISTS memories_user ON memories(user_id, status);
    CREATE INDEX IF NOT EXISTS memories_agent ON memories(agent_id, status);
    CREATE INDEX IF NOT EXISTS memories_run ON memories(run_id, status);
    CREATE INDEX IF NOT EXISTS memories_hash ON memories(hash);
    CREATE INDEX IF NOT EXISTS memories_attr ON memories(subject, attribute);
    CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
        memory, content='memories', content_rowid='rowid', tokenize='porter unicode61'
    );
    CREATE TRIGGER IF NOT EXISTS memories_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts(rowid, memory) VALUES (new.rowid, new.memory);
    END;
    CREATE TRIGGER IF NOT EXISTS memories_ad AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, memory)
        VALUES ('delete', old.rowid, old.memory);
    END;
    CREATE TRIGGER IF NOT EXISTS memories_au AFTER UPDATE OF memory ON memories BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, memory)
        VALUES ('delete', old.rowid, old.memory);
        INSERT INTO memories_fts(rowid, memory) VALUES (new.rowid, new.memory);
    END;
    CREATE TABLE IF NOT EXISTS memory_entities (
        memory_id TEXT NOT NULL, entity TEXT NOT NULL, PRIMARY KEY (memory_id, entity)
    );
    CREATE INDEX IF NOT EXISTS memory_entities_entity ON memory_entities(entity);
    CREATE TABLE IF NOT EXISTS history (
        id TEXT PRIMARY KEY,
        memory_id TEXT NOT NULL,
        old_memory TEXT, new_memory TEXT,
        event TEXT NOT NULL,
        actor TEXT, reason TEXT,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        created_at TEXT NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS history_memory ON history(memory_id, seq);
    CREATE TABLE IF NOT EXISTS turns (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        scope_key TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        message_id TEXT NOT NULL,
        role TEXT NOT NULL, name TEXT, content TEXT NOT NULL,
        timestamp TEXT, created_at TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        in_buffer INTEGER NOT NULL DEFAULT 1,
        extracted INTEGER NOT NULL DEFAULT 0,
        options TEXT NOT NULL DEFAULT '{}',
        raw TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS turns_scope ON turns(scope_key, in_buffer, seq);
    CREATE INDEX IF NOT EXISTS turns_pending ON turns(extracted, seq);
    CREATE TABLE IF NOT EXISTS audit (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        stage TEXT NOT NULL,
        message_ids TEXT NOT NULL,
        error TEXT NOT NULL,
        raw TEXT
    );
    CREATE TABLE IF NOT EXISTS summaries (
        scope_key TEXT PRIMARY KEY,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        summary TEXT NOT NULL, tokens INTEGER NOT NULL,
        turns_folded INTEGER NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op TEXT NOT NULL,
        ids TEXT NOT NULL,
        vectors BLOB,
        dimension INTEGER,
        metadatas TEXT
    );
    """,
}

_SCOPE_COLUMNS = ("user_id", "agent_id", "run_id")
_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def _ts(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def scope_condition(scope: Scope, alias: str = "m") -> tuple[str, list[str]]:
    """SQL condition restricting rows to ``scope`` (every given id must match exactly)."""
    ids = scope.as_filter()
    if not ids:
        # Never reachable through the public API, which requires an id; refuse to match all.
        return "0", []
    return " AND ".join(f"{alias}.{k} = ?" for k in ids), list(ids.values())


class VectorOp:
    """One pending vector-store operation, as stored in the outbox."""

    __slots__ = ("op", "ids", "vectors", "metadatas")

    def __init__(
        self,
        op: str,
        ids: list[str],
        vectors: np.ndarray | None = None,
        metadatas: list[dict[str, str]] | None = None,
    ):
        self.op, self.ids, self.vectors, self.metadatas = op, ids, vectors, metadatas


class SQLiteHistoryStore:
    """Memory records, history, turns, summaries and the outbox in one SQLite file.

    All methods are thread-safe (one connection guarded by a re-entrant lock); use
    :meth:`transaction` to group writes atomically.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout_ms / 1000,
                check_same_thread=False,
                isolation_level=None,
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the SQLite store at {self.path}: {exc}") from exc

    # -- plumbing -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.transaction():
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            current = int(row["value"]) if row else 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this hybrid-memory "
                    f"({SCHEMA_VERSION}); upgrade hybrid-memory"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _split_sql(_MIGRATIONS[version]):
                    self._conn.execute(statement)
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(version),),
                )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"cannot start a write on {self.path}: {exc}") from exc
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    self._conn.execute("ROLLBACK")
                    raise StoreError(f"commit failed on {self.path}: {exc}") from exc
            finally:
                self._depth = 0

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"SQLite query failed on {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- meta -----------------------------------------------------------------------------------

    def ensure_embedder(self, name: str, dimension: int) -> None:
        rows = {r["key"]: r["value"] for r in self._query("SELECT key, value FROM meta")}
        if "embedder" not in rows:
            with self.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    [("embedder", name), ("dimension", str(dimension))],
                )
            return
        if rows["embedder"] != name or int(rows["dimension"]) != dimension:
            raise EmbedderMismatchError(
                f"{self.path} holds memories embedded with {rows['embedder']!r} "
                f"({rows['dimension']} dimensions), not {name!r} ({dimension}); configure the "
                "same embedder, or use another data_dir"
            )

    # -- memories -------------------------------------------------------------------------------

    @staticmethod
    def _row_to_item(row: sqlite3.Row) -> MemoryItem:
        return MemoryItem(
            id=row["id"],
            memory=row["memory"],
            kind=MemoryKind(row["kind"]),
            status=MemoryStatus(row["status"]),
            user_id=row["user_id"],
            agent_id=row["agent_id"],
            run_id=row["run_id"],
            metadata=json.loads(row["metadata"]),
            sources=json.loads(row["sources"]),
            entities=json.loads(row["entities"]),
            subject=row["subject"],
            attribute=row["attribute"],
            hash=row["hash"],
            importance=row["importance"],
            created_at=_dt(row["created_at"]),
            updated_at=_dt(row["updated_at"]),
            event_time=_dt(row["event_time"]),
            valid_from=_dt(row["valid_from"]),
            valid_to=_dt(row["valid_to"]),
            superseded_by=row["superseded_by"],
            expires_at=_dt(row["expires_at"]),
        )

    def insert_memory(self, item: MemoryItem) -> None:
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO memories (id, memory, kind, status, user_id, agent_id, run_id,
                metadata, sources, entities, subject, attribute, hash, importance, created_at,
                updated_at, event_time, valid_from, valid_to, superseded_by, expires_at)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                self._item_params(item),
            )
            self._link_entities(conn, item)

    def replace_memory(self, item: MemoryItem) -> None:
        """Overwrite every field of an existing memory (same id)."""
        with self.transaction() as conn:
            params = self._item_params(item)
            cur = conn.execute(
                """UPDATE memories SET memory=?, kind=?, status=?, user_id=?, agent_id=?,
                run_id=?, metadata=?, sources=?, entities=?, subject=?, attribute=?, hash=?,
                importance=?, created_at=?, updated_at=?, event_time=?, valid_from=?, valid_to=?,
                superseded_by=?, expires_at=? WHERE id=?""",
                (*params[1:], params[0]),
            )
            if cur.rowcount != 1:
                raise StoreError(f"memory {item.id!r} vanished during an update")
            conn.execute("DELETE FROM memory_entities WHERE memory_id = ?", (item.id,))
            self._link_entities(conn, item)

    @staticmethod
    def _item_params(item: MemoryItem) -> tuple:
        return (
            item.id,
            item.memory,
            item.kind.value,
            item.status.value,
            item.user_id,
            item.agent_id,
            item.run_id,
            json.dumps(item.metadata, default=str, ensure_ascii=False),
            json.dumps(item.sources, ensure_ascii=False),
            json.dumps(item.entities, ensure_ascii=False),
            item.subject,
            item.attribute,
            item.hash,
            item.importance,
            _ts(item.created_at),
            _ts(item.updated_at),
            _ts(item.event_time),
            _ts(item.valid_from),
            _ts(item.valid_to),
            item.superseded_by,
            _ts(item.expires_at),
        )

    @staticmethod
    def _link_entities(conn: sqlite3.Connection, item: MemoryItem) -> None:
        names = {e.casefold().strip() for e in item.entities if e.strip()}
        conn.executemany(
            "INSERT OR IGNORE INTO memory_entities(memory_id, entity) VALUES (?, ?)",
            [(item.id, n) for n in names],
        )

    def delete_memories(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self.transaction() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                conn.execute(f"DELETE FROM memories WHERE id IN ({marks})", chunk)
                conn.execute(f"DELETE FROM memory_entities WHERE memory_id IN ({marks})", chunk)

    def get_memory(self, memory_id: str) -> MemoryItem | None:
        rows = self._query("SELECT * FROM memories WHERE id = ?", (memory_id,))
        return self._row_to_item(rows[0]) if rows else None

    def get_memories(self, ids: Sequence[str]) -> dict[str, MemoryItem]:
        out: dict[str, MemoryItem] = {}
        ids = list(dict.fromkeys(ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"SELECT * FROM memories WHERE id IN ({marks})", chunk):
                out[row["id"]] = self._row_to_item(row)
        return out

    def list_memories(
        self,
        scope: Scope,
        *,
        where: str = "1",
        params: Sequence[Any] = (),
        statuses: Sequence[MemoryStatus] = (MemoryStatus.ACTIVE,),
        now: datetime | None = None,
        limit: int | None = None,
        ids_only: bool = False,
    ) -> list[MemoryItem] | list[str]:
        """Memories of ``scope`` matching an SQL condition (over alias ``m``), newest first."""
        cond, cond_params = self._visible(scope, statuses, now)
        sql = (
            f"SELECT {'m.id' if ids_only else 'm.*'} FROM memories m "
            f"WHERE {cond} AND ({where}) ORDER BY m.created_at DESC, m.rowid DESC"
        )
        args: list[Any] = [*cond_params, *params]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        rows = self._query(sql, args)
        if ids_only:
            return [r["id"] for r in rows]
        return [self._row_to_item(r) for r in rows]

    @staticmethod
    def _visible(
        scope: Scope, statuses: Sequence[MemoryStatus], now: datetime | None
    ) -> tuple[str, list[Any]]:
        cond, params = scope_condition(scope)
        marks = ",".join("?" * len(statuses))
        cond += f" AND m.status IN ({marks})"
        params += [s.value for s in statuses]
        if now is not None:
            cond += " AND (m.expires_at IS NULL OR m.expires_at > ?)"
            params.append(_ts(now))
        return cond, params

    def find_by_hash(self, scope: Scope, hash_: str) -> MemoryItem | None:
        cond, params = scope_condition(scope)
        rows = self._query(
            f"SELECT * FROM memories m WHERE {cond} AND m.hash = ? AND m.status = 'active' LIMIT 1",
            [*params, hash_],
        )
        return self._row_to_item(rows[0]) if rows else None

    def active_hashes(self, scope: Scope, hashes: Sequence[str]) -> set[str]:
        """Which of ``hashes`` belong to active memories of ``scope``."""
        hashes = list(dict.fromkeys(hashes))
        if not hashes:
            return set()
        cond, params = scope_condition(scope)
        found: set[str] = set()
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT DISTINCT m.hash FROM memories m WHERE {cond} AND m.status = 'active' "
                f"AND m.hash IN ({marks})",
                [*params, *chunk],
            )
            found.update(r["hash"] for r in rows)
        return found

    def find_attribute(self, scope: Scope, subject: str, attribute: str) -> list[MemoryItem]:
        """Active facts of ``scope`` about ``subject``'s ``attribute`` (case-insensitive)."""
        cond, params = scope_condition(scope)
        rows = self._query(
            f"SELECT * FROM memories m WHERE {cond} AND m.status = 'active' "
            "AND lower(m.subject) = lower(?) AND m.attribute = ? ORDER BY m.rowid",
            [*params, subject, attribute],
        )
        return [self._row_to_item(r) for r in rows]

    def lexical_search(
        self,
        scope: Scope,
        query: str,
        *,
        limit: int,
        where: str = "1",
        params: Sequence[Any] = (),
        now: datetime | None = None,
    ) -> list[tuple[str, float]]:
        """BM25 over memory texts within ``scope``: ``(id, score)``, higher = more relevant."""
        terms = [t for t in _FTS_TOKEN.findall(query.casefold()) if len(t) > 1 or t.isdigit()]
        if not terms or limit <= 0:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms))
        cond, cond_params = self._visible(
            scope, (MemoryStatus.ACTIVE, MemoryStatus.SUPERSEDED), now
        )
        rows = self._query(
            f"""SELECT m.id AS id, bm25(memories_fts) AS rank FROM memories_fts
            JOIN memories m ON m.rowid = memories_fts.rowid
            WHERE memories_fts MATCH ? AND {cond} AND ({where})
            ORDER BY rank LIMIT ?""",
            [match, *cond_params, *params, int(limit)],
        )
        # FTS5's bm25() is negative (more negative = better); flip it to "higher is better".
        return [(r["id"], -float(r["rank"])) for r in rows]

    def entity_links(self, ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._query(
                f"SELECT memory_id, entity FROM memory_entities WHERE memory_id IN ({marks})",
                chunk,
            ):
                out.setdefault(row["memory_id"], set()).add(row["entity"])
        return out

    def known_entities(self, scope: Scope, names: Sequence[str]) -> dict[str, int]:
        """Which of ``names`` (case-folded) are linked to memories of ``scope``, with how many
        memories each is linked to."""
        names = list({n.casefold() for n in names if n.strip()})
        if not names:
            return {}
        cond, params = scope_condition(scope)
        marks = ",".join("?" * len(names))
        rows = self._query(
            f"""SELECT e.entity AS entity, count(*) AS n FROM memory_entities e JOIN memories m
            ON m.id = e.memory_id WHERE {cond} AND e.entity IN ({marks}) GROUP BY e.entity""",
            [*params, *names],
        )
        return {r["entity"]: int(r["n"]) for r in rows}

    def scope_stats(self, scope: Scope) -> tuple[int, datetime | None, datetime | None]:
        """Count, oldest and newest event time of the active memories of ``scope``."""
        cond, params = scope_condition(scope)
        row = self._query(
            f"""SELECT count(*) AS n, min(coalesce(m.event_time, m.created_at)) AS lo,
            max(coalesce(m.event_time, m.created_at)) AS hi FROM memories m
            WHERE {cond} AND m.status = 'active'""",
            params,
        )[0]
        return int(row["n"]), _dt(row["lo"]), _dt(row["hi"])

    # -- history --------------------------------------------------------------------------------

    def add_history(
        self,
        entry_id: str,
        memory_id: str,
        *,
        old: str | None,
        new: str | None,
        event: EventType,
        actor: str | None,
        reason: str | None,
        scope: Scope,
        at: datetime,
    ) -> None:
        with self.transaction() as conn:
            seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM history").fetchone()[0]
            conn.execute(
                """INSERT INTO history (id, memory_id, old_memory, new_memory, event, actor,
                reason, user_id, agent_id, run_id, created_at, seq)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    entry_id,
                    memory_id,
                    old,
                    new,
                    event.value,
                    actor,
                    reason,
                    scope.user_id,
                    scope.agent_id,
                    scope.run_id,
                    _ts(at),
                    seq,
                ),
            )

    def history(self, memory_id: str) -> list[HistoryEntry]:
        rows = self._query("SELECT * FROM history WHERE memory_id = ? ORDER BY seq", (memory_id,))
        return [
            HistoryEntry(
                id=r["id"],
                memory_id=r["memory_id"],
                old_memory=r["old_memory"],
                new_memory=r["new_memory"],
                event=EventType(r["event"]),
                actor=r["actor"],
                reason=r["reason"],
                created_at=_dt(r["created_at"]),
            )
            for r in rows
        ]

    def history_scope(self, memory_id: str) -> Scope | None:
        rows = self._query(
            "SELECT user_id, agent_id, run_id FROM history WHERE memory_id = ? LIMIT 1",
            (memory_id,),
        )
        if not rows:
            return None
        return Scope(
            user_id=rows[0]["user_id"], agent_id=rows[0]["agent_id"], run_id=rows[0]["run_id"]
        )

    # -- turns, buffer and summaries ------------------------------------------------------------

    def insert_turn(
        self,
        scope: Scope,
        message: Message,
        tokens: int,
        at: datetime,
        options: dict[str, Any] | None = None,
    ) -> None:
        """Store a turn (in the buffer, not yet extracted) with the options of its add, so an
        interrupted add can be finished later exactly as it was asked for."""
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO turns (scope_key, user_id, agent_id, run_id, message_id, role,
                name, content, timestamp, created_at, tokens, in_buffer, options, raw)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)""",
                (
                    scope.key,
                    scope.user_id,
                    scope.agent_id,
                    scope.run_id,
                    message.id,
                    message.role,
                    message.name,
                    message.content,
                    _ts(message.timestamp),
                    _ts(at),
                    tokens,
                    json.dumps(options or {}, default=str),
                    message.model_dump_json(),
                ),
            )

    def message_ids_exist(self, scope: Scope, ids: Sequence[str]) -> set[str]:
        ids = list(ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = self._query(
            f"SELECT message_id FROM turns WHERE scope_key = ? AND message_id IN ({marks})",
            [scope.key, *ids],
        )
        return {r["message_id"] for r in rows}

    def buffer(self, scope: Scope) -> list[tuple[int, Message, int]]:
        """The turns still in the recent buffer of exactly ``scope``: ``(seq, message, tokens)``."""
        rows = self._query(
            "SELECT seq, raw, tokens FROM turns WHERE scope_key = ? AND in_buffer = 1 ORDER BY seq",
            (scope.key,),
        )
        return [(r["seq"], Message.model_validate_json(r["raw"]), r["tokens"]) for r in rows]

    def recent_turns(self, scope: Scope, limit: int) -> list[Message]:
        rows = self._query(
            "SELECT raw FROM turns WHERE scope_key = ? ORDER BY seq DESC LIMIT ?",
            (scope.key, int(limit)),
        )
        return [Message.model_validate_json(r["raw"]) for r in reversed(rows)]

    def turns(self, scope: Scope) -> list[Message]:
        """Every stored turn whose scope ids include ``scope``'s ids, in insertion order."""
        cond, params = scope_condition(scope, alias="t")
        rows = self._query(f"SELECT raw FROM turns t WHERE {cond} ORDER BY seq", params)
        return [Message.model_validate_json(r["raw"]) for r in rows]

    def turns_with_scope(self, scope: Scope) -> list[tuple[dict[str, str | None], Message]]:
        """Like :meth:`turns`, with each turn's own scope ids."""
        cond, params = scope_condition(scope, alias="t")
        rows = self._query(
            f"SELECT user_id, agent_id, run_id, raw FROM turns t WHERE {cond} ORDER BY seq",
            params,
        )
        return [
            (
                {k: r[k] for k in _SCOPE_COLUMNS},
                Message.model_validate_json(r["raw"]),
            )
            for r in rows
        ]

    def summaries(self, scope: Scope) -> list[dict[str, Any]]:
        """The summaries of every exact scope within ``scope``."""
        cond, params = scope_condition(scope, alias="s")
        rows = self._query(
            f"SELECT user_id, agent_id, run_id, summary, turns_folded FROM summaries s "
            f"WHERE {cond}",
            params,
        )
        return [dict(r) for r in rows]

    def mark_extracted(self, scope: Scope, message_ids: Sequence[str]) -> None:
        if not message_ids:
            return
        with self.transaction() as conn:
            marks = ",".join("?" * len(message_ids))
            conn.execute(
                f"UPDATE turns SET extracted = 1 WHERE scope_key = ? AND message_id IN ({marks})",
                [scope.key, *message_ids],
            )

    def unextracted(self, scope: Scope | None) -> list[tuple[Scope, dict[str, Any], list[Message]]]:
        """Stored turns never extracted, oldest first, grouped into runs of the same exact
        scope and add options."""
        sql = (
            "SELECT scope_key, user_id, agent_id, run_id, options, raw FROM turns t "
            "WHERE extracted = 0"
        )
        params: list[Any] = []
        if scope is not None:
            cond, params = scope_condition(scope, alias="t")
            sql += f" AND {cond}"
        groups: list[tuple[Scope, dict[str, Any], list[Message]]] = []
        last: tuple[str, str] | None = None
        for r in self._query(sql + " ORDER BY seq", params):
            key = (r["scope_key"], r["options"])
            if key != last:
                scope_of = Scope(user_id=r["user_id"], agent_id=r["agent_id"], run_id=r["run_id"])
                groups.append((scope_of, json.loads(r["options"]), []))
                last = key
            groups[-1][2].append(Message.model_validate_json(r["raw"]))
        return groups

    def add_audit(
        self,
        entry_id: str,
        *,
        scope: Scope,
        stage: str,
        message_ids: Sequence[str],
        error: str,
        raw: str | None,
        at: datetime,
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (id, at, user_id, agent_id, run_id, stage, message_ids, "
                "error, raw) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    entry_id,
                    _ts(at),
                    scope.user_id,
                    scope.agent_id,
                    scope.run_id,
                    stage,
                    json.dumps(list(message_ids)),
                    error,
                    raw,
                ),
            )

    def audit(self, scope: Scope | None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM audit a", []
        if scope is not None and not scope.is_empty:
            cond, params = scope_condition(scope, alias="a")
            sql += f" WHERE {cond}"
        rows = self._query(sql + " ORDER BY at, id", params)
        return [{**dict(r), "message_ids": json.loads(r["message_ids"])} for r in rows]

    def evict(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        with self.transaction() as conn:
            marks = ",".join("?" * len(seqs))
            conn.execute(f"UPDATE turns SET in_buffer = 0 WHERE seq IN ({marks})", list(seqs))

    def summary(self, scope: Scope) -> tuple[str, int, int]:
        """``(summary, tokens, turns_folded)`` of exactly ``scope`` (empty when none)."""
        rows = self._query(
            "SELECT summary, tokens, turns_folded FROM summaries WHERE scope_key = ?", (scope.key,)
        )
        if not rows:
            return "", 0, 0
        return rows[0]["summary"], rows[0]["tokens"], rows[0]["turns_folded"]

    def set_summary(
        self, scope: Scope, text: str, tokens: int, turns_folded: int, at: datetime
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO summaries (scope_key, user_id, agent_id, run_id, summary, tokens,
                turns_folded, updated_at) VALUES (?,?,?,?,?,?,?,?)
                ON CONFLICT(scope_key) DO UPDATE SET summary=excluded.summary,
                tokens=excluded.tokens, turns_folded=excluded.turns_folded,
                updated_at=excluded.updated_at""",
                (
                    scope.key,
                    scope.user_id,
                    scope.agent_id,
                    scope.run_id,
                    text,
                    tokens,
                    turns_folded,
                    _ts(at),
                ),
            )

    def delete_scope(self, scope: Scope) -> list[MemoryItem]:
        """Delete every memory, turn and summary of ``scope`` (history stays as the audit
        trail); return the deleted memories."""
        with self.transaction() as conn:
            cond, params = scope_condition(scope)
            rows = conn.execute(f"SELECT m.* FROM memories m WHERE {cond}", params).fetchall()
            items = [self._row_to_item(r) for r in rows]
            self.delete_memories([i.id for i in items])
            for table in ("turns", "summaries"):
                tcond, tparams = scope_condition(scope, alias=table)
                conn.execute(f"DELETE FROM {table} WHERE {tcond}", tparams)
            return items

    def reset(self) -> None:
        with self.transaction() as conn:
            for table in (
                "memories",
                "memory_entities",
                "history",
                "turns",
                "summaries",
                "outbox",
                "audit",
            ):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM meta WHERE key IN ('embedder', 'dimension')")

    # -- vector outbox --------------------------------------------------------------------------

    def enqueue(self, op: VectorOp) -> None:
        with self.transaction() as conn:
            vectors = dim = None
            if op.vectors is not None:
                arr = np.ascontiguousarray(op.vectors, dtype=np.float32)
                vectors, dim = arr.tobytes(), int(arr.shape[1]) if arr.ndim == 2 else 0
            conn.execute(
                "INSERT INTO outbox (op, ids, vectors, dimension, metadatas) VALUES (?,?,?,?,?)",
                (
                    op.op,
                    json.dumps(op.ids),
                    vectors,
                    dim,
                    json.dumps(op.metadatas) if op.metadatas is not None else None,
                ),
            )

    def pending(self) -> list[tuple[int, VectorOp]]:
        out = []
        for r in self._query("SELECT * FROM outbox ORDER BY seq"):
            vectors = None
            if r["vectors"] is not None:
                vectors = np.frombuffer(r["vectors"], dtype=np.float32).reshape(-1, r["dimension"])
            metas = json.loads(r["metadatas"]) if r["metadatas"] else None
            out.append((r["seq"], VectorOp(r["op"], json.loads(r["ids"]), vectors, metas)))
        return out

    def done(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        with self.transaction() as conn:
            marks = ",".join("?" * len(seqs))
            conn.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", list(seqs))


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (``BEGIN ... END;``) whole."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    if "\n".join(current).strip():
        statements.append("\n".join(current).strip())
    return statements
