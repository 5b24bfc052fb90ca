"""The client has the library's surface: the same public methods with the same arguments and
results as HybridMemory (and its async twin as AsyncHybridMemory), and it loads nothing but
the shared vocabulary and httpx."""

from __future__ import annotations

import contextlib
import inspect
import os
import socket
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid_memory import AsyncHybridMemory, HybridMemory
from hybrid_memory.client import (
    AsyncMemoryClient,
    JobInfo,
    MemoryClient,
    ServiceUnavailableError,
)
from hybrid_memory.errors import ConfigError, ScopeError
from hybrid_memory.models import AddResult

ROOT = Path(__file__).resolve().parent.parent

# What the library has and the client cannot have, each with its reason.
LIBRARY_ONLY = {
    "reset": "wipes every scope of the data dir: an operator's act on the server, not a "
    "tenant's call",
    "repair": "replays the store's outbox and quarantine: maintenance of the server's process",
    "quarantined": "the server's own processing state, not a tenant's",
    "audit_log": "model failures of the server's pipeline: the service reports them in /metrics",
    "reprocess": "reruns extraction of stored messages: maintenance of the server's process",
}
# What only the client has, each with its reason.
CLIENT_ONLY = {
    "get_job": "background adds (add(..., async_mode=True)) exist only in the service",
}
# Arguments only the client has.
CLIENT_ARGUMENTS = {("add", "async_mode"): "returns a JobInfo at once; see get_job"}
# Arguments only the library has.
LIBRARY_ARGUMENTS = {
    ("add", "defer"): "stores the messages for the server's own processing later; a client asks "
    "for that with async_mode=True, which also runs the processing as a job",
}


def public_methods(cls: type) -> dict[str, typing.Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def parameters(method: typing.Any, name: str) -> list[tuple[str, object, object, object]]:
    """Each argument's name, kind, default and type."""
    hints = typing.get_type_hints(method)
    return [
        (p.name, p.kind, p.default, hints.get(p.name))
        for p in inspect.signature(method).parameters.values()
        if (name, p.name) not in CLIENT_ARGUMENTS and (name, p.name) not in LIBRARY_ARGUMENTS
    ]


def returns(method: typing.Any) -> object:
    return typing.get_type_hints(method).get("return")


@pytest.mark.parametrize(
    ("library", "client"),
    [(HybridMemory, MemoryClient), (AsyncHybridMemory, AsyncMemoryClient)],
    ids=["sync", "async"],
)
def test_the_client_has_every_method_of_the_library_with_the_same_arguments(library, client):
    ours, theirs = public_methods(client), public_methods(library)
    assert set(theirs) - set(ours) == set(LIBRARY_ONLY), "a library method the client lacks"
    assert set(ours) - set(theirs) == set(CLIENT_ONLY), "a client method the library lacks"
    sync_library = HybridMemory
    for name in set(ours) & set(theirs):
        if library is AsyncHybridMemory:
            # AsyncHybridMemory forwards **kwargs; its sync twin holds the real arguments
            assert inspect.iscoroutinefunction(ours[name]), f"{client.__name__}.{name}"
            expected = parameters(getattr(sync_library, name), name)
        else:
            expected = parameters(theirs[name], name)
        assert parameters(ours[name], name) == expected, name
        if name == "add":
            continue  # AddResult, or JobInfo with async_mode=True (checked below)
        assert returns(ours[name]) == returns(getattr(sync_library, name)), name
    assert returns(ours["add"]) == AddResult | JobInfo


def test_the_async_client_mirrors_the_sync_client():
    sync, coro = public_methods(MemoryClient), public_methods(AsyncMemoryClient)
    assert set(sync) == set(coro)
    for name, method in coro.items():
        assert inspect.iscoroutinefunction(method), name
        assert (
            inspect.signature(method).parameters.keys()
            == inspect.signature(sync[name]).parameters.keys()
        )
    assert hasattr(MemoryClient, "__enter__") and hasattr(AsyncMemoryClient, "__aenter__")


def test_importing_the_client_loads_no_model_store_or_server(tmp_path):
    probe = (
        "import sys\n"
        "from hybrid_memory.client import MemoryClient, AsyncMemoryClient\n"
        "heavy = ['torch', 'chromadb', 'sentence_transformers', 'fastapi', 'mcp',\n"
        "         'hybrid_memory.memory', 'hybrid_memory.config', 'stores']\n"
        "print(','.join(m for m in heavy if m in sys.modules) or 'none')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # hybrid_memory/__init__ imports MemoryConfig (pydantic only); nothing heavier comes along
    loaded = set(done.stdout.strip().split(",")) - {"hybrid_memory.config"}
    assert loaded == {"none"} or not loaded, done.stdout


# -- what the client decides without the service ---------------------------------------------


@contextlib.contextmanager
def nothing_listening() -> Iterator[str]:
    """A loopback URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def hanging_up() -> Iterator[tuple[str, list[int]]]:
    """A loopback server that accepts each connection and closes it without answering (a
    broken proxy); yields its URL and the list of connections it accepted."""
    accepted: list[int] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_reads_are_sent_again_a_bounded_number_of_times_and_adds_never():
    with hanging_up() as (url, accepted), MemoryClient(url, retries=2) as client:
        with pytest.raises(ServiceUnavailableError, match="cannot reach the memory service"):
            client.get_all(user_id="ana")
        assert len(accepted) == 3  # the first try and two retries
        with pytest.raises(ServiceUnavailableError) as caught:
            client.add("I like tea.", user_id="ana")
        assert len(accepted) == 4  # an add may have been stored: never sent twice
        assert caught.value.status is None and caught.value.request_id is None


def test_an_unreachable_service_is_a_typed_error_naming_the_url():
    with nothing_listening() as url, MemoryClient(url, retries=0) as client:
        with pytest.raises(ServiceUnavailableError, match=url):
            client.search("tea", user_id="ana")


def test_a_by_id_call_without_a_scope_is_refused_before_anything_is_sent():
    # nothing listens: had the call been sent, it would fail as unreachable instead
    with nothing_listening() as url, MemoryClient(url, retries=0) as client:
        for call in (
            lambda: client.get("3fdb7c781bac"),
            lambda: client.update("3fdb7c781bac", "text"),
            lambda: client.delete("3fdb7c781bac"),
            lambda: client.history("3fdb7c781bac"),
        ):
            with pytest.raises(ScopeError, match="at least one of user_id"):
                call()


def test_the_url_comes_from_the_environment_and_must_be_http(monkeypatch):
    monkeypatch.delenv("HYBRID_MEMORY_SERVER", raising=False)
    with pytest.raises(ConfigError, match="HYBRID_MEMORY_SERVER"):
        MemoryClient()
    with pytest.raises(ConfigError, match="http://"):
        MemoryClient("127.0.0.1:8000")
    monkeypatch.setenv("HYBRID_MEMORY_SERVER", "http://127.0.0.1:9/")
    monkeypatch.setenv("HYBRID_MEMORY_API_KEY", "hm_secret")
    with MemoryClient() as client:
        assert client.base_url == "http://127.0.0.1:9"
        assert client.endpoint.api_key == "hm_secret"
