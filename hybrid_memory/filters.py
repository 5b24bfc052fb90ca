"""Metadata filters: validated once into a small typed tree that every store understands.

Grammar (Mem0-compatible):

- ``{"key": value}``: equality.
- ``{"key": {"op": operand}}`` with ``op`` one of ``eq, ne, in, nin, gt, gte, lt, lte, contains,
  icontains`` (a leading ``$`` is accepted: ``$gte``). Several operators on one key are ANDed.
- ``{"AND": [f, ...]}``, ``{"OR": [f, ...]}``, ``{"NOT": f}`` (also lower case / ``$and``...).
- Keys are the record fields ``kind``, ``status``, ``subject``, ``attribute``, ``created_at``,
  ``updated_at``, ``event_time``, ``valid_from``, ``valid_to`` (and the scope ids ``user_id``,
  ``agent_id``, ``run_id``, which can only narrow further), or a metadata key written
  ``metadata.<key>`` (``{"metadata.category": "food"}``; the key after the prefix is taken
  whole, dots included). Any other key is a :class:`~hybrid_memory.errors.FilterError` listing
  the fields, so a mistyped field never silently matches nothing.

Semantics, identical in every store (the conformance suite checks them):

- A missing value is null. ``eq``/``in``/``gt``... never match null; ``ne``/``nin`` do.
  ``{"key": None}`` matches null, ``{"key": {"ne": None}}`` anything else. Every condition is
  true or false, so ``NOT`` is plain negation: a memory without ``key`` matches
  ``{"NOT": {"key": "x"}}``, as it matches ``{"key": {"ne": "x"}}``.
- Booleans compare as the integers 1 and 0.
- Order comparisons: numbers by value, strings by code points, and every number is below every
  string. Dates are compared as ISO 8601 UTC strings (pass ``datetime`` or ISO strings).
- ``contains`` is a case-sensitive substring of the value as text; ``icontains`` the same after
  Unicode case folding.

The caller's scope is always ANDed on top, so a filter can only narrow what a caller sees, never
widen it. Example::

    parse_filter({"metadata.category": {"in": ["food", "travel"]}, "metadata.priority": {"gte": 2}})
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from hybrid_memory.errors import FilterError
from hybrid_memory.models import as_utc, parse_datetime
from hybrid_memory.values import check_number, check_text, short

_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
OPERATORS = ("eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains", "icontains")
_LOGIC = {"and": "and", "or": "or", "not": "not"}
COLUMNS = ("kind", "status", "subject", "attribute")
DATE_COLUMNS = ("created_at", "updated_at", "event_time", "valid_from", "valid_to")
SCOPE_COLUMNS = ("user_id", "agent_id", "run_id")
FIELDS = (*COLUMNS, *DATE_COLUMNS, *SCOPE_COLUMNS)
"""The record fields a filter may name; metadata keys go under :data:`METADATA_PREFIX`."""
METADATA_PREFIX = "metadata."
_MAX_DEPTH = 16
MAX_CONDITIONS = 200
MAX_VALUES = 5000
"""A filter is compiled into one SQL statement: these bounds keep it within what a database
parses (expression depth, number of parameters)."""

Scalar = str | int | float | None
FieldKind = Literal["column", "date", "metadata"]


@dataclass(frozen=True)
class Condition:
    """One comparison: ``field op value``.

    ``kind`` says where the field lives: a record ``column`` (or scope id), a ``date`` column
    (values are ISO 8601 UTC strings), or a ``metadata`` key. ``value`` is normalized: dates as
    ISO strings, booleans as 0/1; for ``in``/``nin`` a tuple of such values.
    """

    field: str
    kind: FieldKind
    op: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class AllOf:
    """Every part matches (an empty ``AllOf`` matches everything)."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part matches."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    """The part does not match."""

    part: Filter


Filter = Condition | AllOf | AnyOf | Not


def _operand(value: Any, key: str, *, is_date: bool) -> Scalar:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if is_date and isinstance(value, str):
        when = parse_datetime(value, f"filter on {key!r}", error=FilterError)
        assert when is not None
        return when.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return check_text(value, f"filter operand for {key!r}", error=FilterError)
    if isinstance(value, int | float):
        check_number(value, f"filter operand for {key!r}", error=FilterError)
        return value
    if value is None:
        return value
    raise FilterError(
        f"filter operand for {key!r} must be a string, number, boolean, null or date; "
        f"got {type(value).__name__}"
    )


