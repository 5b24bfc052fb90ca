"""Problem-details responses turned back into the library's own exceptions.

The service answers every error with an RFC 9457 body whose ``error`` field names the
:class:`~hybrid_memory.errors.HybridMemoryError` subclass the library raised; the client raises
the same class, so code written against the embedded memory catches the same errors. Each
raised error also carries:

- ``status``: the HTTP status (``None`` when no response came back);
- ``request_id``: the service's ``X-Request-ID`` for the failed request (quote it in a report);
- ``problem``: the whole problem-details body.
"""

from __future__ import annotations

from typing import Any

import httpx

from hybrid_memory import errors
from hybrid_memory.errors import HybridMemoryError, UserInputError


class AuthenticationError(HybridMemoryError):
    """The service refused the API key (401: missing, unknown or revoked key; 403: the key may
    not use that route). Pass ``api_key=`` or set ``HYBRID_MEMORY_API_KEY``."""


class ServiceUnavailableError(HybridMemoryError):
    """The service could not be reached or answered that it is unavailable (after retries for
    requests that are safe to repeat)."""


_BY_STATUS: dict[int, type[HybridMemoryError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    413: errors.InputTooLargeError,
    422: UserInputError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,
}


def _known(name: Any) -> type[HybridMemoryError] | None:
    found = getattr(errors, name, None) if isinstance(name, str) else None
    if isinstance(found, type) and issubclass(found, HybridMemoryError):
        return found
    return None


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {
        "detail": response.text.strip() or response.reason_phrase,
        "status": response.status_code,
    }


def _instance(cls: type[HybridMemoryError], detail: str, problem: dict[str, Any]) -> Exception:
    """``cls(detail)``, with the keyword attributes some classes require filled from the body."""
    if cls is errors.AmbiguousIdError:
        return cls(detail, prefix=str(problem.get("prefix", "")), candidates=_list(problem))
    if cls is errors.StoreLockedError:
        holder = problem.get("holder")
        return cls(detail, path=str(problem.get("path", "")), holder=holder or {})
    if cls is errors.ProcessingError:
        return cls(detail, message_ids=list(problem.get("message_ids") or []))
    try:
        return cls(detail)
    except TypeError:  # a class whose constructor needs more than a message
        return HybridMemoryError(detail)


def _list(problem: dict[str, Any]) -> list[str]:
    return [str(c) for c in problem.get("candidates") or []]


def error_from_response(response: httpx.Response) -> Exception:
    """The exception the library would have raised for this error response."""
    problem = _problem(response)
    status = response.status_code
    cls = _BY_STATUS.get(status) if status in (401, 403) else None
    cls = cls or _known(problem.get("error")) or _BY_STATUS.get(status)
    if cls is None:
        cls = HybridMemoryError
    detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
    exc = _instance(cls, detail, problem)
    exc.status = status  # type: ignore[attr-defined]
    exc.request_id = problem.get("request_id") or response.headers.get("x-request-id")  # type: ignore[attr-defined]
    exc.problem = problem  # type: ignore[attr-defined]
    return exc


def unreachable(base_url: str, cause: Exception) -> ServiceUnavailableError:
    """The error for a request that got no response at all."""
    exc = ServiceUnavailableError(
        f"cannot reach the memory service at {base_url}: {type(cause).__name__}: {cause}; "
        "check that it runs (hybrid-memory serve) and the URL (HYBRID_MEMORY_SERVER)"
    )
    exc.status = None  # type: ignore[attr-defined]
    exc.request_id = None  # type: ignore[attr-defined]
    exc.problem = {}  # type: ignore[attr-defined]
    return exc
