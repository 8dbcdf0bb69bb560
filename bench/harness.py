"""The benchmark harness: a registry, the result format, the runner and the report.

A benchmark is a function ``run(ctx) -> list[Result]`` registered under one or more names
with :func:`benchmark`. Each :class:`Result` is measured against a peer *in the same run on
the same machine*, and ``ratio`` is ours over the peer's: higher is better for rates, lower
for latencies (the unit says which, e.g. ``events/s`` or ``ms p95``).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

__all__ = [
    "RESULTS_PATH",
    "BenchContext",
    "Benchmark",
    "Result",
    "benchmark",
    "discover",
    "registry",
    "run_benchmarks",
    "write_results",
]

RESULTS_PATH = Path(__file__).with_name("results.json")
Scale = Literal["full", "smoke"]


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    peer: str | None
    peer_value: float | None
    ratio: float | None
    conditions: str

    @classmethod
    def against(
        cls, name: str, value: float, unit: str, peer: str, peer_value: float, conditions: str
    ) -> Result:
        ratio = round(value / peer_value, 3) if peer_value else None
        return cls(name, round(value, 3), unit, peer, round(peer_value, 3), ratio, conditions)


@dataclass(frozen=True)
class BenchContext:
    """Where the services are and how big to go."""

    kafka_bootstrap: str
    clickhouse_url: str
    postgres_dsn: str | None = None
    scale: Scale = "full"
    console: Console = field(default_factory=lambda: Console(stderr=True))
    #: Results measured so far in this run, by name (what later benchmarks may build on).
    measured: dict[str, Result] = field(default_factory=dict)

    @property
    def smoke(self) -> bool:
        return self.scale == "smoke"

    def machine(self) -> str:
        python = f"{platform.python_implementation()} {platform.python_version()}"
        return f"{os.cpu_count()} cores, {python}"


@dataclass(frozen=True)
class Benchmark:
    names: tuple[str, ...]
    run: Callable[[BenchContext], list[Result]]
    description: str
    #: Results this benchmark reads when they were measured in the same run; a run that
    #: includes the benchmarks producing them runs those first.
    after: tuple[str, ...] = ()


_REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    *names: str, description: str = "", after: tuple[str, ...] = ()
) -> Callable[[Callable[[BenchContext], list[Result]]], Callable[[BenchContext], list[Result]]]:
    """Register ``run`` as the benchmark producing the results named ``names``; ``after``
    names results it reads (see :attr:`Benchmark.after`)."""

    def register(
        run: Callable[[BenchContext], list[Result]],
    ) -> Callable[[BenchContext], list[Result]]:
        bench = Benchmark(tuple(names), run, description or (run.__doc__ or "").strip(), after)
        for name in names:
            if name in _REGISTRY and _REGISTRY[name].run is not run:
                raise ValueError(f"benchmark {name!r} registered twice")
            _REGISTRY[name] = bench
        return run

    return register


_BROKEN: dict[str, BaseException] = {}


def discover() -> None:
    """Import every module of the bench package so their benchmarks register.

    A module that fails to import is remembered (and named when its benchmarks are asked
    for) instead of taking every other benchmark down with it.
    """
    import bench

    for module in pkgutil.iter_modules(bench.__path__):
        if module.name in {"harness", "__main__"} or module.name in _BROKEN:
            continue
        try:
            importlib.import_module(f"bench.{module.name}")
        except Exception as exc:
            _BROKEN[module.name] = exc


def registry() -> dict[str, Benchmark]:
    discover()
    return dict(_REGISTRY)


def run_benchmarks(ctx: BenchContext, names: Sequence[str] | None = None) -> list[Result]:
    """Run the chosen benchmarks (all when ``names`` is empty), each once."""
    known = registry()
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise KeyError(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    chosen: list[Benchmark] = []
    for name in names or sorted(known):
        if known[name] not in chosen:
            chosen.append(known[name])
    produced = {name for bench in chosen for name in bench.names}
    # Those reading another chosen benchmark's results last (stable: the order otherwise).
    chosen.sort(key=lambda bench: any(name in produced for name in bench.after))
    results: list[Result] = []
    for bench in chosen:
        ctx.console.rule(f"[bold]{', '.join(bench.names)}")
        for result in bench.run(ctx):
            ctx.measured[result.name] = result
            if not names or result.name in names or result.name in bench.names:
                results.append(result)
    return results


def write_results(results: Sequence[Result], path: Path = RESULTS_PATH) -> None:
    """Write results.json, keeping earlier results of benchmarks not run this time."""
    kept: dict[str, dict[str, object]] = {}
    if path.exists():
        kept = {r["name"]: r for r in json.loads(path.read_text(encoding="utf-8"))}
    for result in results:
        kept[result.name] = asdict(result)
    path.write_text(
        json.dumps(sorted(kept.values(), key=lambda r: str(r["name"])), indent=2) + "\n"
    )


def print_table(results: Sequence[Result], console: Console | None = None) -> None:
    table = Table("benchmark", "value", "unit", "peer", "peer value", "ratio", "conditions")
    for r in results:
        table.add_row(
            r.name,
            f"{r.value:,.3f}",
            r.unit,
            r.peer or "-",
            "-" if r.peer_value is None else f"{r.peer_value:,.3f}",
            "-" if r.ratio is None else f"{r.ratio:.3f}",
            r.conditions,
        )
    (console or Console(width=200)).print(table)
