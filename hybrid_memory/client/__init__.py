"""A client of the memory service (``hybrid-memory serve``) with the library's surface.

:class:`MemoryClient` has the methods, arguments, results and errors of
:class:`~hybrid_memory.HybridMemory`, and :class:`AsyncMemoryClient` those of
:class:`~hybrid_memory.AsyncHybridMemory`, so an application switches between the embedded
memory and the service by changing the line that builds it.

It imports only the shared vocabulary (:mod:`hybrid_memory.models`,
:mod:`hybrid_memory.errors`) and httpx: no embedding model, no stores, so a process that talks
to the service starts in a fraction of a second.

Modules: :mod:`~hybrid_memory.client.sync` (MemoryClient), :mod:`~hybrid_memory.client.aio`
(AsyncMemoryClient), :mod:`~hybrid_memory.client.calls` (every request, described once),
:mod:`~hybrid_memory.client.transport` (sending, retries), :mod:`~hybrid_memory.client.errors`
(problem details back to the library's exceptions), :mod:`~hybrid_memory.client.models` (jobs).
"""

from hybrid_memory.client.aio import AsyncMemoryClient
from hybrid_memory.client.errors import AuthenticationError, ServiceUnavailableError
from hybrid_memory.client.models import JobInfo, JobStatus
from hybrid_memory.client.sync import MemoryClient

__all__ = [
    "AsyncMemoryClient",
    "AuthenticationError",
    "JobInfo",
    "JobStatus",
    "MemoryClient",
    "ServiceUnavailableError",
]
