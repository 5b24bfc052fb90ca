"""``MemoryClient``: the memory service over HTTP, with the surface of
:class:`~hybrid_memory.memory.HybridMemory` (same methods, arguments, results and errors).

Example:
    >>> from hybrid_memory.client import MemoryClient
    >>> with MemoryClient("http://127.0.0.1:8000", api_key="hm_...") as memory:
    ...     memory.add("I moved to Boston last spring.", user_id="caroline")
    ...     memory.search("Where does Caroline live?", user_id="caroline")[0].memory
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Self, overload

import httpx

from hybrid_memory.client import calls
from hybrid_memory.client.calls import by_id_scope, ids
from hybrid_memory.client.models import JobInfo
from hybrid_memory.client.transport import Endpoint, SyncSender
from hybrid_memory.models import (
    AddResult,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
    Message,
)

CONTEXT_TIERS = ("memories", "summary", "recent")
"""Every tier of a context (the library's default)."""


class MemoryClient:
    """A client of ``hybrid-memory serve``, used like :class:`~hybrid_memory.HybridMemory`.

    Switching an application from the embedded memory to the service is one line::

        memory = HybridMemory(MemoryConfig(data_dir="./my-memory"))   # embedded
        memory = MemoryClient("http://127.0.0.1:8000", api_key="hm_...")  # the service

    The service keeps each API key's memories apart (a tenant each); inside a tenant, scopes
    (``user_id``, ``agent_id``, ``run_id``) work as in the library. Errors are the library's
    classes (:class:`~hybrid_memory.errors.MemoryNotFoundError`, ``FilterError``...), with
    ``status`` and ``request_id`` attributes; a missing or refused key raises
    :class:`~hybrid_memory.client.AuthenticationError`, an unreachable service
    :class:`~hybrid_memory.client.ServiceUnavailableError`. The service records changes
    under its own actor: an explicit ``actor=`` is refused with a ``UserInputError``.

    Args:
        base_url: the service, e.g. ``http://127.0.0.1:8000`` [default:
            ``$HYBRID_MEMORY_SERVER``].
        api_key: sent as ``Authorization: Bearer <key>`` [default: ``$HYBRID_MEMORY_API_KEY``;
            none for a service started with ``--no-auth``].
        timeout: seconds per request.
        transport: an httpx transport (e.g. ``httpx.MockTransport`` or ``httpx.WSGITransport``)
            instead of the network.
        retries: how many times a request that is safe to repeat is sent again.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 2,
    ) -> None:
        self.endpoint = Endpoint.resolve(base_url, api_key, timeout, retries)
        self._sender = SyncSender(self.endpoint, transport)

    @property
    def base_url(self) -> str:
        """The service's URL, without a trailing slash."""
        return self.endpoint.base_url

    # -- add ------------------------------------------------------------------------------------

    @overload
    def add(
        self,
        messages: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool = True,
        expires_at: datetime | str | None = None,
        actor: str | None = None,
        async_mode: Literal[False] = False,
    ) -> AddResult: ...

    @overload
    def add(
        self,
        messages: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool = True,
        expires_at: datetime | str | None = None,
        actor: str | None = None,
        async_mode: Literal[True],
    ) -> JobInfo: ...

    def add(
        self,
        messages: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool = True,
        expires_at: datetime | str | None = None,
        actor: str | None = None,
        async_mode: bool = False,
    ) -> AddResult | JobInfo:
        """Remember messages (see :meth:`HybridMemory.add`).

        With ``async_mode=True`` the service stores the messages, answers at once with a
        :class:`~hybrid_memory.client.JobInfo` and extracts in the background; follow it with
        :meth:`get_job`. Never retried: the service may have stored the first attempt (a
        re-add with the same message ids is skipped by the library, so it is safe to repeat).
        """
        plan = calls.add(
            messages,
            async_mode=async_mode,
            **ids(user_id, agent_id, run_id),
            metadata=metadata,
            infer=infer,
            expires_at=expires_at,
            actor=actor,
        )
        return self._sender.run(plan)

    def get_job(self, job_id: str) -> JobInfo:
        """Where a background add (``add(..., async_mode=True)``) stands, with its result once
        it has succeeded or its error once it failed."""
        return self._sender.run(calls.job(job_id))

    # -- search and context ---------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
        filters: dict[str, Any] | None = None,
        threshold: float | None = None,
        include_superseded: bool | None = None,
    ) -> list[MemoryHit]:
        """Hybrid search within one scope, best first (see :meth:`HybridMemory.search`)."""
        plan = calls.search(
            query,
            **ids(user_id, agent_id, run_id),
            limit=limit,
            filters=filters,
            threshold=threshold,
            include_superseded=include_superseded,
        )
        return self._sender.run(plan)

    def get_context(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        token_budget: int,
        model: str = "gpt-4o-mini",
        limit: int = 50,
        filters: dict[str, Any] | None = None,
        tiers: Sequence[str] = CONTEXT_TIERS,
        present_ids: Sequence[str] = (),
    ) -> MemoryContext:
        """The merged, token-budgeted context for ``query`` (see
        :meth:`HybridMemory.get_context`)."""
        plan = calls.context(
            query,
            **ids(user_id, agent_id, run_id),
            token_budget=token_budget,
            model=model,
            limit=limit,
            filters=filters,
            tiers=tiers,
            present_ids=present_ids,
        )
        return self._sender.run(plan)

    # -- by id and by scope ---------------------------------------------------------------------

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_scopes: bool = False,
    ) -> MemoryItem:
        """One memory by id or unique 8+ character prefix, within the scope given;
        ``all_scopes=True`` looks in every scope of the key's tenant."""
        scope = by_id_scope(user_id, agent_id, run_id, all_scopes)
        return self._sender.run(calls.get(memory_id, scope))

    def resolve_id(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_scopes: bool = False,
    ) -> str:
        """The full id of a memory given by a unique prefix (as :meth:`get` looks it up)."""
        return self.get(
            memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id, all_scopes=all_scopes
        ).id

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        include_superseded: bool | None = None,
    ) -> list[MemoryItem]:
        """Every current memory of the scope, newest first (read page by page)."""
        plan = calls.get_all(ids(user_id, agent_id, run_id), filters, limit, include_superseded)
        return self._sender.run(plan)

    def update(
        self,
        memory_id: str,
        text: str,
        *,
        metadata: dict[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
        all_scopes: bool = False,
    ) -> MemoryItem:
        """Replace a memory's text (and merge metadata); returns the updated memory."""
        scope = by_id_scope(user_id, agent_id, run_id, all_scopes)
        return self._sender.run(calls.update(memory_id, text, metadata, scope, actor))

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
        all_scopes: bool = False,
    ) -> int:
        """Delete one memory; returns how many were deleted (1)."""
        scope = by_id_scope(user_id, agent_id, run_id, all_scopes)
        return self._sender.run(calls.delete(memory_id, scope, actor))

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Delete every memory, turn and summary of the scope; returns how many memories."""
        return self._sender.run(calls.delete_all(ids(user_id, agent_id, run_id), actor))

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_scopes: bool = False,
    ) -> list[HistoryEntry]:
        """The audit trail of one memory id, oldest first (also after it was deleted)."""
        scope = by_id_scope(user_id, agent_id, run_id, all_scopes)
        return self._sender.run(calls.history(memory_id, scope))

    # -- export / import and the tiers ----------------------------------------------------------

    def export(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every record of the scope as JSON-ready dicts (the library's export format)."""
        return self._sender.run(calls.export(ids(user_id, agent_id, run_id)))

    def import_records(self, records: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Load records written by :meth:`export` into the key's tenant (present ones are
        skipped)."""
        return self._sender.run(calls.import_records(records))

    def get_summary(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> str:
        """The running summary of exactly this scope ("" when nothing left the buffer yet)."""
        return self._sender.run(calls.summary(ids(user_id, agent_id, run_id)))

    def get_buffer(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """The recent turns of exactly this scope, oldest first."""
        return self._sender.run(calls.buffer(ids(user_id, agent_id, run_id)))

    def get_messages(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """Every stored message of the scope (all runs when no run_id), in order."""
        return self._sender.run(calls.all_messages(ids(user_id, agent_id, run_id)))

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connections (closing twice is harmless)."""
        self._sender.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
