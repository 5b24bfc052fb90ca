"""Reads of memory records: selection, lexical search (FTS5 BM25), entities, summaries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from hybrid_memory.models import MemoryItem, Message, Scope
from stores.base import COMMON_SHARE, MemoryQuery, RunSummary, ScopeStats
from stores.sqlite.db import Db
from stores.sqlite.filters import compile_filter
from stores.sqlite.rows import chunks, dt, marks, row_to_item, scope_condition, ts

_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)
COMMON_SAMPLE = 1000
"""How many of a selection's most recent memories decide whether a query word is too common
to search for."""


def _selection(scope: Scope, query: MemoryQuery) -> tuple[str, list[Any]]:
    """The WHERE condition of ``query`` within ``scope`` (alias ``m``)."""
    # A reply is looked up by the user's index on first sources where the scope names a user
    # (message ids are the caller's: many users may have a message "1"), else by the store's.
    replies = bool(query.replying_to) and scope.user_id is None
    keyed = bool(query.ids) or bool(query.hashes) or replies
    cond, params = scope_condition(scope, keyed=keyed)
    status = f"{'+' if keyed else ''}m.status IN ({marks(query.statuses)})"
    parts = [cond, status]
    params += [s.value for s in query.statuses]
    if query.now is not None:
        parts.append("(m.expires_at IS NULL OR m.expires_at > ?)")
        params.append(ts(query.now))
    for column, values in (("id", query.ids), ("hash", query.hashes)):
        if values is not None:
            parts.append(f"m.{column} IN ({marks(values)})" if values else "0")
            params += list(values)
    if query.sources is not None:
        inside = f"SELECT 1 FROM json_each(m.sources) s WHERE s.value IN ({marks(query.sources)})"
        parts.append(f"EXISTS ({inside})" if query.sources else "0")
        params += list(query.sources)
    if query.replying_to is not None:
        # The very expression of the first-source indexes (migration 5).
        first = f"json_extract(m.sources, '$[0]') IN ({marks(query.replying_to)})"
        parts.append(first if query.replying_to else "0")
        params += list(query.replying_to)
    if query.kinds is not None:
        parts.append(f"m.kind IN ({marks(query.kinds)})" if query.kinds else "0")
        params += [k.value for k in query.kinds]
    if query.subject is not None:
        parts.append("hm_casefold(m.subject) = hm_casefold(?)")
        params.append(query.subject)
    if query.attribute is not None:
        parts.append("m.attribute = ?")
        params.append(query.attribute)
    if query.attributed:
        parts.append("m.attribute IS NOT NULL")
    parts.append(compile_filter(query.filter, params))
    return " AND ".join(parts), params


def _order(query: MemoryQuery) -> str:
    if query.order == "any":
        return ""
    if query.order == "oldest":
        return " ORDER BY m.rowid"
    return " ORDER BY m.created_at DESC, m.rowid DESC"


class MemoryReads(Db):
    """Memory reads, shared by the store and its unit of work (which sees its own writes)."""

    def get_memories(self, ids: Sequence[str]) -> dict[str, MemoryItem]:
        out: dict[str, MemoryItem] = {}
        for chunk in chunks(list(dict.fromkeys(ids))):
            for row in self._query(f"SELECT * FROM memories WHERE id IN ({marks(chunk)})", chunk):
                out[row["id"]] = row_to_item(row)
        return out

    def _select(self, columns: str, scope: Scope, query: MemoryQuery) -> list[Any]:
        where, params = _selection(scope, query)
        sql = f"SELECT {columns} FROM memories m WHERE {where}{_order(query)}"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(int(query.limit))
        return self._query(sql, params)

    def find_memories(self, scope: Scope, query: MemoryQuery) -> list[MemoryItem]:
        return [row_to_item(r) for r in self._select("m.*", scope, query)]

    def find_memory_ids(self, scope: Scope, query: MemoryQuery) -> list[str]:
        return [r["id"] for r in self._select("m.id", scope, query)]

    def memory_ids_with_prefix(
        self, prefix: str, scope: Scope | None, *, limit: int, history: bool = False
    ) -> list[str]:
        # A range on the indexed id column, then an exact test (ids are compared as text).
        found: set[str] = set()
        tables = (
            (("memories", "id"), ("history", "memory_id")) if history else (("memories", "id"),)
        )
        for table, column in tables:
            sql = (
                f"SELECT DISTINCT t.{column} AS id FROM {table} t WHERE t.{column} >= ? "
                f"AND t.{column} < ? AND substr(t.{column}, 1, ?) = ?"
            )
            params: list[Any] = [prefix, prefix + "\U0010ffff", len(prefix), prefix]
            if scope is not None:
                cond, more = scope_condition(scope, alias="t")
                sql, params = f"{sql} AND {cond}", [*params, *more]
            rows = self._query(f"{sql} ORDER BY 1 LIMIT ?", [*params, int(limit)])
            found.update(r["id"] for r in rows)
        return sorted(found)[:limit]

    def summary(self, scope: Scope) -> RunSummary:
        rows = self._query(
            "SELECT summary, tokens, turns_folded FROM summaries WHERE scope_key = ?", (scope.key,)
        )
        if not rows:
            return RunSummary()
        return RunSummary(rows[0]["summary"], rows[0]["tokens"], rows[0]["turns_folded"])

    def extracted(self, scope: Scope, message_ids: Sequence[str]) -> set[str]:
        ids = list(message_ids)
        if not ids:
            return set()
        rows = self._query(
            f"SELECT message_id FROM turns WHERE scope_key = ? AND extracted = 1 "
            f"AND message_id IN ({marks(ids)})",
            [scope.key, *ids],
        )
        return {r["message_id"] for r in rows}

    def message_ids_exist(self, scope: Scope, ids: Sequence[str]) -> set[str]:
        ids = list(ids)
        if not ids:
            return set()
        rows = self._query(
            f"SELECT message_id FROM turns WHERE scope_key = ? AND message_id IN ({marks(ids)})",
            [scope.key, *ids],
        )
        return {r["message_id"] for r in rows}

    def recent_turns(self, scope: Scope, limit: int) -> list[Message]:
        rows = self._query(
            "SELECT raw FROM turns WHERE scope_key = ? ORDER BY seq DESC LIMIT ?",
            (scope.key, int(limit)),
        )
        return [Message.model_validate_json(r["raw"]) for r in reversed(rows)]


class SearchReads(Db):
    """Reads only the store offers: lexical ranking, entities, statistics."""

    def lexical_search(
        self, scope: Scope, text: str, *, limit: int, query: MemoryQuery
    ) -> list[tuple[str, float]]:
        terms = [t for t in _FTS_TOKEN.findall(text.casefold()) if len(t) > 1 or t.isdigit()]
        if not terms or limit <= 0:
            return []
        where, params = _selection(scope, query)
        timeless, timeless_params = _selection(scope, replace(query, now=None))
        key = (timeless, *timeless_params)
        terms = self._telling(list(dict.fromkeys(terms)), scope, where, params, key)
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = self._query(
            f"""SELECT m.id AS id, bm25(memories_fts) AS rank FROM memories_fts
            JOIN memories m ON m.rowid = memories_fts.rowid
            WHERE memories_fts MATCH ? AND {where}
            ORDER BY rank LIMIT ?""",
            [match, *params, int(limit)],
        )
        # FTS5's bm25() is negative (more negative = better); flip it to "higher is better".
        return [(r["id"], -float(r["rank"])) for r in rows]

    def _window(self, scope: Scope) -> tuple[int, int]:
        """The sample that judges what is common in ``scope``: how many memories it holds (at
        most COMMON_SAMPLE) and the lowest rowid among the scope's COMMON_SAMPLE most recent
        memories (any status; an index on the scope's ids in rowid order serves it)."""

        def compute() -> tuple[int, int]:
            cond, params = scope_condition(scope)
            rows = self._query(
                f"SELECT m.rowid AS r FROM memories m WHERE {cond} ORDER BY m.rowid DESC LIMIT ?",
                [*params, COMMON_SAMPLE],
            )
            return len(rows), int(rows[-1]["r"]) if rows else 0

        window: tuple[int, int] = self._kept(("window", scope.key), compute)
        return window

    def _telling(
        self,
        terms: list[str],
        scope: Scope,
        where: str,
        params: list[Any],
        key: tuple[Any, ...],
    ) -> list[str]:
        """``terms`` without those found in more than COMMON_SHARE of the selected memories
        (all of them when every term is). A scope of more than COMMON_SAMPLE memories is
        judged by its COMMON_SAMPLE most recent ones, so the cost of a new word does not grow
        with the scope. The counts are kept under ``key`` (the selection without its clock)
        until the store changes (see :meth:`Db._kept`)."""

        _, floor = self._window(scope)

        def selected() -> int:
            # The selection's memories within the sample (a filter may keep few of them).
            row = self._query(
                f"SELECT count(*) AS n FROM memories m WHERE {where} AND m.rowid >= ?",
                [*params, floor],
            )
            return int(row[0]["n"])

        cap = int(self._kept((*key, None), selected) * COMMON_SHARE)

        def count(term: str) -> int:
            # The full-text index is read first (a join lets SQLite run the MATCH once per
            # memory of the scope, hundreds of times slower).
            row = self._query(
                f"""SELECT count(*) AS n FROM (SELECT 1 FROM memories m WHERE m.rowid IN
                (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? AND rowid >= ?)
                AND {where} LIMIT ?)""",
                ['"' + term.replace('"', '""') + '"', floor, *params, cap + 1],
            )
            return int(row[0]["n"])

        telling = [t for t in terms if self._kept((*key, t), partial(count, t)) <= cap]
        return telling or terms

    def entity_links(self, ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for chunk in chunks(list(ids)):
            for row in self._query(
                f"SELECT memory_id, entity FROM memory_entities WHERE memory_id IN "
                f"({marks(chunk)})",
                chunk,
            ):
                out.setdefault(row["memory_id"], set()).add(row["entity"])
        return out

    def known_entities(self, scope: Scope, names: Sequence[str]) -> dict[str, int]:
        folded = list({n.casefold() for n in names if n.strip()})
        if not folded:
            return {}
        cond, params = scope_condition(scope)
        size, floor = self._window(scope)
        if size < COMMON_SAMPLE:
            floor = 0
        # The scope's latest memories first, then their links (CROSS JOIN keeps that order):
        # the cost is the sample's, not the number of links a common name has.
        rows = self._query(
            f"""SELECT e.entity AS entity, count(*) AS n FROM memories m CROSS JOIN
            memory_entities e ON e.memory_id = m.id WHERE {cond} AND m.rowid >= ?
            AND e.entity IN ({marks(folded)}) GROUP BY e.entity""",
            [*params, floor, *folded],
        )
        scale = 1.0
        if floor:
            scale = self.scope_stats(scope).count / max(size, 1)
        return {r["entity"]: max(1, round(int(r["n"]) * scale)) for r in rows}

    def scope_stats(self, scope: Scope) -> ScopeStats:
        """Kept until the store changes: every search asks, and it reads the whole scope."""
        cond, params = scope_condition(scope)

        def compute() -> ScopeStats:
            # Three queries, each of which an index answers (a count over the scope's index
            # entries, and each end of the time index) where one would read every row.
            where = f"FROM memories m WHERE {cond} AND m.status = 'active'"
            n = self._query(f"SELECT count(*) AS n {where}", params)[0]["n"]
            ends = [
                self._query(
                    f"SELECT coalesce(m.event_time, m.created_at) AS t {where} "
                    f"ORDER BY coalesce(m.event_time, m.created_at) {way} LIMIT 1",
                    params,
                )
                for way in ("ASC", "DESC")
            ]
            lo, hi = (rows[0]["t"] if rows else None for rows in ends)
            return ScopeStats(int(n), dt(lo), dt(hi))

        stats: ScopeStats = self._kept(("scope_stats", cond, *params), compute)
        return stats
