"""A parsed filter (:mod:`hybrid_memory.filters`) compiled to parameterized SQL over alias ``m``.

Every value has a number reading ``N`` and a text reading ``S`` (one of them NULL): metadata
numbers and booleans (as 1/0) read as numbers, strings as text, JSON arrays and objects as their
compact JSON text (from the ``texts`` column); record columns read as text, dates as
``timestamptz``. Comparisons follow the grammar: numbers by value, text by code point (collation
"C"), every number below every text, and a missing value matches only ``ne``/``nin``/null.
Metadata keys are parameters, never part of the SQL text.
"""

from __future__ import annotations

from typing import Any

from hybrid_memory.filters import DATE_COLUMNS, AllOf, AnyOf, Condition, Filter, Not

_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _readings(cond: Condition) -> tuple[str, str, str]:
    """SQL for the value's number reading and text reading, and its ``texts`` key. Each
    ``%s`` in a reading takes the parameters :func:`_keys` gives."""
    if cond.kind == "metadata":
        v = "(m.metadata -> %s)"
        number = (
            f"(CASE jsonb_typeof({v}) WHEN 'number' THEN ({v} #>> '{{}}')::numeric "
            f"WHEN 'boolean' THEN (CASE WHEN ({v} #>> '{{}}') = 'true' THEN 1 ELSE 0 END) END)"
        )
        text = (
            f"(CASE WHEN jsonb_typeof({v}) IN ('string', 'array', 'object') "
            "THEN m.texts ->> %s END)"
        )
        return number, text, f"metadata.{cond.field}"
    return "(NULL::numeric)", f"(m.{cond.field})", cond.field


def _equal(cond: Condition, value: Any, params: list[Any]) -> str:
    number, text, _ = _readings(cond)
    if isinstance(value, int | float):
        params.extend(_keys(cond, number))
        params.append(value)
        return f"coalesce({number} = %s::numeric, FALSE)"
    params.extend(_keys(cond, text))
    params.append(value)
    return f"coalesce({text} = {_operand(cond)}, FALSE)"


def _keys(cond: Condition, reading: str) -> list[Any]:
    """The parameters of one reading: the metadata key for each jsonb access, the ``texts``
    key last in a text reading."""
    if cond.kind != "metadata":
        return []
    n = reading.count("%s")
    if "m.texts" in reading:
        return [cond.field] * (n - 1) + [f"metadata.{cond.field}"]
    return [cond.field] * n


def _operand(cond: Condition) -> str:
    return "%s::timestamptz" if cond.kind == "date" and cond.field in DATE_COLUMNS else "%s"


def _order(cond: Condition, params: list[Any]) -> str:
    number, text, _ = _readings(cond)
    op, value = _OPS[cond.op], cond.value
    if isinstance(value, int | float):
        params.extend(_keys(cond, number))
        params.append(value)
        if cond.op in ("gt", "gte"):  # every text is above every number
            params.extend(_keys(cond, text))
            return f"coalesce({number} {op} %s::numeric, {text} IS NOT NULL)"
        return f"coalesce({number} {op} %s::numeric, FALSE)"
    collate = "" if cond.kind == "date" else ' COLLATE "C"'
    params.extend(_keys(cond, text))
    params.append(value)
    if cond.op in ("lt", "lte"):  # every number is below every text
        params.extend(_keys(cond, number))
        return f"coalesce({text}{collate} {op} {_operand(cond)}, {number} IS NOT NULL)"
    return f"coalesce({text}{collate} {op} {_operand(cond)}, FALSE)"


def _is_null(cond: Condition, params: list[Any]) -> str:
    if cond.kind == "metadata":
        params.extend([cond.field, cond.field])
        return "(m.metadata -> %s IS NULL OR jsonb_typeof(m.metadata -> %s) = 'null')"
    return f"m.{cond.field} IS NULL"


def _condition(cond: Condition, params: list[Any]) -> str:
    """SQL that is true or false, never NULL (so NOT negates as the filter grammar says)."""
    op, value = cond.op, cond.value
    _, _, key = _readings(cond)
    if op in ("contains", "icontains"):
        column = "m.texts" if op == "contains" else "m.folded"
        params.extend([key, value if op == "contains" else str(value).casefold()])
        return f"coalesce(strpos({column} ->> %s, %s) > 0, FALSE)"
    if op in ("in", "nin"):
        assert isinstance(value, tuple)
        parts = [_equal(cond, v, params) if v is not None else "FALSE" for v in value]
        sql = "(" + " OR ".join(parts) + ")"
        return sql if op == "in" else f"NOT {sql}"
    if value is None:
        sql = _is_null(cond, params)
        return sql if op == "eq" else f"NOT ({sql})"
    if op in ("eq", "ne"):
        sql = _equal(cond, value, params)
        return sql if op == "eq" else f"NOT {sql}"
    return _order(cond, params)


def compile_filter(node: Filter | None, params: list[Any]) -> str:
    """SQL for ``node`` (``TRUE`` when there is none); its parameters are appended to
    ``params``."""
    if node is None:
        return "TRUE"
    if isinstance(node, Condition):
        return _condition(node, params)
    if isinstance(node, Not):
        return f"NOT ({compile_filter(node.part, params)})"
    if not node.parts:
        return "TRUE"
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    assert isinstance(node, AllOf | AnyOf)
    return "(" + joiner.join(compile_filter(part, params) for part in node.parts) + ")"
