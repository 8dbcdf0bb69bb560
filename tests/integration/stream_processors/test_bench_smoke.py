"""The ingest, single-event and freshness benchmarks at smoke size, so they cannot rot.

They measure nothing at this size; the tests check that every contender ran to the end
against the real broker and server and that every result row is filled in.
"""

from __future__ import annotations

from bench.freshness import run_freshness
from bench.harness import BenchContext, Result
from bench.ingest_e2e import run_ingest, run_single
from tests.support.services import Endpoints


def _smoke(endpoints: Endpoints) -> BenchContext:
    return BenchContext(endpoints.kafka_bootstrap, endpoints.clickhouse_url, scale="smoke")


def _filled(results: list[Result]) -> None:
    for result in results:
        assert result.value > 0 and result.peer_value, result
        assert result.ratio is not None and result.conditions, result


def test_the_ingest_benchmark_runs_at_smoke_size(endpoints: Endpoints) -> None:
    results = run_ingest(_smoke(endpoints))
    assert [r.name for r in results] == [
        "ingest_e2e_1w",
        "ingest_e2e_1w_floor",
        "ingest_e2e_1w_memory",
        "ingest_e2e_2w",
        "ingest_e2e_2w_floor",
        "ingest_e2e_2w_memory",
    ]
    _filled(results)
    memory = {r.name: r for r in results if r.name.endswith("_memory")}
    for result in memory.values():  # a Python process with Faust or librdkafka loaded
        assert 20 < result.value < 4096 and 20 < result.peer_value < 4096, result


def test_the_single_event_and_freshness_benchmarks_run_at_smoke_size(
    endpoints: Endpoints,
) -> None:
    results = run_single(_smoke(endpoints)) + run_freshness(_smoke(endpoints))
    assert [r.name for r in results] == ["ingest_e2e_single", "freshness_p99"]
    _filled(results)
