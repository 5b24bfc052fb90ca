"""Metadata filters: validated once, compiled to parameterized SQL over the memory records.

Grammar (Mem0-compatible):

- ``{"key": value}``: equality.
- ``{"key": {"op": operand}}`` with ``op`` one of ``eq, ne, in, nin, gt, gte, lt, lte, contains,
  icontains`` (a leading ``$`` is accepted: ``$gte``). Several operators on one key are ANDed.
- ``{"AND": [f, ...]}``, ``{"OR": [f, ...]}``, ``{"NOT": f}`` (also lower case / ``$and``...).
- Keys are metadata keys, or the record fields ``kind``, ``status``, ``subject``, ``attribute``,
  ``created_at``, ``updated_at``, ``event_time``, ``valid_from``, ``valid_to``.
  Dates compare as ISO 8601 (pass ``datetime`` or ISO strings); other strings compare
  lexicographically, which is right for ISO dates kept in metadata.

The caller's scope is always ANDed on top of the compiled filter, so a filter can only narrow
what a caller sees, never widen it. Example::

    compile_filter({"category": {"in": ["food", "travel"]}, "priority": {"gte": 2}})
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from hybrid_memory.errors import FilterError
from hybrid_memory.models import as_utc

_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_OPS = {"eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains", "icontains"}
_LOGIC = {"and": "AND", "or": "OR", "not": "NOT"}
_COLUMNS = {"kind", "status", "subject", "attribute"}
_DATE_COLUMNS = {"created_at", "updated_at", "event_time", "valid_from", "valid_to"}
_SCOPE_KEYS = {"user_id", "agent_id", "run_id"}
_MAX_DEPTH = 16
_COMPARISON = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_Scalar = str | int | float | bool


def _operand(value: Any, key: str, *, is_date: bool) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if is_date and isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value)).isoformat()
        except ValueError:
            raise FilterError(
                f"filter on {key!r} needs an ISO 8601 date/time, got {value!r}"
            ) from None
    if value is None or isinstance(value, _Scalar):
        return int(value) if isinstance(value, bool) else value
    raise FilterError(
        f"filter operand for {key!r} must be a string, number, boolean, null or date; "
        f"got {type(value).__name__}"
    )


def _field(key: str) -> tuple[str, bool]:
    if not _KEY.match(key):
        raise FilterError(
            f"filter key {key!r} is not valid: use 1-128 characters of letters, digits, "
            "'_', '.', '-'"
        )
    if key in _COLUMNS:
        return f"m.{key}", False
    if key in _DATE_COLUMNS:
        return f"m.{key}", True
    if key in _SCOPE_KEYS:
        # Scope ids are ANDed by the store anyway; filtering on them can only narrow further.
        return f"m.{key}", False
    return f"json_extract(m.metadata, '$.\"{key}\"')", False


def _compile_condition(key: str, spec: Any, params: list[Any]) -> str:
    column, is_date = _field(key)
    if not isinstance(spec, dict):
        spec = {"eq": spec}
    if not spec:
        raise FilterError(f"filter on {key!r} has no operator; use e.g. {{'eq': value}}")
    parts = []
    for raw_op, operand in spec.items():
        op = raw_op.lstrip("$").lower() if isinstance(raw_op, str) else raw_op
        if op not in _OPS:
            raise FilterError(
                f"unknown filter operator {raw_op!r} on {key!r}; use one of {sorted(_OPS)}"
            )
        if op in ("in", "nin"):
            if not isinstance(operand, list | tuple | set) or not operand:
                raise FilterError(f"'{op}' on {key!r} needs a non-empty list of values")
            values = [_operand(v, key, is_date=is_date) for v in operand]
            params.extend(values)
            marks = ", ".join("?" for _ in values)
            sql = f"{column} IN ({marks})"
            parts.append(sql if op == "in" else f"({column} IS NULL OR NOT {sql})")
        elif op in ("contains", "icontains"):
            if not isinstance(operand, str) or not operand:
                raise FilterError(f"'{op}' on {key!r} needs a non-empty string")
            escaped = operand.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            if op == "contains":
                params.append(operand)
                parts.append(f"instr(CAST({column} AS TEXT), ?) > 0")
            else:
                params.append(f"%{escaped}%")
                parts.append(f"lower(CAST({column} AS TEXT)) LIKE lower(?) ESCAPE '\\'")
        else:
            value = _operand(operand, key, is_date=is_date)
            if value is None:
                if op == "eq":
                    parts.append(f"{column} IS NULL")
                elif op == "ne":
                    parts.append(f"{column} IS NOT NULL")
                else:
                    raise FilterError(f"'{op}' on {key!r} cannot compare with null")
                continue
            params.append(value)
            sql = f"{column} {_COMPARISON[op]} ?"
            parts.append(f"({column} IS NULL OR {sql})" if op == "ne" else sql)
    return " AND ".join(parts) if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _compile(node: Any, params: list[Any], depth: int) -> str:
    if depth > _MAX_DEPTH:
        raise FilterError(f"filter nests deeper than {_MAX_DEPTH} levels; flatten it")
    if not isinstance(node, dict):
        raise FilterError(f"a filter must be a dict, got {type(node).__name__}")
    if not node:
        return "1"
    clauses = []
    for key, spec in node.items():
        if not isinstance(key, str):
            raise FilterError(f"filter keys must be strings, got {key!r}")
        logic = _LOGIC.get(key.lstrip("$").lower())
        if logic == "NOT":
            clauses.append(f"NOT ({_compile(spec, params, depth + 1)})")
        elif logic is not None:
            if not isinstance(spec, list) or not spec:
                raise FilterError(f"{key!r} needs a non-empty list of filters")
            inner = [_compile(item, params, depth + 1) for item in spec]
            clauses.append("(" + f" {logic} ".join(inner) + ")")
        else:
            clauses.append(_compile_condition(key, spec, params))
    return clauses[0] if len(clauses) == 1 else "(" + " AND ".join(clauses) + ")"


def compile_filter(filters: dict[str, Any] | None) -> tuple[str, list[Any]]:
    """Validate ``filters`` and compile them to an SQL condition over the alias ``m``.

    Raises:
        FilterError: the filter is malformed; the message says what to change.
    """
    if filters is None:
        return "1", []
    params: list[Any] = []
    return _compile(filters, params, 0), params
