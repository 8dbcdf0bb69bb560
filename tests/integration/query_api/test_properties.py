"""The API over ClickHouse (and the same SQL on chdb) agrees with the Python reference.

Random events go into a real ClickHouse 18.16 table — some of them twice, as a redelivery
would write them — and into chdb (the current engine), then are sometimes merged and rolled
up (:mod:`storage.rollup`); random filters and queries are then
asked of three apps that differ only in their repository: ClickHouse, chdb, and the
in-memory twin that filters with :mod:`query_api.reference`. Every answer must be equal,
and walking pages must give the full result in order, without gaps or repeats.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from clickhouse_driver import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from query_api import ApiSettings
from query_api.clickhouse_repository import ClickHouseEventsRepository
from query_api.memory import InMemoryEventsRepository
from storage.rollup import refresh
from tests.integration.query_api.strategies import events, filters
from tests.integration.query_api.support import ALL, ChdbRows, build, insert_ch, insert_chdb, serve
from tests.support.chdb_executor import ChdbExecutor

_SLOW_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


async def _walk(http: httpx.AsyncClient, params: dict[str, Any], limit: int) -> list[str]:
    ids: list[str] = []
    query = {**params, "limit": limit}
    for _ in range(1000):
        response = await http.get("/v1/events", params=query, headers=ALL)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [e["event_id"] for e in body["items"]]
        assert len(body["items"]) == limit or body["next_cursor"] is None
        if body["next_cursor"] is None:
            return ids
        query["cursor"] = body["next_cursor"]
    raise AssertionError("pagination did not end")


async def _same_answers(
    apps: dict[str, httpx.AsyncClient], params: dict[str, Any], limit: int, group_by: str | None
) -> None:
    twin = apps["reference"]
    grouping = {"group_by": group_by} if group_by else {}
    asks: list[tuple[str, dict[str, Any]]] = [
        ("/v1/events", {**params, "limit": 1000}),
        ("/v1/stats", params),
        ("/v1/stats/timeseries", {**params, "interval": "1h", **grouping}),
    ]  # fmt: skip
    for path, query in asks:
        want = await twin.get(path, params=query, headers=ALL)
        assert want.status_code in (200, 400), want.text
        for name, http in apps.items():
            got = await http.get(path, params=query, headers=ALL)
            assert (got.status_code, got.json()) == (want.status_code, want.json()), (name, path)
    full = (await twin.get("/v1/events", params={**params, "limit": 1000}, headers=ALL)).json()
    if "items" in full:
        expected = [e["event_id"] for e in full["items"]]
        for http in apps.values():
            assert await _walk(http, params, limit) == expected


async def _check(
    settings_: ApiSettings, chdb: ChdbRows, chdb_db: str, batch: list[dict[str, Any]],
    asks: list[dict[str, Any]], limit: int, group_by: str | None,
) -> None:  # fmt: skip
    chdb_repo = ClickHouseEventsRepository(chdb, chdb_db, max_buckets=settings_.api_max_buckets)
    async with (
        serve(build(settings_)) as real,
        serve(build(settings_, chdb_repo)) as current,
        serve(build(settings_, InMemoryEventsRepository(batch))) as reference,
    ):
        apps = {"clickhouse": real, "chdb": current, "reference": reference}
        for params in asks:
            await _same_answers(apps, params, limit, group_by)


@settings(max_examples=25, deadline=None, suppress_health_check=_SLOW_OK)
@given(
    batch=st.lists(events(), max_size=30, unique_by=lambda e: str(e["event_id"])),
    asks=st.lists(filters(), min_size=1, max_size=3),
    data=st.data(),
)
def test_api_returns_exactly_what_the_reference_filter_returns(
    ch_client: Client,
    ch_database: str,
    chdb: ChdbExecutor,
    chdb_database: str,
    api_settings: ApiSettings,
    batch: list[dict[str, Any]],
    asks: list[dict[str, Any]],
    data: st.DataObject,
) -> None:
    runners = {ch_database: ch_client, chdb_database: chdb}
    for database, runner in runners.items():
        for table in ("events", "events_daily"):
            runner.execute(f"TRUNCATE TABLE `{database}`.{table}")
    copies = st.lists(st.sampled_from(batch), unique_by=lambda e: str(e["event_id"]))
    again = data.draw(copies if batch else st.just([]), label="delivered twice")
    for rows in (batch, again):  # the copies land in parts of their own
        insert_ch(ch_client, ch_database, rows)
        insert_chdb(chdb, chdb_database, rows)
    if data.draw(st.booleans(), label="merged"):
        for database, runner in runners.items():
            runner.execute(f"OPTIMIZE TABLE `{database}`.events FINAL")
        if data.draw(st.booleans(), label="rolled up"):  # stats then read settled days' roll-ups
            for database, runner in runners.items():
                report = refresh(runner, database, now_ms=int(time.time() * 1000))
                assert bool(report.rolled_up) == bool(batch)
    limit = data.draw(st.integers(1, 7), label="limit")
    group_by = data.draw(st.sampled_from([None, "severity", "component", "kind"]), label="group_by")
    asyncio.run(_check(api_settings, ChdbRows(chdb), chdb_database, batch, asks, limit, group_by))
