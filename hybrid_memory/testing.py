"""Deterministic stand-ins shipped with the package for fast tests of code built on hybrid-memory.

``HashingEmbedder`` maps texts to vectors by hashing their word and character n-grams: no model,
no download, stable across processes, and texts sharing words get similar vectors. Use it for
unit tests; end-to-end paths should run the real :class:`SentenceTransformerEmbedder`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Feature-hashing embedder (bag of words + character trigrams), L2-normalized.

    Example:
        >>> emb = HashingEmbedder(dimension=64)
        >>> emb.embed_batch(["a cat", "a cat"]).shape
        (2, 64)
    """

    def __init__(self, dimension: int = 384):
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def _features(self, text: str) -> list[str]:
        words = [w.casefold() for w in _WORD.findall(text)]
        grams = []
        for word in words:
            padded = f"#{word}#"
            grams.extend(padded[i : i + 3] for i in range(max(1, len(padded) - 2)))
        return [f"w:{w}" for w in words] + [f"g:{g}" for g in grams]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                index = value % self.dimension
                sign = 1.0 if (value >> 63) & 1 else -1.0
                weight = 2.0 if feature.startswith("w:") else 1.0
                out[row, index] += sign * weight
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out


class ScriptedOpenAIServer:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol.

    ``reply`` maps the request body (a dict) to the assistant's text, so tests decide what the
    "model" says; every request is kept in ``requests``. Use it as a context manager; the
    ``base_url`` goes to ``openai.OpenAI(base_url=..., api_key="test")``.

    Example:
        >>> with ScriptedOpenAIServer(lambda body: "hello") as server:
        ...     client = openai.OpenAI(base_url=server.base_url, api_key="test")
    """

    def __init__(self, reply):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.reply = reply
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802 - the stdlib's name
                import json

                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                text = server.reply(body)
                payload = json.dumps(
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "scripted"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
