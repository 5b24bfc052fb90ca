"""Reads of memory records: selection, lexical search (BM25 over full-text search), entities."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from hybrid_memory.models import MemoryItem, Message, Scope, as_utc
from stores.base import COMMON_SHARE, MemoryQuery, RunSummary, ScopeStats
from stores.postgres.db import Db
from stores.postgres.filters import compile_filter
from stores.postgres.rows import row_to_item, scope_condition

_WORD = re.compile(r"\w+", re.UNICODE)
K1, B = 1.2, 0.75
"""BM25's usual constants (those of SQLite's bm25() and the in-memory reference)."""


def selection(scope: Scope, query: MemoryQuery) -> tuple[str, list[Any]]:
    """The WHERE condition of ``query`` within ``scope`` (alias ``m``)."""
    cond, params = scope_condition(scope)
    parts = [cond, "m.status = ANY(%s)"]
    params.append([s.value for s in query.statuses])
    if query.now is not None:
        parts.append("(m.expires_at IS NULL OR m.expires_at > %s)")
        params.append(as_utc(query.now))
    for column, values in (("id", query.ids), ("hash", query.hashes)):
        if values is not None:
            parts.append(f"m.{column} = ANY(%s)")
            params.append(list(values))
    if query.sources is not None:
        parts.append("m.sources ?| %s")
        params.append(list(query.sources))
    if query.replying_to is not None:
        parts.append("(m.sources ->> 0) = ANY(%s)")  # served by the first-source indexes
        params.append(list(query.replying_to))
    if query.kinds is not None:
        parts.append("m.kind = ANY(%s)")
        params.append([k.value for k in query.kinds])
    if query.subject is not None:
        parts.append("m.subject_folded = %s")
        params.append(query.subject.casefold())
    if query.attribute is not None:
        parts.append("m.attribute = %s")
        params.append(query.attribute)
    if query.attributed:
        parts.append("m.attribute IS NOT NULL")
    parts.append(compile_filter(query.filter, params))
    return " AND ".join(parts), params


def _order(query: MemoryQuery) -> str:
    if query.order == "any":
        return ""
    if query.order == "oldest":
        return " ORDER BY m.seq"
    return " ORDER BY m.created_at DESC, m.seq DESC"


def _lexeme_query(lexeme: str) -> str:
    """A tsquery matching exactly one (already normalized) lexeme."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


