"""Edge inputs over the real server: numbers past ±10^18 and subnormal ones in comparisons,
forged cursors, repeated parameters, the ends of the time range, and timeseries over far too
many buckets or groups."""

from __future__ import annotations

import base64
from typing import Any

from clickhouse_driver import Client

from query_api import ApiSettings
from query_api.clickhouse_repository import ClickHouseEventsRepository
from query_api.store import ClickHouseStore, RowSource
from query_api.timeparse import format_ms
from tests.integration.query_api.support import (
    ALL,
    ChdbRows,
    OpenApi,
    build,
    insert_ch,
    insert_chdb,
    serve,
)
from tests.support.chdb_executor import ChdbExecutor
from tests.unit.query_api.helpers import event


async def test_data_ordering_past_10_to_the_18_is_numeric(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    five = event(data={"x": 5, "big": 3e18})
    insert_ch(ch_client, ch_database, [five])
    async with open_api() as http:

        async def ids(q: str) -> list[str]:
            response = await http.get("/v1/events", params={"q": q}, headers=ALL)
            assert response.status_code == 200, response.text
            return [e["event_id"] for e in response.json()["items"]]

        # '5' > '1e18' as text: these used to find the event
        assert await ids("data.x gt 1e18") == []
        assert await ids("data.x gte 2000000000000000000") == []
        assert await ids("data.x lt 1e18") == [five["event_id"]]
        assert await ids("data.big gt 2e18 AND data.big lt 4e18") == [five["event_id"]]
        refused = await http.get("/v1/events", params={"q": "data.x gt 1e400"}, headers=ALL)
        assert refused.status_code == 400 and refused.json()["position"] == 10


async def test_forged_cursors_repeats_and_time_extremes_are_answered(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    insert_ch(ch_client, ch_database, [event()])
    forged = base64.urlsafe_b64encode(b"[1, 1514887200000, 7]").decode()
    async with open_api() as http:
        response = await http.get("/v1/events", params={"cursor": forged}, headers=ALL)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_cursor")
        twice = {"q": ["user eq 'a'", "user eq 'b'"]}
        assert (await http.get("/v1/stats", params=twice, headers=ALL)).status_code == 400
        for since, until in (("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31")):
            params = {"since": since, "until": until, "interval": "1h"}
            series = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
            assert series.status_code == 200, series.text
            starts = [b["start"] for b in series.json()["buckets"]]
            assert (len(starts), starts[0]) == (24, f"{since}T00:00:00.000Z")
            stats = await http.get("/v1/stats", params={"since": since}, headers=ALL)
            assert stats.status_code == 200
        too_late = await http.get("/v1/events", params={"since": "253402300800000"}, headers=ALL)
        assert too_late.status_code == 400 and "since" in too_late.json()["message"]


async def test_subnormal_numbers_compare_numerically(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    # ClickHouse 18.16's SQL parser refuses a subnormal literal: these were 500s.
    tiny = event(data={"x": 1e-300})
    zero = event(
        data={"x": 0},
        kind="access",
        message=None,
        http={"method": "GET", "path": "/", "status": 200, "duration_ms": 0.0},
    )
    insert_ch(ch_client, ch_database, [tiny, zero])
    async with open_api() as http:
        for q, want in (
            ("data.x gt 1e-320", [tiny]),
            ("data.x lte -1e-310", []),
            ("http.duration_ms lt 1e-320", [zero]),
            ("http.status in (1e-320, 200)", [zero]),
            ("http.status eq 5e-324", []),
        ):
            for path in ("/v1/events", "/v1/stats", "/v1/stats/timeseries"):
                response = await http.get(path, params={"q": q}, headers=ALL)
                assert response.status_code == 200, (q, path, response.text)
            found = (await http.get("/v1/events", params={"q": q}, headers=ALL)).json()["items"]
            assert [e["event_id"] for e in found] == [e["event_id"] for e in want], q


class _Counting:
    """A row source over another that notes how many rows each query returned."""

    def __init__(self, store: RowSource) -> None:
        self.store = store
        self.returned: dict[str, int] = {}

    async def rows(self, name: str, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        rows = await self.store.rows(name, sql, params)
        self.returned[name] = len(rows)
        return rows

    async def ping(self) -> bool:
        return await self.store.ping()


async def test_too_many_buckets_are_refused_without_reading_them_all(
    ch_client: Client, ch_database: str, api_settings: ApiSettings
) -> None:
    # Every non-empty bucket used to come back to the API before the bucket count was
    # checked: over months of events, millions of rows in memory for one 400.
    minute = 60_000
    events = [event(timestamp=format_ms(1_704_067_200_000 + i * minute)) for i in range(40)]
    insert_ch(ch_client, ch_database, events)
    store = ClickHouseStore(api_settings, threads=1, query_timeout=30)
    source = _Counting(store)
    repo = ClickHouseEventsRepository(source, ch_database, max_buckets=5)
    try:
        await store.start(10)
        async with serve(build(api_settings, repo)) as http:
            for grouping in ({}, {"group_by": "severity"}):
                params = {"interval": "1m", **grouping}
                response = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
                assert response.status_code == 400, response.text
                assert "more than 5" in response.json()["message"]
                assert source.returned["timeseries"] <= 6
            params = {"interval": "1h", "group_by": "severity"}
            response = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
            assert [b["count"] for b in response.json()["buckets"]] == [40]
    finally:
        await store.close()


async def test_the_bucket_limit_counts_every_group_on_both_engines(
    ch_client: Client,
    ch_database: str,
    api_settings: ApiSettings,
    chdb: ChdbExecutor,
    chdb_database: str,
) -> None:
    # The limit used to cap the buckets of each group: 3 hours x 8 components came back
    # (and were answered) under a limit of 10, and so would 3 hours x 100,000 components.
    hour = 3_600_000
    events = [
        event(component=f"c{c}", timestamp=format_ms(1_704_067_200_000 + h * hour))
        for c in range(8)
        for h in range(3)
    ]
    insert_ch(ch_client, ch_database, events)
    insert_chdb(chdb, chdb_database, events)
    store = ClickHouseStore(api_settings, threads=1, query_timeout=30)
    sources = {"clickhouse": _Counting(store), "chdb": _Counting(ChdbRows(chdb))}
    databases = {"clickhouse": ch_database, "chdb": chdb_database}
    try:
        await store.start(10)
        for name, source in sources.items():
            repo = ClickHouseEventsRepository(source, databases[name], max_buckets=10)
            async with serve(build(api_settings, repo)) as http:
                params = {"interval": "1h", "group_by": "component"}
                response = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
                assert response.status_code == 400, (name, response.text)
                assert (
                    "x groups over this range would be more than 10 values"
                    in response.json()["message"]
                ), name
                assert source.returned["timeseries"] <= 11, name
                params = {"interval": "1h", "group_by": "kind"}  # 3 buckets x 4 kinds
                response = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
                assert response.status_code == 400, (name, response.text)
                params = {
                    "interval": "1h",
                    "component": ["c0", "c1", "c2"],
                    "group_by": "component",
                }
                response = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
                assert response.status_code == 200, (name, response.text)
                groups = [b["groups"] for b in response.json()["buckets"]]
                assert groups == [{"c0": 1, "c1": 1, "c2": 1}] * 3, name
    finally:
        await store.close()


async def test_http_status_ordering_matches_only_events_with_a_status(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    # Events without `http` store status 0: `http.status lt 400` (the successful requests
    # of an access log) used to list every log and error event too.
    log = event(timestamp="2018-01-02T10:00:00.000Z")
    ok = event(
        timestamp="2018-01-02T11:00:00.000Z",
        kind="access",
        message=None,
        http={"method": "GET", "path": "/", "status": 200},
    )
    insert_ch(ch_client, ch_database, [log, ok])
    async with open_api() as http:
        for q, want in (
            ("http.status lt 400", [ok]),
            ("http.status lte 200", [ok]),
            ("http.status gte 0", [ok]),
            ("http.status gt -1", [ok]),
            ("http.status in (0, 200)", [ok]),
            ("http.status eq 0", []),
            ("http.status ne 500", [ok, log]),  # `ne` is exactly NOT `eq`
            ("NOT (http.status lt 400)", [log]),
        ):
            response = await http.get("/v1/events", params={"q": q}, headers=ALL)
            assert response.status_code == 200, (q, response.text)
            found = [e["event_id"] for e in response.json()["items"]]
            assert found == [e["event_id"] for e in want], q
            stats = await http.get("/v1/stats", params={"q": q}, headers=ALL)
            assert stats.json()["total"] == len(want), q
        # The filter parameters read the same way (they matched every log event for 0).
        for params, want in (({"code": "0"}, []), ({"http.status": ["0", "200"]}, [ok])):
            response = await http.get("/v1/events", params=params, headers=ALL)
            found = [e["event_id"] for e in response.json()["items"]]
            assert found == [e["event_id"] for e in want], params
