"""Prometheus metrics of one app: requests by route and status, ClickHouse query times.

Each app owns its registry (several apps in one test process never collide); ``/metrics``
renders it. The request metrics and their middleware are shared with the collector
(:mod:`eventpipe.http_metrics`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from eventpipe.http_metrics import LATENCY_BUCKETS, HttpMetrics, MetricsMiddleware

__all__ = ["Metrics", "MetricsMiddleware"]


class Metrics(HttpMetrics):
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        super().__init__("eventpipe_api", self.registry)
        self.queries = Histogram(
            "eventpipe_api_clickhouse_query_duration_seconds",
            "Time ClickHouse took for one read, by query name.",
            ["query", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe_query(self, name: str, seconds: float, failed: bool) -> None:
        """The :data:`query_api.store.QueryObserver` of this app (called from threads)."""
        self.queries.labels(name, "error" if failed else "ok").observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
