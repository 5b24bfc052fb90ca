"""Shared fixtures. The real embedding model is loaded once per test session."""

from __future__ import annotations

import os
import socket

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("MEM0_TELEMETRY", "False")
# Tests choose their LLM endpoint explicitly (a scripted local server); an endpoint configured
# in the shell must not switch the memory pipeline or the benchmark to a remote model.
for _name in list(os.environ):
    if _name.startswith(("OPENAI_", "HYBRID_MEMORY_LLM_")):
        del os.environ[_name]


def pytest_addoption(parser):
    parser.addoption(
        "--fault-scale",
        type=int,
        default=1,
        help="run the fault suite (tests/test_faults.py) N times longer: more kills, "
        "isolation operations and bad-input examples",
    )


@pytest.fixture(scope="session")
def fault_scale(request) -> int:
    """How many times the CI size the fault suite runs (``--fault-scale``)."""
    return max(1, int(request.config.getoption("--fault-scale")))


@pytest.fixture(scope="session", autouse=True)
def _no_outside_network():
    """Any connection attempt to a non-loopback address fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = real_connect


@pytest.fixture(scope="session")
def real_embedder():
    """The real all-MiniLM-L6-v2 embedder, the default path (onnxruntime; exported from the
    bundled weights on first use), loaded once per session."""
    from hybrid_memory.embeddings import load_embedder

    return load_embedder()


@pytest.fixture
def hashing_embedder():
    from hybrid_memory.testing import HashingEmbedder

    return HashingEmbedder()


@pytest.fixture(scope="session")
def chroma_http(tmp_path_factory):
    """A Chroma server for the whole test session: ``(host, port)``."""
    from tests.servers import chroma_server

    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as address:
        yield address
