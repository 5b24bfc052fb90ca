"""What every request goes through, outermost first: a request id (``X-Request-ID``, echoed
when the client sent a sane one), the body size limit (413 before anything parses the body,
by ``Content-Length`` and by counting a streamed body), the latency metric, one JSON line of
access log, and a 500 problem with no internals for anything unexpected.

A plain ASGI middleware, so that it sees the route template the router matched
(``scope["route"]``) and can answer before the application reads the body.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hybrid_memory.server.errors import PayloadTooLargeError, internal_error, problem_for
from hybrid_memory.server.metrics import Metrics

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
access_log = logging.getLogger("hybrid_memory.server.access")
error_log = logging.getLogger("hybrid_memory.server.errors")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class _TooLarge(Exception):
    pass


class ServiceMiddleware:
    """Request ids, body limit, metrics, access log and the last-resort 500 (see module)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started, sent = time.perf_counter(), {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"], sent["started"] = message["status"], True
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            body_receive = await self._limited_body(scope, receive)
            await self.app(scope, body_receive, send_with_id)
        except _TooLarge:
            await self._answer(scope, send_with_id, sent, too_large=True)
        except Exception:
            error_log.exception("request %s failed", request_id)
            await self._answer(scope, send_with_id, sent, too_large=False)
        finally:
            self._record(scope, request_id, sent["status"], started)

    async def _limited_body(self, scope: Scope, receive: Receive) -> Receive:
        """The body read whole (at most the limit) and replayed to the app."""
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise _TooLarge
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS") and not length:
            return receive
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return receive
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        done = False

        async def replay() -> Message:
            nonlocal done
            if not done:
                done = True
                return replayed
            return await receive()

        return replay

    async def _answer(
        self, scope: Scope, send: Send, sent: dict[str, Any], too_large: bool
    ) -> None:
        if sent["started"]:
            return  # too late for another answer; the log has it
        request_id = scope["state"]["request_id"]
        if too_large:
            response = problem_for(
                PayloadTooLargeError(
                    f"the request body is larger than this server accepts "
                    f"({self.max_body_bytes} bytes; see --max-body-bytes): send less at once"
                ),
                request_id,
            )
        else:
            response = internal_error(request_id)
        await response({**scope, "type": "http"}, _no_body, send)

    def _record(self, scope: Scope, request_id: str, status: int, started: float) -> None:
        duration = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        self.metrics.latency.labels(route=template, method=method, status=str(status)).observe(
            duration
        )
        access_log.info(
            json.dumps(
                {
                    "request_id": request_id,
                    "method": method,
                    "route": template,
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "tenant": scope["state"].get("tenant"),
                }
            )
        )


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
