"""The front doors' benchmarks at smoke size, so they cannot rot (they measure nothing)."""

from __future__ import annotations

import pytest

from bench import access_log_lines, collector_throughput
from bench.harness import BenchContext
from tests.support.services import Endpoints


@pytest.mark.parametrize(
    ("module", "name", "unit"),
    [
        (collector_throughput, "collector_throughput", "events/s"),
        (access_log_lines, "access_log_lines", "lines/s"),
    ],
)
def test_benchmark_runs_at_smoke_size(
    endpoints: Endpoints, module: object, name: str, unit: str
) -> None:
    ctx = BenchContext(endpoints.kafka_bootstrap, endpoints.clickhouse_url, scale="smoke")
    (result,) = module.run(ctx)  # type: ignore[attr-defined]
    assert (result.name, result.unit) == (name, unit)
    assert result.value > 0 and result.peer_value and result.ratio is not None
    assert result.peer and result.conditions
