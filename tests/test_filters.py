"""Filters compile to SQL that SQLite really evaluates; malformed filters are typed errors."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from hybrid_memory.errors import FilterError
from hybrid_memory.filters import parse_filter
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
        ({"category": "food"}, {"a"}),
        ({"category": {"eq": "travel"}}, {"b"}),
        ({"category": {"ne": "travel"}}, {"a", "c"}),
        ({"category": {"in": ["food", "work"]}}, {"a", "c"}),
        ({"category": {"nin": ["food", "work"]}}, {"b"}),
        ({"priority": {"gt": 1}}, {"b", "c"}),
        ({"priority": {"gte": 3, "lt": 5}}, {"b"}),
        ({"priority": {"$lte": 3}}, {"a", "b"}),
        ({"tags": {"contains": "vegan"}}, {"a"}),
        ({"tags": {"icontains": "urgent"}}, {"c"}),
        ({"tags": {"contains": "urgent"}}, set()),
        ({"tags": {"ne": None}}, {"a", "c"}),
        ({"tags": None}, {"b"}),
        ({"kind": "observation"}, {"c"}),
        ({"created_at": {"gte": datetime(2024, 2, 1, tzinfo=UTC)}}, {"b", "c"}),
        ({"created_at": {"lt": "2024-02-01"}}, {"a"}),
        ({"OR": [{"category": "food"}, {"priority": {"gte": 5}}]}, {"a", "c"}),
        ({"AND": [{"category": {"ne": "food"}}, {"priority": {"lt": 5}}]}, {"b"}),
        ({"NOT": {"category": "food"}}, {"b", "c"}),
        ({"$or": [{"category": "travel"}, {"NOT": {"priority": {"gt": 0}}}]}, {"b"}),
    ],
)
def test_filter_semantics(db, filters, expected):
    assert ids(db, filters) == expected


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"category": {"like": "x"}}, "unknown filter operator"),
        ({"category": {}}, "no operator"),
        ({"category": {"in": "food"}}, "non-empty list"),
        ({"category": {"in": []}}, "non-empty list"),
        ({"bad key!": 1}, "not valid"),
        ({"AND": {"a": 1}}, "non-empty list"),
        ({"OR": []}, "non-empty list"),
        ({"priority": {"gt": None}}, "cannot compare with null"),
        ({"priority": {"eq": [1, 2]}}, "must be a string"),
        ({"created_at": {"gte": "last week"}}, "ISO 8601"),
        ({"tags": {"contains": 3}}, "non-empty string"),
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
    assert ids(db, {"category": "x' OR '1'='1"}) == set()
