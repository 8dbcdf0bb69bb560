"""Prometheus metrics of one collector app: requests, their latency, events by outcome.

Each app owns its registry (several apps in one test process never collide); the request
metrics and their middleware are shared with the read API (:mod:`eventpipe.http_metrics`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest

from eventpipe.http_metrics import HttpMetrics, MetricsMiddleware

__all__ = ["Metrics", "MetricsMiddleware"]


class Metrics(HttpMetrics):
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        super().__init__("eventpipe_collector", self.registry)
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
