"""Background adds: a durable job table in ``<data_dir>/service/jobs.sqlite3`` and a bounded
pool of workers.

``POST /v1/memories`` with ``async_mode`` writes the job (``accepted``), stores the messages
with the library's ``add(..., defer=True)`` (every message has an id by then), and answers 202.
A worker then repeats the add without ``defer``: the library skips the stored messages and
extracts those not processed yet, so a job runs to its end exactly once even when a restart
runs it again. On startup every job not finished is resumed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hybrid_memory.errors import HybridMemoryError
from hybrid_memory.models import AddResult, utcnow
from hybrid_memory.server.errors import NotFoundError, status_of
from hybrid_memory.server.schemas import JobEvent, JobInfo

JOBS_FILENAME = "jobs.sqlite3"
UNFINISHED = ("accepted", "running")
log = logging.getLogger("hybrid_memory.server.jobs")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    request TEXT NOT NULL,
    message_ids TEXT NOT NULL,
    result TEXT,
    error TEXT,
    events TEXT NOT NULL
)
"""


class JobStore:
    """The job table (thread-safe; one SQLite connection, each change committed at once)."""

    def __init__(self, service_dir: Path):
        service_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(service_dir / JOBS_FILENAME, check_same_thread=False)
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(_SCHEMA)

    def create(self, tenant_id: str, request: dict[str, Any], message_ids: list[str]) -> str:
        """A new ``accepted`` job for the add ``request`` (keyword arguments of ``add``)."""
        job_id, now = uuid.uuid4().hex, utcnow().isoformat()
        events = [{"at": now, "status": "accepted"}]
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO jobs VALUES (?, ?, 'accepted', ?, ?, ?, ?, NULL, NULL, ?)",
                (
                    job_id,
                    tenant_id,
                    now,
                    now,
                    json.dumps(request),
                    json.dumps(message_ids),
                    json.dumps(events),
                ),
            )
        return job_id

    def discard(self, job_id: str) -> None:
        """Forget a job whose messages could not be stored (the request was refused)."""
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def set_status(
        self,
        job_id: str,
        status: str,
        *,
        result: AddResult | None = None,
        error: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        """Move a job on, recording the step in its events."""
        now = utcnow().isoformat()
        with self._lock, self._conn:
            row = self._conn.execute("SELECT events FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            events = json.loads(row[0])
            events.append({"at": now, "status": status, "detail": detail})
            self._conn.execute(
                "UPDATE jobs SET status = ?, updated_at = ?, result = ?, error = ?, events = ? "
                "WHERE id = ?",
                (
                    status,
                    now,
                    result.model_dump_json() if result is not None else None,
                    json.dumps(error) if error is not None else None,
                    json.dumps(events),
                    job_id,
                ),
            )

    def get(self, job_id: str, tenant_id: str | None) -> JobInfo:
        """A job of ``tenant_id`` (any tenant's with None); :class:`NotFoundError` otherwise."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id, tenant_id, status, created_at, updated_at, message_ids, result, "
                "error, events FROM jobs WHERE id = ?",
                (job_id,),
            ).fetchone()
        if row is None or (tenant_id is not None and row[1] != tenant_id):
            raise NotFoundError(f"no job with id {job_id!r}")
        return JobInfo(
            id=row[0],
            status=row[2],
            created_at=row[3],
            updated_at=row[4],
            message_ids=json.loads(row[5]),
            result=AddResult.model_validate_json(row[6]) if row[6] else None,
            error=json.loads(row[7]) if row[7] else None,
            events=[JobEvent.model_validate(e) for e in json.loads(row[8])],
        )

    def work(self, job_id: str) -> tuple[str, dict[str, Any]]:
        """The tenant and the add request of a job."""
        with self._lock:
            row = self._conn.execute(
                "SELECT tenant_id, request FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no job with id {job_id!r}")
        return row[0], json.loads(row[1])

    def unfinished(self) -> list[str]:
        """Jobs accepted or running, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM jobs WHERE status IN (?, ?) ORDER BY created_at, rowid", UNFINISHED
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class JobRunner:
    """Runs jobs on at most ``workers`` threads.

    Args:
        store: the job table.
        add: runs one add for a tenant: ``add(tenant_id, request) -> AddResult``.
        on_done: called with each finished job's status and result (metrics).
    """

    def __init__(
        self,
        store: JobStore,
        add: Callable[[str, dict[str, Any]], AddResult],
        workers: int,
        on_done: Callable[[str, AddResult | None], None] | None = None,
    ):
        self.store = store
        self._add = add
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hm-job")

    def submit(self, job_id: str) -> None:
        """Queue a job (it runs when a worker is free)."""
        self._pool.submit(self._run, job_id)

    def resume(self) -> int:
        """Queue every job a previous process left unfinished; returns how many."""
        pending = self.store.unfinished()
        for job_id in pending:
            self.submit(job_id)
        return len(pending)

    def _run(self, job_id: str) -> None:
        try:
            tenant_id, request = self.store.work(job_id)
            self.store.set_status(job_id, "running")
            result = self._add(tenant_id, request)
        except HybridMemoryError as exc:
            error = {"status": status_of(exc), "error": type(exc).__name__, "detail": str(exc)}
            self.store.set_status(job_id, "failed", error=error, detail=str(exc))
            self._finished("failed", None)
            return
        except Exception:
            log.exception("job %s failed", job_id)
            error = {"status": 500, "error": "InternalError", "detail": "the job failed"}
            self.store.set_status(job_id, "failed", error=error, detail="internal error")
            self._finished("failed", None)
            return
        self.store.set_status(job_id, "succeeded", result=result)
        self._finished("succeeded", result)

    def _finished(self, status: str, result: AddResult | None) -> None:
        if self._on_done is not None:
            self._on_done(status, result)

    def shutdown(self) -> None:
        """Stop: jobs not started stay ``accepted`` (the next start resumes them); running
        ones finish first."""
        self._pool.shutdown(wait=True, cancel_futures=True)
