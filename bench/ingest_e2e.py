"""Ingest end to end: N pre-produced events until all N are readable in ClickHouse.

Our workers (1 and 2) against two peers reading the same topic in the same run: the
ClickHouse Kafka engine, and a bare confluent-kafka consumer (the floor of Python). The
rate is measured over the steady window — once the consumer group has settled (every
partition assigned, unchanged for 2 s) and rows are readable, until all N are readable —
so process start-up, group joins and the rebalances they cause are not counted for anyone
(a run too small to have a steady window is timed from process start instead). Every
contender gets a fresh database and consumer group.

That window is short (a few seconds of a 1M-event run) and its ends differ: it opens with
a contender's pipeline full and closes with it empty, and it holds the contender's tail.
So each run also prints two cross-checks: the rate between 50% and 90% of the rows
readable (both ends in steady work: no start, no tail), and N over the time from process
start (start-up and group joins included).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from clickhouse_driver import Client
from rich.progress import Progress

from bench.contenders import BareConsumers, Contender, KafkaEngine, Workers
from bench.dataset import produce_events
from bench.harness import BenchContext, Result, benchmark
from eventpipe.kafka import TopicSpec, ensure_topics
from storage.client import capabilities
from storage.migrations import MigrationOptions, migrate

__all__ = [
    "drop_database",
    "fresh_database",
    "measure_rate",
    "run_ingest",
    "run_single",
    "steady_rate",
    "wait_quiet",
]

FULL_N = 1_000_000
SMOKE_N = 3_000


def fresh_database(client: Client, name: str) -> str:
    """A new, migrated database, once the server runs no merge (:func:`wait_quiet`)."""
    drop_database(client, name)
    migrate(client, capabilities(client), MigrationOptions(name))
    wait_quiet(client)
    return name


def drop_database(client: Client, name: str) -> None:
    client.execute(f"DROP DATABASE IF EXISTS `{name}`")


def wait_quiet(client: Client, timeout: float = 60.0) -> None:
    """Wait until the server runs no merge, at most ``timeout`` seconds.

    Each contender is measured on a quiet server: a contender's million fresh rows are
    merged in the background for a while, and the next one would pay for those merges.
    """
    deadline = time.monotonic() + timeout
    while client.execute("SELECT count() FROM system.merges")[0][0]:
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)


def steady_rate(samples: Sequence[tuple[float, int]], n: int) -> float | None:
    """Rows per second between the first samples with 50% and with 90% of ``n`` readable;
    None when the samples do not start below 50% or never reach 90%."""
    if not samples or samples[0][1] >= n // 2:
        return None
    half = next(((t, c) for t, c in samples if c >= n // 2), None)
    most = next(((t, c) for t, c in samples if c >= n * 9 // 10), None)
    if half is None or most is None or most[0] <= half[0]:
        return None
    return (most[1] - half[1]) / (most[0] - half[0])


def wait_for_rows(
    client: Client, database: str, n: int, *, timeout: float, alive: Callable[[], bool], label: str
) -> list[tuple[float, int]]:
    """Poll until ``n`` rows are readable; return every ``(time, rows)`` sample (the last
    one has all ``n``)."""
    start = time.monotonic()
    samples: list[tuple[float, int]] = []
    count = 0
    with Progress(transient=True) as progress:
        task = progress.add_task(label, total=n)
        while count < n:
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"{label}: {count:,} of {n:,} rows after {timeout:.0f}s")
            if not alive():
                raise RuntimeError(f"{label}: a process exited early")
            count = client.execute(f"SELECT count() FROM `{database}`.events")[0][0]
            samples.append((time.monotonic(), count))
            progress.update(task, completed=count)
            time.sleep(0.1)  # the window's ends are known to within this
    return samples


def measure_rate(
    ctx: BenchContext, contender: Contender, topic: str, n: int, client: Client, tag: str
) -> float:
    """Events/s of ``contender`` over the steady window.

    Its database is dropped afterwards, so that no merge of its rows runs while the next
    contender is measured, and the run starts once the server is quiet.
    """
    database = fresh_database(client, f"bench_{tag}")
    t_start = time.monotonic()
    contender.start(
        bootstrap=ctx.kafka_bootstrap, clickhouse_url=ctx.clickhouse_url, topic=topic,
        database=database, group=f"bench-{tag}-{time.time_ns()}",
    )  # fmt: skip
    try:
        contender.wait_stable(partitions=12)  # measure steady work, not group joins
        samples = wait_for_rows(
            client, database, n, timeout=max(120.0, n / 2_000), alive=contender.alive,
            label=f"{contender.name} x{contender.processes}",
        )  # fmt: skip
    finally:
        contender.stop()
        drop_database(client, database)
    t_first, at_first = next(sample for sample in samples if sample[1])
    t_all = samples[-1][0]
    # A run done before the group settled has no steady window: time it from the start.
    steady = at_first < n
    from_start = n / max(t_all - t_start, 1e-3)
    rate = (n - at_first) / max(t_all - t_first, 1e-3) if steady else from_start
    mid = steady_rate(samples, n)
    ctx.console.print(
        f"  {contender.name} x{contender.processes}: {rate:,.0f} events/s "
        f"(50-90% of the rows: {'-' if mid is None else f'{mid:,.0f}'}/s; "
        f"from process start: {from_start:,.0f}/s)"
    )
    return rate


def _topic(ctx: BenchContext, name: str, n: int, per_record: int) -> str:
    ensure_topics(
        {"bootstrap.servers": ctx.kafka_bootstrap},
        [TopicSpec(name, 12), TopicSpec(name + ".dlq", 3)],
    )
    info = produce_events(ctx.kafka_bootstrap, name, n, per_record=per_record)
    ctx.console.print(
        f"  {name}: {n:,} events in {info['records']:,} records, {info['bytes'] / n:.0f} B/event"
    )
    return name


def run_ingest(ctx: BenchContext) -> list[Result]:
    """1 and 2 workers against the Kafka engine and the bare consumer, packed records."""
    n = SMOKE_N if ctx.smoke else FULL_N
    client = Client.from_url(ctx.clickhouse_url)
    topic = _topic(ctx, f"bench.ingest.{time.time_ns()}", n, 500)
    conf = {"bootstrap.servers": ctx.kafka_bootstrap}
    results: list[Result] = []
    for workers in (1, 2):
        our_procs, floor_procs = Workers(workers), BareConsumers(workers)
        ours = measure_rate(ctx, our_procs, topic, n, client, f"ours{workers}")
        floor = measure_rate(ctx, floor_procs, topic, n, client, f"floor{workers}")
        engine = measure_rate(
            ctx, KafkaEngine(workers, client, conf), topic, n, client, f"engine{workers}"
        )
        cond = (
            f"{n:,} events, 12 components, 500 events/record, 12 partitions, "
            f"{workers} process(es); {ctx.machine()}"
        )
        results.append(
            Result.against(
                f"ingest_e2e_{workers}w", ours, "events/s", "clickhouse_kafka_engine", engine, cond
            )
        )
        results.append(
            Result.against(
                f"ingest_e2e_{workers}w_floor",
                ours,
                "events/s",
                "bare_confluent_consumer",
                floor,
                cond,
            )
        )
        if our_procs.peak_rss is not None and floor_procs.peak_rss is not None:
            results.append(
                Result.against(
                    f"ingest_e2e_{workers}w_memory",
                    our_procs.peak_rss,
                    "MiB peak RSS of a process (lower is better)",
                    "bare_confluent_consumer",
                    floor_procs.peak_rss,
                    f"{cond}; the largest VmHWM among the group's processes at the end of the "
                    "run (the Kafka engine runs inside the server: no figure of its own)",
                )
            )
    client.disconnect()
    return results


def run_single(ctx: BenchContext) -> list[Result]:
    """Two workers on one-event records (what producers in other languages send).

    The same N as the packed runs: with fewer events, the fixed costs of a run (the last
    batch's age, the tail of the busier worker) would weigh more than the steady rate.
    """
    n = SMOKE_N if ctx.smoke else FULL_N
    client = Client.from_url(ctx.clickhouse_url)
    topic = _topic(ctx, f"bench.single.{time.time_ns()}", n, 1)
    ours = measure_rate(ctx, Workers(2), topic, n, client, "single_ours")
    floor = measure_rate(ctx, BareConsumers(2), topic, n, client, "single_floor")
    client.disconnect()
    cond = f"{n:,} events, 1 event/record, 12 partitions, 2 processes; {ctx.machine()}"
    return [
        Result.against(
            "ingest_e2e_single", ours, "events/s", "bare_confluent_consumer", floor, cond
        )
    ]


benchmark(
    "ingest_e2e_1w", "ingest_e2e_1w_floor", "ingest_e2e_2w", "ingest_e2e_2w_floor",
    "ingest_e2e_1w_memory", "ingest_e2e_2w_memory",
    description="events/s into ClickHouse, 1 and 2 workers vs Kafka engine and bare consumer; "
    "peak memory per process vs the bare consumer",
)(run_ingest)  # fmt: skip
benchmark(
    "ingest_e2e_single", description="events/s, one event per record, 2 workers vs bare consumer"
)(run_single)
