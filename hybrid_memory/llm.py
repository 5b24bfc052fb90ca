"""The LLM client of the memory pipeline: any OpenAI-compatible endpoint, robust to failures.

Configure with ``LLMConfig`` (env prefix ``HYBRID_MEMORY_LLM_``) or the standard ``OPENAI_API_KEY``
/ ``OPENAI_BASE_URL`` / ``OPENAI_MODEL`` variables. Works with OpenAI, Azure OpenAI's
OpenAI-compatible endpoint, vLLM, Ollama, llama.cpp's server and the like.

Failure handling, all bounded:

- 429 (honouring ``Retry-After``), 5xx, timeouts and dropped connections: retried with
  exponential backoff and jitter, then :class:`LLMUnavailableError`. This one policy
  (:func:`retrying`) serves every model call, embeddings included; the ``openai`` SDK's own
  retries are switched off so that no call is retried twice over.
- Other 4xx: no retry (:class:`LLMUnavailableError`), except a rejected ``response_format``,
  after which the client falls back from a JSON schema to JSON mode to plain prompting and
  remembers that for the endpoint.
- Replies that are not valid JSON of the expected schema: repaired when safe
  (:mod:`hybrid_memory.jsonparse`), else asked again with the validation error fed back, then
  :class:`~hybrid_memory.jsonparse.ReplyFormatError` carrying the raw reply.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

import tenacity
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hybrid_memory.errors import ConfigError, ExtractionError
from hybrid_memory.jsonparse import ReplyFormatError, parse_reply

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
UsageHook = Callable[[str, int, int, str], None]


class LLMUnavailableError(ExtractionError):
    """The endpoint failed (after the bounded retries, where retrying made sense)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class LLMConfig(BaseSettings):
    """Where and how to call the model. ``HYBRID_MEMORY_LLM_*`` variables, else ``OPENAI_*``."""

    model_config = SettingsConfigDict(env_prefix="HYBRID_MEMORY_LLM_", extra="forbid")

    base_url: str | None = None
    api_key: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=20)
    """Retries after the first attempt of a call that failed transiently."""
    backoff_base: float = Field(default=0.5, ge=0)
    """The first wait in seconds; each retry doubles it (with jitter)."""
    backoff_max: float = Field(default=20.0, ge=0)
    """The longest wait in seconds, also the cap on a server's ``Retry-After``."""
    schema_retries: int = Field(default=2, ge=0, le=10)
    """How many times a reply that fails validation is asked for again, the error fed back."""
    structured_output: Literal["auto", "json_schema", "json_object", "none"] = "auto"
    temperature: float = 0.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LLMConfig | None:
        """The configured endpoint, or None when neither HYBRID_MEMORY_LLM_* nor OPENAI_*
        names one."""
        env = dict(os.environ if env is None else env)

        def get(name: str) -> str | None:
            return env.get(f"HYBRID_MEMORY_LLM_{name}") or env.get(f"OPENAI_{name}")

        base_url, api_key = get("BASE_URL"), get("API_KEY")
        if not base_url and not api_key:
            return None
        values: dict[str, Any] = {"base_url": base_url, "api_key": api_key}
        if get("MODEL"):
            values["model"] = get("MODEL")
        return cls(**values)


@dataclass(frozen=True)
class RetrySettings:
    """The retry settings of :class:`LLMConfig` on their own, for clients built without one
    (see :class:`~hybrid_memory.embeddings.OpenAIEmbedder`); defaults are ``LLMConfig``'s."""

    max_retries: int = LLMConfig.model_fields["max_retries"].default
    backoff_base: float = LLMConfig.model_fields["backoff_base"].default
    backoff_max: float = LLMConfig.model_fields["backoff_max"].default

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= 20 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ConfigError(
                "retry settings need 0 <= max_retries <= 20 and non-negative backoff times; "
                f"got {self}"
            )


def _transient(exc: BaseException) -> bool:
    """Worth another attempt: 429, 5xx, a timeout or a dropped connection."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APITimeoutError | openai.APIConnectionError)


def _retry_after(exc: BaseException | None) -> float | None:
    """The wait a server asked for in ``Retry-After`` (seconds or an HTTP date), if any."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retrying(
    settings: LLMConfig | RetrySettings, *, what: str = "the endpoint"
) -> tenacity.Retrying:
    """The one retry policy of model calls (chat completions and embeddings).

    Retries 429s, 5xx, timeouts and connection errors, ``settings.max_retries`` times after the
    first attempt. Waits what ``Retry-After`` asks (capped at ``backoff_max``), else
    ``backoff_base * 2**n`` seconds with jitter (x0.5 to x1.5), at most ``backoff_max``. Other
    errors (4xx) propagate at once. When the last attempt fails it raises
    :class:`LLMUnavailableError` ("``what`` failed N times; last error: ...", with the HTTP
    status when there was one).

    Example:
        >>> for attempt in retrying(RetrySettings(max_retries=0)):
        ...     with attempt:
        ...         pass
    """
    attempts = settings.max_retries + 1

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = _retry_after(exc)
        if asked is not None:
            return min(asked, settings.backoff_max)
        delay = settings.backoff_base * (2 ** (state.attempt_number - 1))
        return min(settings.backoff_max, delay * (0.5 + random.random()))

    def give_up(state: tenacity.RetryCallState) -> None:
        last = state.outcome.exception() if state.outcome else None
        raise LLMUnavailableError(
            f"{what} failed {attempts} times; last error: {type(last).__name__}: {last}",
            status=getattr(last, "status_code", None),
        ) from last

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        retry_error_callback=give_up,
    )


