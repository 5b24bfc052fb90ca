"""How a LangGraph namespace names one of our scopes, and how a store item is laid out as a
memory (no LangGraph import here, so the rules can be read and tested on their own).

A :class:`NamespaceMap` is a template of labels: a literal (``"users"``) must appear as is,
a placeholder (``"{user_id}"``, ``"{agent_id}"``, ``"{run_id}"``) takes the label found at its
place as that scope id. The labels after the template are sub-namespaces inside the scope.
With the default template ``("{user_id}",)``, ``("alice", "prefs")`` is user ``alice``'s
sub-namespace ``("prefs",)``; with ``("users", "{user_id}")``, ``("users", "alice", "prefs")``
is the same place. A namespace that does not fit the template, or is too short to name the
scope, raises :class:`NamespaceError`: the store never guesses a scope, so one user's items
are never written to or read from another's.

An item is one memory of the scope (kind ``observation``), whose text is what the item's
indexed fields say and whose metadata holds, under keys starting with ``lg_``: the namespace,
one key per namespace label (``lg_ns.0``, ``lg_ns.1`` ...) and its depth (so prefixes are
store-side filters), the key, the value verbatim, whether it is indexed, its TTL and when it
was first put, and each top-level scalar field of the value (strings up to 200 characters) as
``lg_field.<name>`` (what a search ``filter`` compares).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hybrid_memory.errors import FilterError, ScopeError
from hybrid_memory.models import Scope

PLACEHOLDERS = {"{user_id}": "user_id", "{agent_id}": "agent_id", "{run_id}": "run_id"}
FIELD_PREFIX = "lg_field."
MAX_FIELD = 200
"""Longer strings are kept in the value but not copied for filtering."""
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_OPERATORS = {
    "$eq": "eq",
    "$ne": "ne",
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
    "$in": "in",
    "$nin": "nin",
}
Scalar = str | int | float | bool | None


class NamespaceError(ScopeError):
    """A LangGraph namespace that does not name one of our scopes (see :class:`NamespaceMap`)."""


@dataclass(frozen=True)
class NamespaceMap:
    """The template that turns a namespace's first labels into a scope.

    Args:
        template: literals and placeholders (``"{user_id}"``, ``"{agent_id}"``,
            ``"{run_id}"``), at least one placeholder, each at most once.

    Raises:
        NamespaceError: for a template without placeholder, a repeated placeholder, or a label
            LangGraph does not allow (empty, with a ``.``).
    """

    template: tuple[str, ...] = ("{user_id}",)

    def __post_init__(self) -> None:
        holders = [label for label in self.template if label in PLACEHOLDERS]
        if not holders:
            raise NamespaceError(
                f"namespace template {self.template!r} names no scope; include '{{user_id}}', "
                "'{agent_id}' or '{run_id}', e.g. ('users', '{user_id}')"
            )
        if len(holders) != len(set(holders)):
            raise NamespaceError(f"namespace template {self.template!r} repeats a placeholder")
        for label in self.template:
            if not isinstance(label, str) or not label or "." in label:
                raise NamespaceError(
                    f"namespace template label {label!r} must be a non-empty string without '.'"
                )

    def scope(self, namespace: Sequence[str], *, what: str = "namespace") -> Scope:
        """The scope ``namespace`` names.

        Raises:
            NamespaceError: it is shorter than the template or a literal label differs.
            ScopeError: a label taken as an id is not a valid id.
        """
        namespace = tuple(namespace)
        if len(namespace) < len(self.template):
            raise NamespaceError(
                f"{what} {namespace!r} does not name a scope: its first labels must fill the "
                f"template {self.template!r} (e.g. {self.example()!r}); a search or listing "
                "never spans several users"
            )
        ids: dict[str, Any] = {}
        for label, expected in zip(namespace, self.template, strict=False):
            if expected in PLACEHOLDERS:
                if label == "*":
                    raise NamespaceError(f"{what} {namespace!r} has a wildcard where an id goes")
                ids[PLACEHOLDERS[expected]] = label
            elif label != expected:
                raise NamespaceError(
                    f"{what} {namespace!r} does not fit the template {self.template!r}: "
                    f"expected {expected!r} where it has {label!r}"
                )
        return Scope.of(**ids)

    def example(self) -> tuple[str, ...]:
        """A namespace that fits the template (placeholders filled with sample ids)."""
        return tuple(PLACEHOLDERS.get(label, label).replace("_id", "-1") for label in self.template)


def namespace_filter(namespace: Sequence[str], *, exact: bool) -> dict[str, Any]:
    """The memory filter selecting items of ``namespace`` (``exact``) or under it (a prefix);
    a ``"*"`` label matches any label."""
    found: dict[str, Any] = {
        f"metadata.lg_ns.{i}": label for i, label in enumerate(namespace) if label != "*"
    }
    found["metadata.lg_depth"] = len(namespace) if exact else {"gte": len(namespace)}
    return found


def value_filter(flt: Mapping[str, Any] | None) -> dict[str, Any]:
    """A LangGraph search ``filter`` as a memory filter on the value's top-level fields.

    ``{"field": value}`` is equality; ``{"field": {"$gt": 3}}`` takes ``$eq``, ``$ne``,
    ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$in`` and ``$nin``.

    Raises:
        FilterError: a nested value, an unknown operator or a field name that cannot be
            filtered on (letters, digits, ``_``, ``.`` and ``-`` only).
    """
    out: dict[str, Any] = {}
    for field, condition in (flt or {}).items():
        if not isinstance(field, str) or not _FIELD_NAME.match(field):
            raise FilterError(
                f"filter field {field!r}: use a top-level field of the value made of letters, "
                "digits, '_', '.' or '-'"
            )
        key = f"metadata.{FIELD_PREFIX}{field}"
        if isinstance(condition, Mapping):
            ops = {}
            for op, operand in condition.items():
                if op not in _OPERATORS:
                    raise FilterError(
                        f"filter operator {op!r} on {field!r}: use one of {', '.join(_OPERATORS)}"
                    )
                ops[_OPERATORS[op]] = _operand(field, operand, many=op in ("$in", "$nin"))
            out[key] = ops
        else:
            out[key] = _operand(field, condition, many=False)
    return out


def _operand(field: str, operand: Any, *, many: bool) -> Any:
    values = operand if many and isinstance(operand, list | tuple) else [operand]
    if many and not isinstance(operand, list | tuple):
        raise FilterError(f"filter on {field!r}: $in and $nin take a list")
    for value in values:
        if not isinstance(value, Scalar):
            raise FilterError(
                f"filter on {field!r}: compare with strings, numbers, booleans or None "
                f"(nested values are not matched), got {type(value).__name__}"
            )
    return list(values) if many else operand


def item_metadata(
    namespace: Sequence[str],
    key: str,
    value: Mapping[str, Any],
    *,
    indexed: bool,
    ttl: float | None,
    created_at: str | None,
) -> dict[str, Any]:
    """The metadata of the memory that holds one item (see the module docstring)."""
    meta: dict[str, Any] = {f"lg_ns.{i}": label for i, label in enumerate(namespace)}
    meta.update(
        lg_namespace=list(namespace),
        lg_depth=len(namespace),
        lg_key=key,
        lg_value=dict(value),
        lg_indexed=indexed,
        lg_ttl=ttl,
        lg_created_at=created_at,
    )
    for field, inner in value.items():
        if not (isinstance(field, str) and _FIELD_NAME.match(field)):
            continue
        if isinstance(inner, Scalar) and not (isinstance(inner, str) and len(inner) > MAX_FIELD):
            meta[f"{FIELD_PREFIX}{field}"] = inner
    return meta


def matches(namespace: tuple[str, ...], kind: str, path: Sequence[str]) -> bool:
    """Whether ``namespace`` starts (``prefix``) or ends (``suffix``) with ``path``; ``"*"``
    matches any one label."""
    if len(path) > len(namespace):
        return False
    part = namespace[: len(path)] if kind == "prefix" else namespace[len(namespace) - len(path) :]
    return all(p == "*" or p == n for p, n in zip(path, part, strict=True))
