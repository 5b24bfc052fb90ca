"""Prometheus metrics of one app (its own registry, so several apps in one process, as in
tests, do not collide): request latency by route template and status, adds, memories
written, and the memory pipeline's model calls and failures."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from hybrid_memory.models import AddResult, EventType

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "hybrid_memory_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.adds = Counter(
            "hybrid_memory_adds",
            "Adds applied (synchronous and background), by mode.",
            ["mode"],
            registry=self.registry,
        )
        self.memories_written = Counter(
            "hybrid_memory_memories_written",
            "Memory events written by adds, by event (ADD, UPDATE, DELETE).",
            ["event"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "hybrid_memory_jobs",
            "Background add jobs finished, by outcome.",
            ["status"],
            registry=self.registry,
        )

    def observe_add(self, result: AddResult, mode: str) -> None:
        """Count one add and the memories it wrote."""
        self.adds.labels(mode=mode).inc()
        for event in result.results:
            if event.event != EventType.NONE:
                self.memories_written.labels(event=str(event.event)).inc()

    def watch_models(self, clients: Callable[[], Iterable[Any]]) -> None:
        """Report the model calls and failures of the LLM clients ``clients()`` returns (each
        open tenant's), read when metrics are scraped."""
        self.registry.register(_ModelCalls(clients))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class _ModelCalls(Collector):
    """Model calls and failures summed over the open memories' LLM clients."""

    def __init__(self, clients: Callable[[], Iterable[Any]]):
        self._clients = clients

    def collect(self) -> Iterator[CounterMetricFamily]:
        clients = [c for c in self._clients() if c is not None]
        calls = CounterMetricFamily(
            "hybrid_memory_model_calls", "Model calls of the memory pipeline that succeeded."
        )
        calls.add_metric([], sum(getattr(c, "calls", 0) for c in clients))
        failures = CounterMetricFamily(
            "hybrid_memory_model_failures",
            "Model calls of the memory pipeline that failed after their retries.",
        )
        failures.add_metric([], sum(getattr(c, "failures", 0) for c in clients))
        yield calls
        yield failures
