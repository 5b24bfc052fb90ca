"""Errors as problem details (RFC 9457): every :class:`HybridMemoryError` maps to one HTTP
status, and every error response has the same JSON body::

    {"type": "https://hybrid-memory.dev/errors/scope_error", "title": "Scope error",
     "status": 400, "detail": "<what to change>", "error": "ScopeError",
     "request_id": "..."}

plus ``candidates`` for an :class:`AmbiguousIdError` and ``errors`` for a request that does
not match the schema (422). A 500 says nothing about the internals.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse

from hybrid_memory.errors import (
    AmbiguousIdError,
    ExtractionError,
    HybridMemoryError,
    InputTooLargeError,
    MemoryNotFoundError,
    SessionConflictError,
    SessionNotFoundError,
    StoreError,
    StoreLockedError,
    TokenBudgetError,
    UserInputError,
)

PROBLEM_TYPE_BASE = "https://hybrid-memory.dev/errors/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class AuthenticationError(HybridMemoryError):
    """No API key, or one that is unknown or revoked (401)."""


class ForbiddenError(HybridMemoryError):
    """The key is valid but may not do this (403): a tenant key on an admin route."""


class NotFoundError(HybridMemoryError, KeyError):
    """No such job, API key or route (404)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else "not found"


class PayloadTooLargeError(HybridMemoryError):
    """The request body is larger than the server accepts (413)."""


# Most specific first: the first class an error is an instance of decides.
STATUS_OF: tuple[tuple[type[BaseException], int], ...] = (
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (MemoryNotFoundError, 404),
    (SessionNotFoundError, 404),
    (PayloadTooLargeError, 413),
    (InputTooLargeError, 413),
    (TokenBudgetError, 400),
    (AmbiguousIdError, 400),
    (UserInputError, 400),
    (StoreLockedError, 409),
    (SessionConflictError, 409),
    (StoreError, 503),
    (ExtractionError, 503),
    (HybridMemoryError, 503),
)
"""A :class:`HybridMemoryError` that is not the caller's doing is a model, endpoint or store
being unavailable (the library's contract), hence 503: retrying later can succeed."""

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Request does not match the schema",
    500: "Internal error",
    503: "Service unavailable",
}


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error."""
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 500


def snake(name: str) -> str:
    """``ScopeError`` -> ``scope_error``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def problem(
    status: int,
    error: str,
    detail: str,
    request_id: str | None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + snake(error),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "error": error,
        "request_id": request_id or "",
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_for(exc: HybridMemoryError, request_id: str | None) -> JSONResponse:
    """The response for a library (or service) error."""
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    candidates = exc.candidates if isinstance(exc, AmbiguousIdError) else None
    return problem(status, type(exc).__name__, str(exc), request_id, headers, candidates=candidates)


def internal_error(request_id: str | None) -> JSONResponse:
    """The 500 response: no internals, only the request id to look the log up by."""
    return problem(
        500,
        "InternalError",
        "the server failed to handle this request; the log has the details under this request id",
        request_id,
    )
