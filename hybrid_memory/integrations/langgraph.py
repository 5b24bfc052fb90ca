"""LangGraph: :class:`HybridMemoryStore`, a ``BaseStore`` over :class:`HybridMemory`.

Pass it as a graph's store (``builder.compile(store=HybridMemoryStore(memory))``); nodes then
``put``, ``get``, ``search`` and ``list_namespaces`` through it. What it does:

- Namespaces name scopes through a :class:`~hybrid_memory.integrations.namespaces.NamespaceMap`
  (default: the first label is the user id); see that module for the rules and the layout.
- ``put(namespace, key, value)`` replaces the key's value: the new memory is written first
  (verbatim, with no extraction, so no other key's equal text can absorb it), then the former
  one is deleted, so a crash between the two leaves the old value or the new one, never none.
  ``get`` returns exactly what was put (as JSON reads it back: tuples come back as lists).
- ``index``: ``None`` indexes the store's ``index_fields`` (every string of the value when
  those are ``None``), a list indexes those field paths, ``False`` keeps the item out of
  query searches (it is still returned by ``get``, by searches without a query, and after the
  ranked items of a query search when there are too few, with ``score=None``, as LangGraph's
  own store does).
- ``search(prefix, query=...)`` runs the memory's hybrid retrieval (dense + BM25 + boosts);
  ``score`` is its 0-1 relevance. ``filter`` compares top-level scalar fields of the value.
- TTL (minutes) is honoured: an expired item is never returned; reads refresh it (by writing
  it again) unless ``refresh_ttl=False`` or the ``ttl_config`` says not to.

Not supported: a search or listing that does not name one scope (e.g. every user's items),
filters on nested fields, and a value larger than the memory's metadata limit
(``limits.max_metadata_bytes``, 16 KiB by default).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from hybrid_memory.errors import UserInputError
from hybrid_memory.integrations._extras import missing_extra, scope_ids, sync_memory
from hybrid_memory.integrations.namespaces import (
    NamespaceError,
    NamespaceMap,
    item_metadata,
    matches,
    namespace_filter,
    value_filter,
)
from hybrid_memory.models import MemoryItem, Scope, parse_datetime, utcnow

try:
    from langgraph.store.base import (
        BaseStore,
        GetOp,
        Item,
        ListNamespacesOp,
        Op,
        PutOp,
        Result,
        SearchItem,
        SearchOp,
        TTLConfig,
        validate_op_namespace,
    )
    from langgraph.store.base.embed import get_text_at_path
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise missing_extra("LangGraph", "langgraph", exc) from exc

__all__ = ["HybridMemoryStore", "NamespaceError", "NamespaceMap"]

_MAX_LIMIT = 1000


class HybridMemoryStore(BaseStore):
    """A LangGraph ``BaseStore`` whose items are memories of a :class:`HybridMemory`.

    Args:
        memory: the memory (a HybridMemory or an AsyncHybridMemory); the store does not close it.
        namespaces: how namespaces name scopes (default: first label = user id).
        index_fields: the value's field paths searched by a query when ``put`` does not say
            (``None``: every string of the value).
        ttl_config: LangGraph's TTL settings (``default_ttl`` minutes, ``refresh_on_read``).

    Example:
        >>> store = HybridMemoryStore(memory)
        >>> store.put(("alice", "prefs"), "food", {"text": "Alice is vegetarian"})
        >>> store.search(("alice",), query="what does she eat?")[0].key
        'food'
    """

    supports_ttl = True

    def __init__(
        self,
        memory: Any,
        *,
        namespaces: NamespaceMap | None = None,
        index_fields: Sequence[str] | None = None,
        ttl_config: TTLConfig | None = None,
    ) -> None:
        self.memory = sync_memory(memory)
        self.namespaces = namespaces or NamespaceMap()
        self.index_fields = list(index_fields) if index_fields is not None else None
        self.ttl_config = ttl_config

    # -- the two methods LangGraph asks for ----------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order; one result each (``None`` for a put)."""
        results: list[Result] = []
        for op in ops:
            validate_op_namespace(op)
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, PutOp):
                self._put(op)
                results.append(None)
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list(op))
            else:
                raise TypeError(f"unknown store operation {type(op).__name__}")
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """:meth:`batch` in a worker thread (the memory is synchronous underneath)."""
        return await asyncio.to_thread(self.batch, list(ops))

    # -- operations ----------------------------------------------------------------------------

    def _records(self, scope: Scope, flt: dict[str, Any], limit: int | None = None) -> list[Any]:
        return self.memory.get_all(**scope_ids(scope), filters=flt, limit=limit)

    def _current(self, scope: Scope, namespace: tuple[str, ...], key: str) -> list[MemoryItem]:
        flt = {**namespace_filter(namespace, exact=True), "metadata.lg_key": key}
        return self._records(scope, flt)

    def _get(self, op: GetOp) -> Item | None:
        scope = self.namespaces.scope(op.namespace)
        found = self._current(scope, tuple(op.namespace), op.key)
        if not found:
            return None
        self._refresh([found[0]], op.refresh_ttl)
        return _item(found[0])

    def _put(self, op: PutOp) -> None:
        namespace = tuple(op.namespace)
        scope = self.namespaces.scope(namespace)
        former = self._current(scope, namespace, op.key)
        if op.value is not None:
            paths = self.index_fields if op.index is None else op.index or None
            self._write(
                scope,
                item_metadata(
                    namespace,
                    op.key,
                    op.value,
                    indexed=op.index is not False,
                    ttl=op.ttl,
                    created_at=former[0].metadata["lg_created_at"] if former else None,
                ),
                item_text(op.value, paths),
            )
        for item in former:
            self.memory.delete(item.id, **scope_ids(scope))

    def _write(self, scope: Scope, metadata: dict[str, Any], text: str) -> None:
        """Store one item as a memory (through ``import_records``: verbatim, never merged
        with an equal text, and kept out of the conversation buffer)."""
        now = utcnow()
        metadata["lg_created_at"] = metadata.get("lg_created_at") or now.isoformat()
        ttl = metadata.get("lg_ttl")
        record = {
            "type": "memory",
            "id": uuid.uuid4().hex,
            "memory": text,
            "kind": "observation",
            **scope_ids(scope),
            "metadata": metadata,
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "expires_at": (now + timedelta(minutes=ttl)).isoformat() if ttl else None,
        }
        try:
            self.memory.import_records([record])
        except UserInputError as exc:
            where = f"key {metadata['lg_key']!r} of namespace {tuple(metadata['lg_namespace'])!r}"
            message = str(exc).removeprefix("record 1: ")
            raise type(exc)(f"cannot store {where}: {message}") from None

    def _refresh(self, items: Sequence[MemoryItem], refresh_ttl: bool | None) -> None:
        """Move the expiry of items that have a TTL (LangGraph's refresh on read): the same
        item is written again with a new expiry, then the former copy is deleted."""
        if refresh_ttl is False or (
            refresh_ttl is None and not (self.ttl_config or {}).get("refresh_on_read", True)
        ):
            return
        for item in items:
            if item.metadata.get("lg_ttl"):
                self._write(item.scope, dict(item.metadata), item.memory)
                self.memory.delete(item.id, **scope_ids(item.scope))

    def _search(self, op: SearchOp) -> list[SearchItem]:
        prefix = tuple(op.namespace_prefix)
        scope = self.namespaces.scope(prefix, what="search prefix")
        flt = {**namespace_filter(prefix, exact=False), **value_filter(op.filter)}
        wanted = op.offset + op.limit
        if not op.query:
            found = self._records(scope, flt, min(wanted, _MAX_LIMIT))[op.offset :]
            self._refresh(found, op.refresh_ttl)
            return [_item(r, search=True) for r in found]
        hits = self.memory.search(
            op.query,
            **scope_ids(scope),
            limit=max(1, min(wanted, _MAX_LIMIT)),
            filters={**flt, "metadata.lg_indexed": True},
        )
        ranked: list[tuple[MemoryItem, float | None]] = [(h, h.score) for h in hits[op.offset :]]
        if len(ranked) < op.limit:
            skip = max(0, op.offset - len(hits))
            rest = self._records(scope, {**flt, "metadata.lg_indexed": False})
            ranked += [(r, None) for r in rest[skip : skip + op.limit - len(ranked)]]
        self._refresh([r for r, _ in ranked], op.refresh_ttl)
        return [_item(r, score=s, search=True) for r, s in ranked]

    def _list(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = op.match_conditions or ()
        prefix = next((tuple(c.path) for c in conditions if c.match_type == "prefix"), ())
        scope = self.namespaces.scope(prefix, what="list_namespaces prefix")
        found = {
            tuple(r.metadata["lg_namespace"])
            for r in self._records(scope, namespace_filter(prefix, exact=False))
        }
        kept = {
            ns[: op.max_depth] if op.max_depth is not None else ns
            for ns in found
            if all(matches(ns, c.match_type, c.path) for c in conditions)
        }
        return sorted(kept)[op.offset : op.offset + op.limit]


def item_text(value: Mapping[str, Any], paths: Sequence[str] | None) -> str:
    """The text a memory of ``value`` is searched by: the strings at ``paths`` (LangGraph's
    field paths, e.g. ``"text"`` or ``"notes[*].body"``), or every string of the value when
    ``paths`` is None; the value as JSON when that finds no text."""
    texts = (
        [t for path in paths for t in get_text_at_path(dict(value), path)]
        if paths is not None
        else list(_strings(value))
    )
    text = "\n".join(t for t in texts if t.strip())
    return text or json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner)


def _item(record: MemoryItem, *, score: float | None = None, search: bool = False) -> Any:
    meta = record.metadata
    created = parse_datetime(meta["lg_created_at"], "lg_created_at") or record.created_at
    fields = {
        "namespace": tuple(meta["lg_namespace"]),
        "key": meta["lg_key"],
        "value": meta["lg_value"],
        "created_at": created,
        "updated_at": record.created_at,
    }
    if search:
        return SearchItem(**fields, score=score)
    return Item(**fields)