def call_with_retries(
    settings: LLMConfig | RetrySettings,
    call: Callable[..., T],
    /,
    *args: Any,
    what: str = "the endpoint",
    **kwargs: Any,
) -> T:
    """``call(*args, **kwargs)`` under :func:`retrying`; a request the endpoint refuses (a 4xx
    other than 429) raises :class:`LLMUnavailableError` with its status, without a retry."""
    import openai

    try:
        return retrying(settings, what=what)(call, *args, **kwargs)
    except openai.APIStatusError as exc:  # retryable ones were turned into LLMUnavailableError
        raise LLMUnavailableError(
            f"{what} refused the request ({exc.status_code}): {exc.message}",
            status=exc.status_code,
        ) from exc


class LLMClient:
    """JSON-returning chat calls with bounded retries (see the module docstring).

    Args:
        config: endpoint and retry settings.
        on_usage: called with ``(model, prompt_tokens, completion_tokens, category)`` after
            every successful call, to record usage and cost.
    """

    def __init__(self, config: LLMConfig, on_usage: UsageHook | None = None):
        import openai

        if not config.api_key and not config.base_url:
            raise ConfigError("LLMConfig needs an api_key (and/or a base_url for local servers)")
        self.config = config
        self.on_usage = on_usage
        self._client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "unused",
            timeout=config.timeout,
            max_retries=0,  # retries are ours (retrying()), never the SDK's as well
        )
        modes = ["json_schema", "json_object", "none"]
        if config.structured_output != "auto":
            modes = modes[modes.index(config.structured_output) :]
        self._modes = modes
        self._lock = threading.Lock()
        self.calls = 0
        """Calls answered (after retries)."""
        self.failures = 0
        """Calls that failed after their retries (the pipeline then falls back or raises)."""

    @property
    def model(self) -> str:
        """The model name from the config."""
        return self.config.model

    # -- transport ----------------------------------------------------------------------------

    def _create(
        self, messages: list[dict[str, Any]], response_format: dict[str, Any] | None, **extra: Any
    ) -> Any:
        """One chat completion, retried on transient failures (:func:`retrying`); ``extra``
        goes to the API (``tools``, ``tool_choice``...)."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.config.temperature,
        }
        if response_format is not None:
            kwargs["response_format"] = response_format
        kwargs.update({k: v for k, v in extra.items() if v is not None})
        try:
            reply = call_with_retries(self.config, self._client.chat.completions.create, **kwargs)
        except Exception:
            with self._lock:
                self.failures += 1
            raise
        with self._lock:
            self.calls += 1
        return reply

    def _record(self, reply: Any, category: str) -> None:
        usage = getattr(reply, "usage", None)
        if self.on_usage is not None and usage is not None:
            self.on_usage(
                self.model, usage.prompt_tokens or 0, usage.completion_tokens or 0, category
            )

    # -- public ---------------------------------------------------------------------------------

    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        category: str = "chat",
    ) -> Any:
        """One chat completion with the same bounded retries, returned as the ``openai``
        ``ChatCompletion`` (tool calls included).

        Raises:
            LLMUnavailableError: When the endpoint fails or refuses the request.
        """
        reply = self._create(messages, None, tools=tools or None, tool_choice=tool_choice)
        self._record(reply, category)
        return reply

    def text(self, messages: list[dict[str, Any]], *, category: str = "memory") -> str:
        """A plain-text reply."""
        reply = self._create(messages, None)
        self._record(reply, category)
        return (reply.choices[0].message.content or "").strip()

    def json(
        self,
        messages: list[dict[str, Any]],
        schema: type[M],
        *,
        list_field: str | None = None,
        category: str = "memory",
    ) -> M:
        """A reply validated as ``schema``; see the module docstring for what is tolerated."""
        conversation = list(messages)
        last_error: ReplyFormatError | None = None
        for _ in range(self.config.schema_retries + 1):
            raw = self._json_call(conversation, schema, category)
            try:
                return parse_reply(raw, schema, list_field=list_field)
            except ReplyFormatError as exc:
                last_error = exc
                conversation = [
                    *conversation,
                    {"role": "assistant", "content": raw[:4000]},
                    {
                        "role": "user",
                        "content": (
                            f"That reply was not usable: {exc.reason}. Reply again with only "
                            f"a JSON object matching this schema: {schema.model_json_schema()}"
                        ),
                    },
                ]
        assert last_error is not None
        raise last_error

    def _json_call(self, messages: list[dict[str, Any]], schema: type[M], category: str) -> str:
        while True:
            mode = self._modes[0]
            if mode == "json_schema":
                response_format = {
                    "type": "json_schema",
                    "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
                }
            elif mode == "json_object":
                response_format = {"type": "json_object"}
            else:
                response_format = None
            try:
                reply = self._create(messages, response_format)
            except LLMUnavailableError as exc:
                # An endpoint that does not know this response_format says 400/422: step down.
                if exc.status in (400, 422) and len(self._modes) > 1:
                    with self._lock:
                        if self._modes and self._modes[0] == mode:
                            self._modes = self._modes[1:]
                    continue
                raise
            self._record(reply, category)
            return reply.choices[0].message.content or ""