def _field(key: str) -> tuple[str, FieldKind]:
    """Where ``key`` lives: the field name a condition compares, and its kind."""
    if key in COLUMNS or key in SCOPE_COLUMNS:
        return key, "column"
    if key in DATE_COLUMNS:
        return key, "date"
    if key.startswith(METADATA_PREFIX):
        name = key[len(METADATA_PREFIX) :]
        if not _KEY.match(name):
            raise FilterError(
                f"filter key {key!r} is not valid: after 'metadata.' use 1-128 characters of "
                "letters, digits, '_', '.', '-'"
            )
        return name, "metadata"
    hint = f"'metadata.{key}'" if _KEY.match(key) else "'metadata.<key>'"
    raise FilterError(
        f"unknown filter field {short(key)}: filter on a record field ({', '.join(FIELDS)}) "
        f"or on a metadata key written {hint}"
    )


def _condition(key: str, op: str, operand: Any, field: tuple[str, FieldKind]) -> Condition:
    name, kind = field
    is_date = kind == "date"
    if op in ("in", "nin"):
        if not isinstance(operand, list | tuple | set) or not operand:
            raise FilterError(f"'{op}' on {key!r} needs a non-empty list of values")
        values = tuple(_operand(v, key, is_date=is_date) for v in operand)
        return Condition(name, kind, op, values)
    if op in ("contains", "icontains"):
        if not isinstance(operand, str) or not operand:
            raise FilterError(f"'{op}' on {key!r} needs a non-empty string")
        return Condition(
            name, kind, op, check_text(operand, f"'{op}' on {key!r}", error=FilterError)
        )
    value = _operand(operand, key, is_date=is_date)
    if value is None and op not in ("eq", "ne"):
        raise FilterError(f"'{op}' on {key!r} cannot compare with null")
    return Condition(name, kind, op, value)


def _conditions(key: str, spec: Any) -> Filter:
    field = _field(key)
    if not isinstance(spec, dict):
        spec = {"eq": spec}
    if not spec:
        raise FilterError(f"filter on {key!r} has no operator; use e.g. {{'eq': value}}")
    parts: list[Filter] = []
    for raw_op, operand in spec.items():
        op = raw_op.lstrip("$").lower() if isinstance(raw_op, str) else raw_op
        if not isinstance(op, str) or op not in OPERATORS:
            raise FilterError(
                f"unknown filter operator {short(raw_op)} on {key!r}; use one of "
                f"{sorted(OPERATORS)}"
            )
        parts.append(_condition(key, op, operand, field))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _parse(node: Any, depth: int) -> Filter:
    if depth > _MAX_DEPTH:
        raise FilterError(f"filter nests deeper than {_MAX_DEPTH} levels; flatten it")
    if not isinstance(node, dict):
        raise FilterError(f"a filter must be a dict, got {type(node).__name__}")
    clauses: list[Filter] = []
    for key, spec in node.items():
        if not isinstance(key, str):
            raise FilterError(f"filter keys must be strings, got {short(key)}")
        logic = _LOGIC.get(key.lstrip("$").lower())
        if logic == "not":
            clauses.append(Not(_parse(spec, depth + 1)))
        elif logic is not None:
            if not isinstance(spec, list) or not spec:
                raise FilterError(f"{key!r} needs a non-empty list of filters")
            inner = tuple(_parse(item, depth + 1) for item in spec)
            clauses.append(AllOf(inner) if logic == "and" else AnyOf(inner))
        else:
            clauses.append(_conditions(key, spec))
    if not clauses:
        return AllOf(())
    return clauses[0] if len(clauses) == 1 else AllOf(tuple(clauses))


def names_field(node: Filter | None, field: str) -> bool:
    """Whether a parsed filter compares the record field ``field`` anywhere in it."""
    if node is None:
        return False
    if isinstance(node, Condition):
        return node.kind != "metadata" and node.field == field
    parts = (node.part,) if isinstance(node, Not) else node.parts
    return any(names_field(p, field) for p in parts)


def _size(node: Filter) -> tuple[int, int]:
    """How many conditions and operand values a parsed filter has."""
    if isinstance(node, Condition):
        return 1, len(node.value) if isinstance(node.value, tuple) else 1
    parts = (node.part,) if isinstance(node, Not) else node.parts
    sizes = [_size(p) for p in parts]
    return sum(c for c, _ in sizes), sum(v for _, v in sizes)


def parse_filter(filters: dict[str, Any] | None) -> Filter | None:
    """Validate ``filters`` into a :data:`Filter` tree (``None`` when there is no filter).

    Raises:
        FilterError: the filter is malformed; the message says what to change.
    """
    if filters is None:
        return None
    parsed = _parse(filters, 0)
    conditions, values = _size(parsed)
    if conditions > MAX_CONDITIONS or values > MAX_VALUES:
        raise FilterError(
            f"filter has {conditions} conditions and {values} values; the limits are "
            f"{MAX_CONDITIONS} and {MAX_VALUES}: filter on fewer keys, or store a category to "
            "filter on"
        )
    return parsed
