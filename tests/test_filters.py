"""Filters compile to SQL that SQLite really evaluates; malformed filters are typed errors."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from hybrid_memory.errors import FilterError
from hybrid_memory.filters import AllOf, Condition, parse_filter
from stores.sqlite.filters import casefold, compile_filter

ROWS = [
    {
        "id": "a",
        "kind": "fact",
        "created_at": "2024-01-01T00:00:00+00:00",
        "metadata": {"category": "food", "priority": 1, "tags": "spicy vegan"},
    },
    {
        "id": "b",
        "kind": "fact",
        "created_at": "2024-03-01T00:00:00+00:00",
        "metadata": {"category": "travel", "priority": 3},
    },
    {
        "id": "c",
        "kind": "observation",
        "created_at": "2024-06-01T00:00:00+00:00",
        "metadata": {"category": "work", "priority": 5, "tags": "Urgent"},
    },
]


@pytest.fixture(scope="module")
def db():
    conn = sqlite3.connect(":memory:")
    conn.create_function("hm_casefold", 1, casefold, deterministic=True)
    conn.execute("CREATE TABLE memories (id TEXT, kind TEXT, created_at TEXT, metadata TEXT)")
    conn.executemany(
        "INSERT INTO memories VALUES (?,?,?,?)",
        [(r["id"], r["kind"], r["created_at"], json.dumps(r["metadata"])) for r in ROWS],
    )
    return conn


def ids(db, filters) -> set[str]:
    params: list = []
    where = compile_filter(parse_filter(filters), params)
    return {r[0] for r in db.execute(f"SELECT id FROM memories m WHERE {where}", params)}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, {"a", "b", "c"}),
        ({}, {"a", "b", "c"}),
        ({"metadata.category": "food"}, {"a"}),
        ({"metadata.category": {"eq": "travel"}}, {"b"}),
        ({"metadata.category": {"ne": "travel"}}, {"a", "c"}),
        ({"metadata.category": {"in": ["food", "work"]}}, {"a", "c"}),
        ({"metadata.category": {"nin": ["food", "work"]}}, {"b"}),
        ({"metadata.priority": {"gt": 1}}, {"b", "c"}),
        ({"metadata.priority": {"gte": 3, "lt": 5}}, {"b"}),
        ({"metadata.priority": {"$lte": 3}}, {"a", "b"}),
        ({"metadata.tags": {"contains": "vegan"}}, {"a"}),
        ({"metadata.tags": {"icontains": "urgent"}}, {"c"}),
        ({"metadata.tags": {"contains": "urgent"}}, set()),
        ({"metadata.tags": {"ne": None}}, {"a", "c"}),
        ({"metadata.tags": None}, {"b"}),
        ({"kind": "observation"}, {"c"}),
        ({"created_at": {"gte": datetime(2024, 2, 1, tzinfo=UTC)}}, {"b", "c"}),
        ({"created_at": {"lt": "2024-02-01"}}, {"a"}),
        ({"OR": [{"metadata.category": "food"}, {"metadata.priority": {"gte": 5}}]}, {"a", "c"}),
        ({"AND": [{"metadata.category": {"ne": "food"}}, {"metadata.priority": {"lt": 5}}]}, {"b"}),
        ({"NOT": {"metadata.category": "food"}}, {"b", "c"}),
        (
            {"$or": [{"metadata.category": "travel"}, {"NOT": {"metadata.priority": {"gt": 0}}}]},
            {"b"},
        ),
    ],
)
def test_filter_semantics(db, filters, expected):
    assert ids(db, filters) == expected


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"metadata.category": {"like": "x"}}, "unknown filter operator"),
        ({"metadata.category": {}}, "no operator"),
        ({"metadata.category": {"in": "food"}}, "non-empty list"),
        ({"metadata.category": {"in": []}}, "non-empty list"),
        ({"metadata.bad key!": 1}, "not valid"),
        ({"metadata.": 1}, "not valid"),
        ({"bad key!": 1}, "unknown filter field"),
        ({"AND": {"a": 1}}, "non-empty list"),
        ({"OR": []}, "non-empty list"),
        ({"metadata.priority": {"gt": None}}, "cannot compare with null"),
        ({"metadata.priority": {"eq": [1, 2]}}, "must be a string"),
        ({"created_at": {"gte": "last week"}}, "ISO 8601"),
        ({"metadata.tags": {"contains": 3}}, "non-empty string"),
        (["category"], "must be a dict"),
        ({1: "x"}, "must be strings"),
    ],
)
def test_malformed_filters_are_typed_errors(filters, message):
    with pytest.raises(FilterError, match=message):
        parse_filter(filters)


def test_deep_nesting_is_refused():
    node: dict = {"category": "food"}
    for _ in range(20):
        node = {"NOT": node}
    with pytest.raises(FilterError, match="deeper"):
        parse_filter(node)


def test_values_are_parameters_not_sql(db):
    # An injection attempt is just a value that matches nothing.
    assert ids(db, {"metadata.category": "x' OR '1'='1"}) == set()
    # A metadata key is data too, never SQL: the key is checked, then quoted into the path.
    with pytest.raises(FilterError, match="not valid"):
        parse_filter({"metadata.x') OR 1=1 --": 1})


@pytest.mark.parametrize("key", ["colour", "category", "Kind", "memory", "metadata"])
def test_a_key_that_is_no_field_is_refused_with_the_fields_and_the_metadata_form(key):
    """A mistyped field (or a metadata key without its prefix) would otherwise match nothing
    and look like "no memories"."""
    with pytest.raises(FilterError) as caught:
        parse_filter({"OR": [{"kind": "fact"}, {key: "red"}]})
    message = str(caught.value)
    assert f"unknown filter field {key!r}" in message
    assert "kind, status, subject, attribute, created_at" in message
    assert f"'metadata.{key}'" in message


def test_metadata_keys_are_compared_without_their_prefix():
    parsed = parse_filter({"metadata.a.b": 1, "status": "active"})
    assert parsed == AllOf(
        (Condition("a.b", "metadata", "eq", 1), Condition("status", "column", "eq", "active"))
    )
