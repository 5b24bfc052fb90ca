"""A parsed filter (:mod:`hybrid_memory.filters`) compiled to parameterized SQL over alias ``m``.

Metadata keys read ``json_extract(m.metadata, '$."key"')``; record fields read their column.
Case folding for ``icontains`` uses the ``hm_casefold`` function every connection registers
(Python's Unicode case folding), so SQLite and the other stores agree beyond ASCII.
"""

from __future__ import annotations

from typing import Any

from hybrid_memory.filters import AllOf, AnyOf, Condition, Filter, Not

_COMPARISON = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def casefold(value: Any) -> str | None:
    """The SQL function ``hm_casefold``."""
    return None if value is None else str(value).casefold()


def _column(cond: Condition) -> str:
    if cond.kind == "metadata":
        return f"json_extract(m.metadata, '$.\"{cond.field}\"')"
    return f"m.{cond.field}"


def _condition(cond: Condition, params: list[Any]) -> str:
    """SQL that is true or false, never NULL (so NOT negates as the filter grammar says)."""
    column = _column(cond)
    op, value = cond.op, cond.value
    if op in ("in", "nin"):
        assert isinstance(value, tuple)
        params.extend(value)
        sql = f"{column} IN ({', '.join('?' for _ in value)})"
        return f"coalesce({sql}, 0)" if op == "in" else f"({column} IS NULL OR NOT {sql})"
    if op == "contains":
        params.append(value)
        return f"coalesce(instr(CAST({column} AS TEXT), ?) > 0, 0)"
    if op == "icontains":
        params.append(value)
        return f"coalesce(instr(hm_casefold({column}), hm_casefold(?)) > 0, 0)"
    if value is None:
        return f"{column} IS NULL" if op == "eq" else f"{column} IS NOT NULL"
    params.append(value)
    sql = f"{column} {_COMPARISON[op]} ?"
    return f"({column} IS NULL OR {sql})" if op == "ne" else f"coalesce({sql}, 0)"


def compile_filter(node: Filter | None, params: list[Any]) -> str:
    """SQL for ``node`` (``1`` when there is none); its parameters are appended to ``params``."""
    if node is None:
        return "1"
    if isinstance(node, Condition):
        return _condition(node, params)
    if isinstance(node, Not):
        return f"NOT ({compile_filter(node.part, params)})"
    if not node.parts:
        return "1"
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    assert isinstance(node, AllOf | AnyOf)
    return "(" + joiner.join(compile_filter(part, params) for part in node.parts) + ")"
