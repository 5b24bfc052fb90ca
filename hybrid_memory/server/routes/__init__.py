"""The REST routes, one module per resource; :data:`ERRORS` documents the problem responses
every route may give."""

from __future__ import annotations

from typing import Any

from hybrid_memory.server.schemas import Problem

_PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these problem statuses."""
    descriptions = {
        400: "Bad input; `detail` says what to change.",
        401: "No API key, or an unknown or revoked one.",
        403: "The key may not do this.",
        404: "No such memory, job or key (in the caller's tenant).",
        409: "A conflict (the store is locked by another process).",
        413: "The body (or a message) is larger than accepted.",
        422: "The request does not match the schema.",
        503: "A model or store is unavailable; retry later.",
    }
    return {s: {**_PROBLEM, "description": descriptions[s]} for s in statuses}


ERRORS = problems(400, 401, 403, 409, 413, 422, 503)
"""What any tenant route may answer besides its success."""
BY_ID_ERRORS = problems(400, 401, 403, 404, 409, 413, 422, 503)
