"""Prometheus metrics of one collector app: requests, their latency, events by outcome.

Each app owns its registry (several apps in one test process never collide). The
middleware is plain ASGI: no per-request task, no body buffering.
"""

from __future__ import annotations

import time
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "MetricsMiddleware"]

_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "eventpipe_collector_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "eventpipe_collector_request_duration_seconds",
            "Time to answer an HTTP request (Kafka acknowledgement included), by route.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "eventpipe_collector_events",
            "Events by outcome: accepted (acknowledged by Kafka), rejected (invalid), failed "
            "(valid, not acknowledged: the caller was told to send them again).",
            ["outcome"],
            registry=self.registry,
        )

    def count_events(self, accepted: int, rejected: int, failed: int) -> None:
        for outcome, n in (("accepted", accepted), ("rejected", rejected), ("failed", failed)):
            if n:
                self.events.labels(outcome).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
