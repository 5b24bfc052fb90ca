"""The PostgreSQL record store's schema, as numbered migrations (see :mod:`stores.migrations`).

``{s}`` in a statement stands for the store's schema. Times are ``timestamptz``; metadata,
sources and entities are ``jsonb``. Lexical search reads ``tsv``, a generated ``tsvector`` of
the memory text under the text search configuration ``{s}.hm_words``: the English Snowball
stemmer without a stop-word list (like SQLite's porter tokenizer, so a question made of common
words still finds its memories), indexed with GIN. ``texts`` and ``folded`` hold each
filterable value as text and case-folded (Python's Unicode case folding, which PostgreSQL
lacks), so ``contains`` and ``icontains`` mean what they mean in the other stores.
"""

from __future__ import annotations

from stores.migrations import Migration

VERSION_TABLE = "{s}.schema_migrations"

_V1 = (
    "CREATE TABLE {s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TEXT SEARCH DICTIONARY {s}.hm_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION {s}.hm_words (COPY = pg_catalog.simple)",
    """ALTER TEXT SEARCH CONFIGURATION {s}.hm_words ALTER MAPPING FOR asciiword, word,
    numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
    WITH {s}.hm_stem""",
    """CREATE TABLE {s}.memories (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT PRIMARY KEY,
        memory TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        metadata JSONB NOT NULL DEFAULT '{}',
        sources JSONB NOT NULL DEFAULT '[]',
        entities JSONB NOT NULL DEFAULT '[]',
        subject TEXT, subject_folded TEXT, attribute TEXT, aspect TEXT, value TEXT,
        hash TEXT NOT NULL,
        importance DOUBLE PRECISION NOT NULL DEFAULT 0.5,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        event_time TIMESTAMPTZ, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ,
        superseded_by TEXT, expires_at TIMESTAMPTZ,
        texts JSONB NOT NULL DEFAULT '{}',
        folded JSONB NOT NULL DEFAULT '{}',
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('{s}.hm_words'::regconfig, memory)) STORED
    )""",
    "CREATE INDEX memories_user ON {s}.memories (user_id, status, created_at)",
    "CREATE INDEX memories_agent ON {s}.memories (agent_id, status)",
    "CREATE INDEX memories_run ON {s}.memories (run_id, status)",
    "CREATE INDEX memories_hash ON {s}.memories (hash)",
    "CREATE INDEX memories_attr ON {s}.memories (subject_folded, attribute)",
    'CREATE INDEX memories_id_text ON {s}.memories (id COLLATE "C")',
    "CREATE INDEX memories_tsv ON {s}.memories USING GIN (tsv)",
    """CREATE TABLE {s}.memory_entities (
        memory_id TEXT NOT NULL, entity TEXT NOT NULL, PRIMARY KEY (memory_id, entity)
    )""",
    "CREATE INDEX memory_entities_entity ON {s}.memory_entities (entity)",
    """CREATE TABLE {s}.history (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        memory_id TEXT NOT NULL,
        old_memory TEXT, new_memory TEXT,
        event TEXT NOT NULL,
        actor TEXT, reason TEXT,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    'CREATE INDEX history_memory ON {s}.history (memory_id COLLATE "C", seq)',
    """CREATE TABLE {s}.turns (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        scope_key TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        message_id TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        tokens INTEGER NOT NULL,
        in_buffer BOOLEAN NOT NULL DEFAULT TRUE,
        extracted BOOLEAN NOT NULL DEFAULT FALSE,
        options TEXT NOT NULL DEFAULT '{}',
        raw TEXT NOT NULL,
        quarantined TEXT, quarantined_at TIMESTAMPTZ
    )""",
    # One turn per message id and exact scope: two processes storing the same message at
    # once keep one row (the second insert does nothing).
    "CREATE UNIQUE INDEX turns_message ON {s}.turns (scope_key, message_id)",
    "CREATE INDEX turns_buffer ON {s}.turns (scope_key, in_buffer, seq)",
    "CREATE INDEX turns_pending ON {s}.turns (seq) WHERE NOT extracted",
    "CREATE INDEX turns_user ON {s}.turns (user_id, seq)",
    """CREATE TABLE {s}.audit (
        id TEXT PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        stage TEXT NOT NULL,
        message_ids TEXT NOT NULL,
        error TEXT NOT NULL,
        raw TEXT
    )""",
    """CREATE TABLE {s}.summaries (
        scope_key TEXT PRIMARY KEY,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        summary TEXT NOT NULL, tokens INTEGER NOT NULL,
        turns_folded INTEGER NOT NULL, updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE {s}.outbox (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        op TEXT NOT NULL,
        ids TEXT NOT NULL,
        vectors BYTEA,
        dimension INTEGER,
        metadatas TEXT,
        quarantined TEXT, quarantined_at TIMESTAMPTZ
    )""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, _V1, "memories with full-text search, entities, history, turns, audit, outbox"),
    Migration(
        2,
        (
            "CREATE INDEX IF NOT EXISTS memories_user_first_source ON {s}.memories "
            "(user_id, (sources ->> 0))",
            "CREATE INDEX IF NOT EXISTS memories_first_source ON {s}.memories ((sources ->> 0))",
        ),
        "indexes on the first source of a memory (the turn a reply answers)",
    ),
)
