"""Deterministic stand-ins shipped with the package for fast tests of code built on hybrid-memory.

- :class:`ScriptedOpenAIServer`: a real HTTP server on 127.0.0.1 speaking the OpenAI protocol
  with scripted replies, for testing the LLM paths offline.
- :class:`~hybrid_memory.embeddings.HashingEmbedder` (re-exported here): vectors from hashed word
  and character n-grams; no model, no download, stable across processes. Use it for unit tests;
  end-to-end paths should run the real default (:class:`~hybrid_memory.embeddings.OnnxEmbedder`).

Nothing in the package imports this module at run time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hybrid_memory.embeddings import HashingEmbedder

__all__ = ["HashingEmbedder", "Reply", "ScriptedOpenAIServer"]

_HOST = "127.0.0.1"


@dataclass
class Reply:
    """A scripted reply: the assistant ``content`` (and ``tool_calls``: dicts with ``id``,
    ``name`` and ``arguments``, a JSON string or a dict), or an HTTP ``status`` with
    ``headers``, after ``delay`` seconds; ``drop`` closes the connection without answering.
    ``prompt_tokens=None`` / ``completion_tokens=None`` report the real sizes of the request and
    of the reply (tiktoken, as OpenAI counts them)."""

    content: str | None = ""
    tool_calls: list[dict[str, Any]] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    prompt_tokens: int | None = 10
    completion_tokens: int | None = 5

    def message(self) -> dict[str, Any]:
        """The assistant message of the reply, as the API sends it."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {
                        "name": call["name"],
                        "arguments": call["arguments"]
                        if isinstance(call.get("arguments"), str)
                        else json.dumps(call.get("arguments") or {}),
                    },
                }
                for call in self.tool_calls
            ]
        return message


Script = Callable[[dict[str, Any]], str | Reply]
"""Maps a request body to the assistant's text or a :class:`Reply`."""


class ScriptedOpenAIServer:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions and embeddings
    protocol with scripted replies.

    ``reply`` maps the request body (a dict) to the assistant's text or a :class:`Reply`
    (status codes, Retry-After headers, delays, dropped connections); a list of replies is
    served in order, the last one repeated. Every request is kept in ``requests``. Embeddings
    come from a :class:`HashingEmbedder`; ``embedding_replies`` are served, in order, to the
    first embedding requests (a :class:`Reply` with a failing ``status``, ``drop`` or ``delay``;
    a 200 one serves the vectors). Use it as a context manager and pass ``base_url`` to
    ``openai.OpenAI(base_url=..., api_key="test")``.

    Example:
        >>> with ScriptedOpenAIServer(lambda body: "hello") as server:
        ...     client = openai.OpenAI(base_url=server.base_url, api_key="test")
    """

    def __init__(
        self,
        reply: Script | Sequence[str | Reply],
        embedding_dimension: int = 64,
        *,
        embedding_replies: Sequence[Reply] = (),
    ):
        if callable(reply):
            self.reply: Script = reply
        else:
            queue = list(reply)

            def scripted(body: dict[str, Any]) -> str | Reply:
                return queue.pop(0) if len(queue) > 1 else queue[0]

            self.reply = scripted
        self.requests: list[dict[str, Any]] = []
        self.embedder = HashingEmbedder(embedding_dimension)
        self._embedding_replies = list(embedding_replies)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((_HOST, 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{_HOST}:{self._httpd.server_port}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- what the handler serves --------------------------------------------------------------

    def _next_embedding_reply(self) -> Reply | None:
        with self._lock:
            return self._embedding_replies.pop(0) if self._embedding_replies else None

    def _embeddings_payload(self, body: dict[str, Any]) -> bytes:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        vectors = self.embedder.embed_batch(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": v.tolist()}
            for i, v in enumerate(vectors)
        ]
        usage = {"prompt_tokens": 1, "total_tokens": 1}
        return json.dumps(
            {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        ).encode()

    def _completion_payload(self, body: dict[str, Any], scripted: Reply) -> bytes:
        from hybrid_memory.tokens import TokenCounter

        counter = TokenCounter.for_model(body.get("model") or "gpt-4o-mini")
        prompt_tokens = scripted.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = counter.count_messages(body["messages"], body.get("tools"))
        completion_tokens = scripted.completion_tokens
        if completion_tokens is None:
            completion_tokens = counter.count_message(scripted.message()) - 4
        choice = {
            "index": 0,
            "finish_reason": "tool_calls" if scripted.tool_calls else "stop",
            "message": scripted.message(),
        }
        return json.dumps(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "scripted"),
                "choices": [choice],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        ).encode()


def _handler_for(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving ``server``'s script."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _failed(self, scripted: Reply) -> bool:
            """Delay, then drop the connection or send the scripted error; True when done."""
            if scripted.delay:
                time.sleep(scripted.delay)
            if scripted.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return True
            if scripted.status != 200:
                error = {
                    "error": {
                        "message": scripted.content or "scripted failure",
                        "type": "scripted",
                        "code": scripted.status,
                    }
                }
                self._send(scripted.status, json.dumps(error).encode(), scripted.headers)
                return True
            return False

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append(body)
            if self.path.endswith("/embeddings"):
                failure = server._next_embedding_reply()
                if failure is None or not self._failed(failure):
                    self._send(200, server._embeddings_payload(body), {})
                return
            if not self.path.endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}', {})
                return
            scripted = server.reply(body)
            if isinstance(scripted, str):
                scripted = Reply(content=scripted)
            if not self._failed(scripted):
                self._send(200, server._completion_payload(body, scripted), scripted.headers)

    return Handler
