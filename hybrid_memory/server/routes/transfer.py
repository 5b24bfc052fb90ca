"""``GET /v1/export`` and ``POST /v1/import``: a scope's records as JSON Lines."""

from __future__ import annotations

import json
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hybrid_memory.errors import UserInputError
from hybrid_memory.server.deps import CallerDep
from hybrid_memory.server.routes import ERRORS
from hybrid_memory.server.routes.scope import ScopeDep
from hybrid_memory.server.schemas import Imported

router = APIRouter(prefix="/v1", tags=["transfer"])
NDJSON = "application/x-ndjson"


@router.get(
    "/export",
    summary="Export a scope",
    description="Every record of the scope (memories current and former, messages, "
    "summaries), one JSON object per line; `POST /v1/import` loads it back.",
    response_class=Response,
    responses={
        200: {
            "content": {NDJSON: {"schema": {"type": "string"}}},
            "description": "JSON Lines, one record per line.",
        },
        **ERRORS,
    },
)
def export(caller: CallerDep, scope: ScopeDep) -> Response:
    records = caller.memory.export(**scope.ids())
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return Response(body, media_type=NDJSON)


def parse_lines(raw: bytes) -> list[Any]:
    """The records of a JSON Lines body; the error names the bad line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserInputError("the import body must be UTF-8 JSON Lines") from None
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserInputError(f"line {n} of the import body is not JSON: {exc}") from None
    return records


@router.post(
    "/import",
    response_model=Imported,
    summary="Import records",
    description="Load records written by export (into the scopes they name, inside the "
    "caller's tenant). Records already present are skipped; everything is validated first, "
    "so on bad input nothing is written.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {NDJSON: {"schema": {"type": "string"}}},
        }
    },
    responses=ERRORS,
)
async def import_records(request: Request, caller: CallerDep) -> Imported:
    records = parse_lines(await request.body())
    counts = await to_thread.run_sync(caller.memory.import_records, records)
    return Imported(imported=sum(counts.values()), **counts)
