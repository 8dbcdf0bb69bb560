"""The benchmark runner's own logic: order, and results handed on within a run."""

from __future__ import annotations

import pytest

import bench.freshness
from bench import harness
from bench.harness import BenchContext, Result, benchmark, run_benchmarks


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty registry of our own (the real one is left as it was)."""
    monkeypatch.setattr(harness, "_REGISTRY", {})
    monkeypatch.setattr(harness, "discover", lambda: None)


def _result(name: str, value: float) -> Result:
    return Result(name, value, "x", None, None, None, "test")


def _context() -> BenchContext:
    return BenchContext("127.0.0.1:1", "clickhouse://127.0.0.1:1")


def test_a_benchmark_reading_another_runs_after_it_and_sees_its_result(registry: None) -> None:
    ran: list[str] = []

    def rate(ctx: BenchContext) -> list[Result]:
        ran.append("rate")
        return [_result("max_rate", 1_000.0), _result("max_rate_floor", 9.0)]

    def latency(ctx: BenchContext) -> list[Result]:
        ran.append("latency")
        seen = ctx.measured["max_rate"].value if "max_rate" in ctx.measured else None
        return [_result("a_latency", seen or -1.0)]

    benchmark("a_latency", after=("max_rate",))(latency)  # sorts first by name
    benchmark("max_rate", "max_rate_floor")(rate)

    results = run_benchmarks(_context(), ["a_latency", "max_rate"])
    assert ran == ["rate", "latency"]
    assert [(r.name, r.value) for r in results] == [
        ("max_rate", 1_000.0),
        ("max_rate_floor", 9.0),
        ("a_latency", 1_000.0),
    ]

    ran.clear()
    alone = run_benchmarks(_context(), ["a_latency"])  # nothing measured in this run
    assert (ran, [(r.name, r.value) for r in alone]) == (["latency"], [("a_latency", -1.0)])


def test_freshness_runs_at_half_the_rate_measured_in_the_same_run() -> None:
    ctx = _context()
    ctx.measured["ingest_e2e_2w"] = _result("ingest_e2e_2w", 61_000.0)
    assert bench.freshness._target_rate(ctx) == 30_500.0
    freshness = harness.registry()["freshness_p99"]
    assert "ingest_e2e_2w" in freshness.after


def test_the_steady_rate_is_taken_between_half_and_nine_tenths_of_the_rows() -> None:
    from bench.ingest_e2e import steady_rate

    samples = [(0.0, 100), (1.0, 400), (2.0, 500), (3.0, 700), (4.0, 900), (5.0, 1_000)]
    assert steady_rate(samples, 1_000) == (900 - 500) / (4.0 - 2.0)
    assert steady_rate(samples[2:], 1_000) is None  # the first sample is at half already
    assert steady_rate(samples[:4], 1_000) is None  # never at nine tenths
    assert steady_rate([], 1_000) is None
