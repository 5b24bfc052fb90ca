"""Quarantine: what is stored but cannot be processed is set aside, never a reason to stop.

A batch of messages whose processing raises (on open, in ``reprocess()``, or an add's own
messages when the failure is not a transient one), or a vector write the vector store refuses,
is marked quarantined in the record store with the error, gets an audit row (stage
``quarantine``) and a :class:`~hybrid_memory.errors.QuarantineWarning`. Nothing else waits for
it: the store opens, later writes go on. ``HybridMemory.quarantined()`` lists what is set
aside and ``HybridMemory.repair()`` retries it.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence

from hybrid_memory.errors import QuarantineWarning
from hybrid_memory.models import AuditEntry, Message, QuarantineEntry, Scope, utcnow
from stores.base import RecordStore, VectorOp

MAX_ERROR_CHARS = 2000


def describe(exc: BaseException) -> str:
    """The error as it is stored: type and message, valid UTF-8, bounded."""
    text = f"{type(exc).__name__}: {exc}"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def _audit(scope: Scope, ids: list[str], error: str) -> AuditEntry:
    return AuditEntry(
        id=uuid.uuid4().hex,
        at=utcnow(),
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        stage="quarantine",
        message_ids=ids,
        error=error,
    )


def quarantine_messages(
    records: RecordStore,
    scope: Scope,
    messages: Sequence[Message],
    exc: BaseException,
    *,
    warn: bool = True,
) -> str:
    """Set ``messages`` of ``scope`` aside with ``exc``; returns the stored error text."""
    ids = [m.id for m in messages if m.id]
    error = describe(exc)
    with records.unit_of_work() as uow:
        uow.quarantine_turns(scope, ids, error, utcnow())
        uow.add_audit(_audit(scope, ids, error))
    if warn:
        warnings.warn(
            QuarantineWarning(
                f"messages {ids} of scope {scope.as_filter()} could not be processed ({error}); "
                "they are quarantined: HybridMemory.quarantined() lists them, repair() retries "
                "them"
            ),
            stacklevel=4,
        )
    return error


def quarantine_vectors(
    records: RecordStore, op: VectorOp, error: str, *, warn: bool = True, done: int | None = None
) -> None:
    """Keep a refused vector operation aside (and remove outbox entry ``done``)."""
    with records.unit_of_work() as uow:
        if done is not None:
            uow.done([done])
        uow.quarantine_op(op, error, utcnow())
        uow.add_audit(_audit(Scope(), [], f"vector {op.op} of memories {op.ids}: {error}"))
    if warn:
        warnings.warn(
            QuarantineWarning(
                f"the vector store refused the vector {op.op} of memories {op.ids} ({error}); "
                "it is quarantined: the records are intact, HybridMemory.quarantined() lists "
                "it, repair() retries it"
            ),
            stacklevel=4,
        )


def entries(records: RecordStore) -> list[QuarantineEntry]:
    """Everything quarantined, messages first, oldest first."""
    out = [
        QuarantineEntry(
            kind="messages",
            ids=[m.id for m in batch.messages if m.id],
            user_id=batch.scope.user_id,
            agent_id=batch.scope.agent_id,
            run_id=batch.scope.run_id,
            error=batch.error or "",
            at=batch.quarantined_at,
        )
        for batch in records.quarantined_turns(None)
    ]
    out.extend(
        QuarantineEntry(kind="vectors", ids=list(q.op.ids), error=q.error, at=q.at)
        for q in records.quarantined_ops()
    )
    return out
