"""Sending a :class:`~hybrid_memory.client.calls.Call`: where to, with which key, how often.

Retries (tenacity, bounded): a call that changes nothing (reads, search, context) is sent again
after a transport error or a 502/503/504 answer; an idempotent write (update, delete) only
when it never reached the service (the connection failed); an add or import never, since the
service may have stored it already.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from hybrid_memory.client.calls import Call
from hybrid_memory.client.errors import error_from_response, unreachable
from hybrid_memory.errors import ConfigError

T = TypeVar("T")

SERVER_ENV = "HYBRID_MEMORY_SERVER"
API_KEY_ENV = "HYBRID_MEMORY_API_KEY"
BUSY = frozenset({502, 503, 504})


class Busy(Exception):
    """A 502/503/504 answer, raised so that tenacity may retry it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True)
class Endpoint:
    """Where the service is and how to talk to it."""

    base_url: str
    api_key: str | None
    timeout: float
    attempts: int

    @classmethod
    def resolve(
        cls, base_url: str | None, api_key: str | None, timeout: float, retries: int
    ) -> Endpoint:
        url = base_url or os.environ.get(SERVER_ENV)
        if not url:
            raise ConfigError(
                f"no memory service URL: pass base_url='http://host:port' or set {SERVER_ENV}"
            )
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {url!r}")
        if timeout <= 0:
            raise ConfigError(f"timeout must be > 0 seconds, got {timeout}")
        if retries < 0:
            raise ConfigError(f"retries must be >= 0, got {retries}")
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        return cls(url.rstrip("/"), key, timeout, retries + 1)

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"hybrid-memory-client/{_version()}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


def _version() -> str:
    try:
        return metadata.version("hybrid-memory")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _may_retry(call: Call[Any], exc: BaseException) -> bool:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return call.retry != "never"  # the request never reached the service
    if isinstance(exc, httpx.TransportError | Busy):
        return call.retry == "reads"
    return False


def policy(call: Call[Any], attempts: int) -> dict[str, Any]:
    """tenacity's arguments for ``call``."""
    return {
        "stop": stop_after_attempt(attempts),
        "wait": wait_exponential(multiplier=0.2, max=2.0),
        "retry": retry_if_exception(lambda exc: _may_retry(call, exc)),
        "reraise": True,
    }


def request_args(call: Call[Any]) -> dict[str, Any]:
    return {
        "params": call.params or None,
        "json": call.json,
        "content": call.content,
        "headers": call.headers or None,
    }


def finish(call: Call[T], response: httpx.Response) -> T:
    """The parsed result, or the library's error for an error answer."""
    if response.status_code >= 400:
        raise error_from_response(response)
    return call.parse(response)


class SyncSender:
    """Sends calls with an :class:`httpx.Client` and drives plans."""

    def __init__(self, endpoint: Endpoint, transport: httpx.BaseTransport | None) -> None:
        self.endpoint = endpoint
        self.http = httpx.Client(
            base_url=endpoint.base_url,
            headers=endpoint.headers(),
            timeout=endpoint.timeout,
            transport=transport,
        )

    def _once(self, call: Call[Any]) -> httpx.Response:
        response = self.http.request(call.method, call.path, **request_args(call))
        if response.status_code in BUSY:
            raise Busy(response)
        return response

    def send(self, call: Call[T]) -> T:
        try:
            response = Retrying(**policy(call, self.endpoint.attempts))(self._once, call)
        except httpx.TransportError as exc:
            raise unreachable(self.endpoint.base_url, exc) from exc
        except Busy as busy:
            response = busy.response
        return finish(call, response)

    def run(self, plan: Generator[Call[Any], Any, T]) -> T:
        try:
            call = next(plan)
            while True:
                call = plan.send(self.send(call))
        except StopIteration as done:
            return done.value


class AsyncSender:
    """Sends calls with an :class:`httpx.AsyncClient` and drives plans."""

    def __init__(self, endpoint: Endpoint, transport: httpx.AsyncBaseTransport | None) -> None:
        self.endpoint = endpoint
        self.http = httpx.AsyncClient(
            base_url=endpoint.base_url,
            headers=endpoint.headers(),
            timeout=endpoint.timeout,
            transport=transport,
        )

    async def _once(self, call: Call[Any]) -> httpx.Response:
        response = await self.http.request(call.method, call.path, **request_args(call))
        if response.status_code in BUSY:
            raise Busy(response)
        return response

    async def send(self, call: Call[T]) -> T:
        response: httpx.Response
        try:
            response = await AsyncRetrying(**policy(call, self.endpoint.attempts))(self._once, call)
        except httpx.TransportError as exc:
            raise unreachable(self.endpoint.base_url, exc) from exc
        except Busy as busy:
            response = busy.response
        return finish(call, response)

    async def run(self, plan: Generator[Call[Any], Any, T]) -> T:
        try:
            call = next(plan)
            while True:
                call = plan.send(await self.send(call))
        except StopIteration as done:
            return done.value
