"""Read API latency: each query through HTTP against the same SQL run directly (the floor).

For every case the API is asked over HTTP (a real uvicorn server on a local port, one
worker, keep-alive client) and, interleaved in the same run, the SQL statements the
repository issues for that request are run straight through clickhouse-driver. Value is
the API's p95, peer the floor's p95, ratio ours / floor (lower is better); p50s are in
the conditions. Full runs read 10,000,000 events (:mod:`bench.query_api_data`).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from clickhouse_driver import Client

from bench.harness import BenchContext, Result, benchmark
from bench.query_api_data import BENCH_DATABASE, DAY_MS, DataSet, ensure_loaded
from query_api import ApiSettings, create_app
from query_api.auth import TokenTable, parse_entries
from query_api.clickhouse_repository import ClickHouseEventsRepository
from query_api.cursor import Key, decode_cursor
from query_api.dsl import check, parse
from query_api.filters import EventFilter
from storage.client import capabilities
from storage.schema import quote_identifier

__all__ = ["run"]

_TOKEN = "bench-token"
_Statement = tuple[str, dict[str, Any]]


@dataclass
class _Capture:
    """A row source that runs each statement directly and writes it down (for the floor)."""

    client: Client
    statements: list[_Statement] = field(default_factory=list)

    async def rows(self, name: str, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self.statements.append((sql, params))
        rows: list[tuple[Any, ...]] = self.client.execute(sql, params)
        return rows

    async def ping(self) -> bool:
        return True


@dataclass(frozen=True)
class _Case:
    name: str
    path: str
    params: dict[str, Any]
    where: EventFilter
    call: str  # repository method
    repeats: int


def _cases(data: DataSet, smoke: bool) -> list[_Case]:
    day10 = data.first_ms + 9 * DAY_MS
    week = data.end_ms - 7 * DAY_MS
    n = 20 if smoke else 1  # a smoke run only proves the benchmark still works
    return [
        _Case("query_filtered_page", "/v1/events",
              {"component": "payments", "severity": "ERROR", "since": str(day10),
               "until": str(day10 + DAY_MS)},
              EventFilter(components=("payments",), severities=("ERROR",), since_ms=day10,
                          until_ms=day10 + DAY_MS), "page", max(3, 60 // n)),
        _Case("query_deep_page", "/v1/events", {"component": "payments"},
              EventFilter(components=("payments",)), "page", max(3, 40 // n)),
        _Case("query_dsl_contains", "/v1/events", {"q": "(message ct 'TIMEOUT')"},
              EventFilter(query=check(parse("(message ct 'TIMEOUT')"))), "page", max(3, 20 // n)),
        _Case("query_stats", "/v1/stats", {}, EventFilter(), "stats", max(3, 20 // n)),
        _Case("query_timeseries", "/v1/stats/timeseries",
              {"interval": "1h", "since": str(week), "until": str(data.end_ms)},
              EventFilter(since_ms=week, until_ms=data.end_ms), "timeseries", max(3, 20 // n)),
    ]  # fmt: skip


async def _issue(repo: ClickHouseEventsRepository, case: _Case, after: Key | None) -> None:
    if case.call == "page":
        await repo.page(case.where, 100, after)
    elif case.call == "stats":
        await repo.stats(case.where)
    else:
        await repo.timeseries(case.where, "1h", None)


def _statements(client: Client, case: _Case, database: str, after: Key | None) -> list[_Statement]:
    """The statements the API's repository issues for ``case``, in order."""
    capture = _Capture(client)
    repo = ClickHouseEventsRepository(capture, database, max_buckets=10_000)
    asyncio.run(_issue(repo, case, after))
    return capture.statements


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(settings: ApiSettings) -> Iterator[str]:
    tokens = TokenTable(parse_entries([f"{_TOKEN}=*"], "bench"))
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, tokens=tokens), host="127.0.0.1", port=port,
        log_config=None, access_log=False, lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="bench-api", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def _cursor_at_depth(http: httpx.Client, case: _Case, pages: int) -> dict[str, Any]:
    params = dict(case.params)
    for _ in range(pages):
        body = http.get(case.path, params=params).raise_for_status().json()
        params["cursor"] = body["next_cursor"]
    return params


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def _measure(
    ctx: BenchContext, http: httpx.Client, client: Client, case: _Case, data: DataSet
) -> Result:
    params = case.params
    after: Key | None = None
    if case.name == "query_deep_page":
        params = _cursor_at_depth(http, case, 5 if ctx.smoke else 50)
        after = decode_cursor(params["cursor"]) if params.get("cursor") else None
    statements = _statements(client, case, data.database, after)
    api: list[float] = []
    floor: list[float] = []
    for i in range(case.repeats + 2):  # two warm-up rounds, interleaved with the floor
        started = time.perf_counter()
        http.get(case.path, params=params).raise_for_status()
        middle = time.perf_counter()
        for sql, bound in statements:
            client.execute(sql, bound)
        if i >= 2:
            api.append(middle - started)
            floor.append(time.perf_counter() - middle)
    version = client.execute("SELECT version()")[0][0]
    conditions = (
        f"p50 {_ms(api, 50):.1f} ms vs floor {_ms(floor, 50):.1f} ms; {case.repeats} requests; "
        f"{data.rows:,} events on ClickHouse {version}; HTTP via uvicorn (1 worker, "
        f"access log off) on 127.0.0.1; {ctx.machine()}"
    )
    if case.call == "stats":
        conditions += "; settled days read from their roll-up (storage.rollup)"
    return Result.against(case.name, _ms(api, 95), "ms p95", "same SQL via clickhouse-driver",
                          _ms(floor, 95), conditions)  # fmt: skip


@benchmark(
    "query_filtered_page",
    "query_deep_page",
    "query_dsl_contains",
    "query_stats",
    "query_timeseries",
    description="Read API p95 over HTTP vs the same SQL via clickhouse-driver (10M events)",
)
def run(ctx: BenchContext) -> list[Result]:
    client = Client.from_url(ctx.clickhouse_url)
    smoke_db = f"eventpipe_bench_smoke_{int(time.time() * 1000)}"
    database = smoke_db if ctx.smoke else BENCH_DATABASE
    try:
        data = ensure_loaded(client, capabilities(client), database, 20_000 if ctx.smoke
                             else 10_000_000, say=ctx.console.print)  # fmt: skip
        settings = ApiSettings(clickhouse_url=ctx.clickhouse_url, clickhouse_database=database)
        with (
            _server(settings) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {_TOKEN}"}, timeout=120
            ) as http,
        ):
            return [_measure(ctx, http, client, case, data) for case in _cases(data, ctx.smoke)]
    finally:
        if ctx.smoke:
            client.execute(f"DROP DATABASE IF EXISTS {quote_identifier(smoke_db)}")
        client.disconnect()
