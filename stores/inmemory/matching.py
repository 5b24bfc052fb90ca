"""Filter evaluation and lexical ranking in plain Python: the reference semantics.

:func:`matches` evaluates a parsed filter on a memory exactly as the grammar in
:mod:`hybrid_memory.filters` defines it; :func:`bm25` ranks memories sharing words with a text.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from hybrid_memory.filters import AllOf, AnyOf, Condition, Filter, Not
from hybrid_memory.models import MemoryItem, as_utc
from stores.base import COMMON_SHARE

_WORD = re.compile(r"\w+", re.UNICODE)


def _value(item: MemoryItem, cond: Condition) -> Any:
    """The field's value as a store keeps it: dates as ISO strings, JSON arrays and objects as
    compact JSON text, booleans as 0/1, a missing key as None."""
    if cond.kind == "metadata":
        value = item.metadata.get(cond.field)
    else:
        value = getattr(item, cond.field)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _rank(value: Any) -> tuple[int, Any]:
    """Order across types: numbers below strings."""
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _text(value: Any) -> str:
    return str(value)


def _compare(value: Any, op: str, operand: Any) -> bool:
    if op == "eq":
        return value is None if operand is None else value is not None and value == operand
    if op == "ne":
        return value is not None if operand is None else value is None or value != operand
    if op == "in":
        return value is not None and value in operand
    if op == "nin":
        return value is None or value not in operand
    if value is None:
        return False
    if op == "contains":
        return operand in _text(value)
    if op == "icontains":
        return operand.casefold() in _text(value).casefold()
    left, right = _rank(value), _rank(operand)
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def matches(item: MemoryItem, node: Filter | None) -> bool:
    """Whether ``item`` satisfies the filter (``None`` matches everything)."""
    if node is None:
        return True
    if isinstance(node, Condition):
        return _compare(_value(item, node), node.op, node.value)
    if isinstance(node, Not):
        return not matches(item, node.part)
    if isinstance(node, AllOf):
        return all(matches(item, part) for part in node.parts)
    assert isinstance(node, AnyOf)
    return any(matches(item, part) for part in node.parts)


def words(text: str) -> list[str]:
    """Case-folded word tokens (single letters dropped, as the SQLite store does)."""
    return [t for t in _WORD.findall(text.casefold()) if len(t) > 1 or t.isdigit()]


def bm25(
    query: str,
    documents: Sequence[tuple[str, str]],
    *,
    k1: float = 1.2,
    b: float = 0.75,
    common_share: float = COMMON_SHARE,
) -> list[tuple[str, float]]:
    """``(id, score)`` of the documents sharing a word with ``query``, best first; words in
    more than ``common_share`` of the documents are not searched (unless all are)."""
    terms = list(dict.fromkeys(words(query)))
    if not terms or not documents:
        return []
    tokenized = [(doc_id, Counter(words(text))) for doc_id, text in documents]
    avg = sum(sum(c.values()) for _, c in tokenized) / len(tokenized) or 1.0
    df = {t: sum(1 for _, c in tokenized if t in c) for t in terms}
    n = len(tokenized)
    telling = [t for t in terms if df[t] <= common_share * n]
    terms = telling or terms
    scored = []
    for doc_id, counts in tokenized:
        length = sum(counts.values())
        score = 0.0
        for t in terms:
            tf = counts.get(t, 0)
            if tf:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
        if score > 0:
            scored.append((doc_id, score))
    scored.sort(key=lambda p: (-p[1], p[0]))
    return scored
