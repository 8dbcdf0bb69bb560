"""The read-API benchmark at smoke size, so it cannot rot (measures nothing)."""

from __future__ import annotations

from bench.harness import BenchContext
from bench.query_api import run
from tests.support.services import Endpoints


def test_query_api_benchmark_runs_at_smoke_size(endpoints: Endpoints) -> None:
    ctx = BenchContext(endpoints.kafka_bootstrap, endpoints.clickhouse_url, scale="smoke")
    results = run(ctx)
    assert [r.name for r in results] == [
        "query_filtered_page",
        "query_deep_page",
        "query_dsl_contains",
        "query_stats",
        "query_timeseries",
    ]
    for result in results:
        assert result.unit == "ms p95" and result.value > 0
        assert result.peer_value and result.ratio is not None
