"""Prometheus metrics of a worker, on a registry of its own (one per app, so tests can
build many apps in one process). Served at ``/metrics`` on the worker's web port.

======================================================  ======================================
metric                                                  meaning
======================================================  ======================================
eventpipe_worker_records_total                          Kafka records consumed
eventpipe_worker_events_total                           event lines consumed (valid + invalid)
eventpipe_worker_valid_events_total                     lines that passed the contract
eventpipe_worker_invalid_events_total{reason}           lines dead-lettered, by reason code
eventpipe_worker_inserted_rows_total                    rows confirmed by ClickHouse
eventpipe_worker_skipped_records_total                  redelivered records already stored
eventpipe_worker_batch_rows                             rows per insert (histogram)
eventpipe_worker_insert_seconds                         insert latency (histogram)
eventpipe_worker_retries_total{operation}               retried insert / dead_letters / offsets /
                                                        offsets_load (reading a partition's mark)
eventpipe_worker_freshness_seconds                      now - event time at insert, oldest
                                                        event of each batch (histogram)
eventpipe_worker_consumer_lag{topic,partition}          high-water mark - next offset to ack
======================================================  ======================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["WorkerMetrics"]

_ROWS_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_FRESHNESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600)


class _LagCollector(Collector):
    def __init__(self, lag: Callable[[], Mapping[tuple[str, int], int]]) -> None:
        self._lag = lag

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "eventpipe_worker_consumer_lag",
            "Records between the partition's high-water mark and the next offset to ack.",
            labels=["topic", "partition"],
        )
        for (topic, partition), lag in sorted(self._lag().items()):
            family.add_metric([topic, str(partition)], lag)
        yield family


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.records = Counter("eventpipe_worker_records", "Kafka records consumed.", registry=r)
        self.events = Counter("eventpipe_worker_events", "Event lines consumed.", registry=r)
        self.valid = Counter("eventpipe_worker_valid_events", "Valid event lines.", registry=r)
        self.invalid = Counter(
            "eventpipe_worker_invalid_events", "Dead-lettered lines.", ["reason"], registry=r
        )
        self.inserted = Counter(
            "eventpipe_worker_inserted_rows", "Rows confirmed by ClickHouse.", registry=r
        )
        self.skipped = Counter(
            "eventpipe_worker_skipped_records",
            "Redelivered records already stored (below the high-water mark).",
            registry=r,
        )
        self.batch_rows = Histogram(
            "eventpipe_worker_batch_rows", "Rows per insert.", buckets=_ROWS_BUCKETS, registry=r
        )
        self.insert_seconds = Histogram(
            "eventpipe_worker_insert_seconds",
            "Insert latency.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "eventpipe_worker_retries", "Retried operations.", ["operation"], registry=r
        )
        self.freshness = Histogram(
            "eventpipe_worker_freshness_seconds",
            "Now minus event time at insert, for the oldest event of each batch.",
            buckets=_FRESHNESS_BUCKETS,
            registry=r,
        )

    def watch_lag(self, lag: Callable[[], Mapping[tuple[str, int], int]]) -> None:
        """Report consumer lag, computed by ``lag`` at every scrape."""
        self.registry.register(_LagCollector(lag))
