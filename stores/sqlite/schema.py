"""The SQLite record store's schema, as numbered migrations (see :mod:`stores.migrations`).

FTS5 indexes the memory texts for BM25 (porter stemming); triggers keep it in step with the
``memories`` table. Every statement is idempotent, so a database written before the version
table existed is adopted as it is.
"""

from __future__ import annotations

from stores.migrations import Migration

VERSION_TABLE = "schema_migrations"

_V1 = (
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS memories (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        memory TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        sources TEXT NOT NULL DEFAULT '[]',
        entities TEXT NOT NULL DEFAULT '[]',
        subject TEXT, attribute TEXT,
        hash TEXT NOT NULL,
        importance REAL NOT NULL DEFAULT 0.5,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        event_time TEXT, valid_from TEXT, valid_to TEXT,
        superseded_by TEXT, expires_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS memories_user ON memories(user_id, status)",
    "CREATE INDEX IF NOT EXISTS memories_agent ON memories(agent_id, status)",
    "CREATE INDEX IF NOT EXISTS memories_run ON memories(run_id, status)",
    "CREATE INDEX IF NOT EXISTS memories_hash ON memories(hash)",
    "CREATE INDEX IF NOT EXISTS memories_attr ON memories(subject, attribute)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
        memory, content='memories', content_rowid='rowid', tokenize='porter unicode61'
    )""",
    """CREATE TRIGGER IF NOT EXISTS memories_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts(rowid, memory) VALUES (new.rowid, new.memory);
    END""",
    """CREATE TRIGGER IF NOT EXISTS memories_ad AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, memory)
        VALUES ('delete', old.rowid, old.memory);
    END""",
    """CREATE TRIGGER IF NOT EXISTS memories_au AFTER UPDATE OF memory ON memories BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, memory)
        VALUES ('delete', old.rowid, old.memory);
        INSERT INTO memories_fts(rowid, memory) VALUES (new.rowid, new.memory);
    END""",
    """CREATE TABLE IF NOT EXISTS memory_entities (
        memory_id TEXT NOT NULL, entity TEXT NOT NULL, PRIMARY KEY (memory_id, entity)
    )""",
    "CREATE INDEX IF NOT EXISTS memory_entities_entity ON memory_entities(entity)",
    """CREATE TABLE IF NOT EXISTS history (
        id TEXT PRIMARY KEY,
        memory_id TEXT NOT NULL,
        old_memory TEXT, new_memory TEXT,
        event TEXT NOT NULL,
        actor TEXT, reason TEXT,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        created_at TEXT NOT NULL,
        seq INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS history_memory ON history(memory_id, seq)",
    """CREATE TABLE IF NOT EXISTS turns (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        scope_key TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        message_id TEXT NOT NULL,
        role TEXT NOT NULL, name TEXT, content TEXT NOT NULL,
        timestamp TEXT, created_at TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        in_buffer INTEGER NOT NULL DEFAULT 1,
        extracted INTEGER NOT NULL DEFAULT 0,
        options TEXT NOT NULL DEFAULT '{}',
        raw TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS turns_scope ON turns(scope_key, in_buffer, seq)",
    "CREATE INDEX IF NOT EXISTS turns_pending ON turns(extracted, seq)",
    """CREATE TABLE IF NOT EXISTS audit (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        stage TEXT NOT NULL,
        message_ids TEXT NOT NULL,
        error TEXT NOT NULL,
        raw TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS summaries (
        scope_key TEXT PRIMARY KEY,
        user_id TEXT, agent_id TEXT, run_id TEXT,
        summary TEXT NOT NULL, tokens INTEGER NOT NULL,
        turns_folded INTEGER NOT NULL, updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op TEXT NOT NULL,
        ids TEXT NOT NULL,
        vectors BLOB,
        dimension INTEGER,
        metadatas TEXT
    )""",
)

_V2 = (
    # A turn whose processing failed, or an outbox entry the vector store refused, is set
    # aside with the error, so that it stops nothing else (see HybridMemory.quarantined).
    "ALTER TABLE turns ADD COLUMN quarantined TEXT",
    "ALTER TABLE turns ADD COLUMN quarantined_at TEXT",
    "ALTER TABLE outbox ADD COLUMN quarantined TEXT",
    "ALTER TABLE outbox ADD COLUMN quarantined_at TEXT",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, _V1, "memories with FTS5, entities, history, turns, audit, summaries, outbox"),
    Migration(2, _V2, "quarantine of turns and outbox entries that cannot be processed"),
    Migration(
        3,
        (
            "ALTER TABLE memories ADD COLUMN aspect TEXT",
            "ALTER TABLE memories ADD COLUMN value TEXT",
        ),
        "a fact's aspect (state, event or plan) and its attribute's value",
    ),
    Migration(
        4,
        (
            # A scope's latest turns and its turns by message id (turns_scope orders by seq
            # only within its buffer flag), and the next history seq, at a cost that does
            # not grow with the scope.
            "CREATE INDEX IF NOT EXISTS turns_scope_seq ON turns(scope_key, seq)",
            "CREATE INDEX IF NOT EXISTS turns_message ON turns(scope_key, message_id)",
            "CREATE INDEX IF NOT EXISTS history_seq ON history(seq)",
            # A user's current facts of one attribute (the subject is compared case-folded,
            # which no index serves), found without reading the user's other memories.
            "CREATE INDEX IF NOT EXISTS memories_user_attr ON memories(user_id, status, attribute)",
            # A user's most recent memories, whatever their status (the sample that judges
            # which words and names are common), from the end of an index.
            "CREATE INDEX IF NOT EXISTS memories_user_recent ON memories(user_id, rowid)",
            # The time span of a user's memories from the ends of an index, not a scan.
            "CREATE INDEX IF NOT EXISTS memories_user_time ON memories(user_id, status, "
            "coalesce(event_time, created_at))",
        ),
        "indexes for look-ups whose cost grew with the scope",
    ),
    Migration(
        5,
        (
            # The reply to a turn: its observation lists the turn it answers first.
            "CREATE INDEX IF NOT EXISTS memories_user_first_source ON memories(user_id, "
            "json_extract(sources, '$[0]'))",
            "CREATE INDEX IF NOT EXISTS memories_first_source ON memories("
            "json_extract(sources, '$[0]'))",
        ),
        "indexes on the first source of a memory (the turn a reply answers)",
    ),
)
