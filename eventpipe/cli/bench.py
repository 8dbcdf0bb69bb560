"""``eventpipe bench``: run benchmarks against the local services, write results.json."""

from __future__ import annotations

import typer

from bench.harness import BenchContext, print_table, registry, run_benchmarks, write_results
from eventpipe.cli.failure import fail
from eventpipe.settings import BenchSettings

__all__ = ["register"]


def bench(
    name: list[str] = typer.Option(None, "--name", "-n", help="Run only these (repeatable)."),
    smoke: bool = typer.Option(
        False, help="Tiny sizes: checks the benchmark runs, measures nothing."
    ),
    list_: bool = typer.Option(False, "--list", help="List the benchmarks and exit."),
) -> None:
    """Run benchmarks (all, or --name ...) and write bench/results.json."""
    if list_:
        for key, item in sorted(registry().items()):
            typer.echo(f"{key:28s} {item.description}")
        return
    unknown = sorted(set(name or ()) - set(registry()))
    if unknown:
        known = ", ".join(sorted(registry()))
        fail(f"unknown benchmark {', '.join(unknown)}; known: {known}", 2)
    settings = BenchSettings()
    ctx = BenchContext(
        kafka_bootstrap=settings.kafka_bootstrap,
        clickhouse_url=settings.clickhouse_url,
        postgres_dsn=settings.postgres_dsn.get_secret_value(),
        scale="smoke" if smoke else "full",
    )
    results = run_benchmarks(ctx, name or None)
    print_table(results)
    if not smoke:
        write_results(results)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