class MemoryReads(Db):
    """Memory reads, shared by the store and its unit of work (which sees its own writes)."""

    def get_memories(self, ids: Sequence[str]) -> dict[str, MemoryItem]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        rows = self._query("SELECT * FROM {s}.memories WHERE id = ANY(%s)", (wanted,))
        return {r["id"]: row_to_item(r) for r in rows}

    def _select(self, columns: str, scope: Scope, query: MemoryQuery) -> list[dict[str, Any]]:
        where, params = selection(scope, query)
        sql = f"SELECT {columns} FROM {{s}}.memories m WHERE {where}{_order(query)}"
        if query.limit is not None:
            sql += " LIMIT %s"
            params.append(int(query.limit))
        return self._query(sql, params)

    def find_memories(self, scope: Scope, query: MemoryQuery) -> list[MemoryItem]:
        return [row_to_item(r) for r in self._select("m.*", scope, query)]

    def find_memory_ids(self, scope: Scope, query: MemoryQuery) -> list[str]:
        return [r["id"] for r in self._select("m.id", scope, query)]

    def memory_ids_with_prefix(
        self, prefix: str, scope: Scope | None, *, limit: int, history: bool = False
    ) -> list[str]:
        # A range on the id index (code point order), then an exact test: text, not a pattern.
        found: set[str] = set()
        tables = (
            (("memories", "id"), ("history", "memory_id")) if history else (("memories", "id"),)
        )
        for table, column in tables:
            sql = (
                f'SELECT DISTINCT (t.{column} COLLATE "C") AS id FROM {{s}}.{table} t '
                f'WHERE t.{column} COLLATE "C" '
                f'>= %s AND t.{column} COLLATE "C" < %s AND starts_with(t.{column}, %s)'
            )
            params: list[Any] = [prefix, prefix + "\U0010ffff", prefix]
            if scope is not None:
                cond, more = scope_condition(scope, alias="t")
                sql, params = f"{sql} AND {cond}", [*params, *more]
            rows = self._query(f"{sql} ORDER BY id LIMIT %s", [*params, int(limit)])
            found.update(r["id"] for r in rows)
        return sorted(found)[:limit]

    def summary(self, scope: Scope) -> RunSummary:
        rows = self._query(
            "SELECT summary, tokens, turns_folded FROM {s}.summaries WHERE scope_key = %s",
            (scope.key,),
        )
        if not rows:
            return RunSummary()
        return RunSummary(rows[0]["summary"], rows[0]["tokens"], rows[0]["turns_folded"])

    def extracted(self, scope: Scope, message_ids: Sequence[str]) -> set[str]:
        if not message_ids:
            return set()
        rows = self._query(
            "SELECT message_id FROM {s}.turns WHERE scope_key = %s AND extracted "
            "AND message_id = ANY(%s)",
            (scope.key, list(message_ids)),
        )
        return {r["message_id"] for r in rows}

    def message_ids_exist(self, scope: Scope, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = self._query(
            "SELECT message_id FROM {s}.turns WHERE scope_key = %s AND message_id = ANY(%s)",
            (scope.key, list(ids)),
        )
        return {r["message_id"] for r in rows}

    def recent_turns(self, scope: Scope, limit: int) -> list[Message]:
        rows = self._query(
            "SELECT raw FROM {s}.turns WHERE scope_key = %s ORDER BY seq DESC LIMIT %s",
            (scope.key, int(limit)),
        )
        return [Message.model_validate_json(r["raw"]) for r in reversed(rows)]


class SearchReads(Db):
    """Reads only the store offers: lexical ranking, entities, statistics."""

    def lexical_search(
        self, scope: Scope, text: str, *, limit: int, query: MemoryQuery
    ) -> list[tuple[str, float]]:
        """BM25 computed inside PostgreSQL: the GIN index finds the memories holding a lexeme
        of ``text`` (stemmed as the memories are), and each is scored from its term
        frequencies (``unnest(tsvector)``), its length and the selection's document counts."""
        terms = [t for t in _WORD.findall(text.casefold()) if len(t) > 1 or t.isdigit()]
        if not terms or limit <= 0:
            return []
        lexemes = self._lexemes(list(dict.fromkeys(terms)))
        if not lexemes:
            return []
        where, params = selection(scope, query)
        queries = [_lexeme_query(x) for x in lexemes]
        stats = self._query(
            "SELECT count(*) AS n, coalesce(avg(length(m.tsv)), 0) AS avgdl "
            f"FROM {{s}}.memories m WHERE {where}",
            params,
        )[0]
        n, avgdl = int(stats["n"]), float(stats["avgdl"]) or 1.0
        df = self._document_counts(queries, where, params)
        telling = [i for i, d in enumerate(df) if d <= COMMON_SHARE * n] or list(range(len(df)))
        chosen = [lexemes[i] for i in telling]
        idf = [math.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5)) for i in telling]
        rows = self._query(
            f"""SELECT m.id AS id, sum(q.idf * u.tf * {K1 + 1} / (u.tf + {K1} * ({1 - B} + {B}
            * length(m.tsv) / %s))) AS score
            FROM {{s}}.memories m
            CROSS JOIN LATERAL (SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf
                FROM unnest(m.tsv)) u
            JOIN unnest(%s::text[], %s::float8[]) AS q(lexeme, idf) ON q.lexeme = u.lexeme
            WHERE m.tsv @@ %s::tsquery AND {where}
            GROUP BY m.id ORDER BY score DESC, m.id LIMIT %s""",
            [avgdl, chosen, idf, " | ".join(_lexeme_query(x) for x in chosen), *params, limit],
        )
        return [(r["id"], float(r["score"])) for r in rows]

    def _lexemes(self, terms: list[str]) -> list[str]:
        """The lexemes of ``terms`` under the memories' text search configuration."""
        rows = self._query(
            "SELECT DISTINCT lexeme FROM unnest(to_tsvector('{s}.hm_words'::regconfig, %s))",
            (" ".join(terms),),
        )
        return sorted(r["lexeme"] for r in rows)

    def _document_counts(self, queries: list[str], where: str, params: list[Any]) -> list[int]:
        """How many selected memories hold each lexeme (one statement, the GIN index)."""
        rows = self._query(
            f"""SELECT q.i AS i, count(m.id) AS n FROM unnest(%s::text[]) WITH ORDINALITY q(t, i)
            LEFT JOIN {{s}}.memories m ON m.tsv @@ q.t::tsquery AND {where}
            GROUP BY q.i ORDER BY q.i""",
            [queries, *params],
        )
        return [int(r["n"]) for r in rows]

    def entity_links(self, ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        if not ids:
            return out
        rows = self._query(
            "SELECT memory_id, entity FROM {s}.memory_entities WHERE memory_id = ANY(%s)",
            (list(ids),),
        )
        for row in rows:
            out.setdefault(row["memory_id"], set()).add(row["entity"])
        return out

    def known_entities(self, scope: Scope, names: Sequence[str]) -> dict[str, int]:
        folded = list({n.casefold() for n in names if n.strip()})
        if not folded:
            return {}
        cond, params = scope_condition(scope)
        rows = self._query(
            f"""SELECT e.entity AS entity, count(*) AS n FROM {{s}}.memory_entities e
            JOIN {{s}}.memories m ON m.id = e.memory_id WHERE {cond} AND e.entity = ANY(%s)
            GROUP BY e.entity""",
            [*params, folded],
        )
        return {r["entity"]: int(r["n"]) for r in rows}

    def scope_stats(self, scope: Scope) -> ScopeStats:
        cond, params = scope_condition(scope)
        row = self._query(
            f"""SELECT count(*) AS n, min(coalesce(m.event_time, m.created_at)) AS lo,
            max(coalesce(m.event_time, m.created_at)) AS hi FROM {{s}}.memories m
            WHERE {cond} AND m.status = 'active'""",
            params,
        )[0]
        return ScopeStats(int(row["n"]), row["lo"], row["hi"])
