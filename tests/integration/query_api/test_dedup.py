"""Each event is read once, however many identical copies the sink wrote."""

from __future__ import annotations

from typing import Any

from clickhouse_driver import Client

from query_api.timeparse import format_ms
from storage.rollup import partition_states, partitions_sql
from tests.integration.query_api.support import ALL, OpenApi, insert_ch
from tests.unit.query_api.helpers import event

DAY = 86_400_000
BASE = 1_704_067_200_000  # 2024-01-01


def batch(n: int) -> list[dict[str, Any]]:
    return [
        event(
            timestamp=format_ms(BASE + (i % 3) * DAY + i * 1000),
            severity="ERROR" if i % 4 else "INFO",
        )
        for i in range(n)
    ]


async def _everything(open_api: OpenApi) -> dict[str, Any]:
    async with open_api() as http:
        ids: list[str] = []
        params: dict[str, Any] = {"limit": 7}
        while True:
            body = (await http.get("/v1/events", params=params, headers=ALL)).json()
            ids += [e["event_id"] for e in body["items"]]
            if not body["next_cursor"]:
                break
            params["cursor"] = body["next_cursor"]
        stats = (await http.get("/v1/stats", headers=ALL)).json()
        series = (
            await http.get("/v1/stats/timeseries", params={"interval": "1d"}, headers=ALL)
        ).json()
        one = (await http.get(f"/v1/events/{ids[0]}", headers=ALL)).json()
    return {"ids": ids, "stats": stats, "series": series, "one": one}


def _unsettled(client: Client, database: str) -> list[str]:
    states = partition_states(client.execute(*partitions_sql(database)))
    return [s.partition for s in states if not s.settled]


async def test_copies_written_by_redelivery_are_read_once(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    events = batch(40)
    for _ in range(4):  # the same batch, written four times: four parts per day
        insert_ch(ch_client, ch_database, events)
    assert ch_client.execute(f"SELECT count() FROM `{ch_database}`.events")[0][0] == 160
    assert _unsettled(ch_client, ch_database) == ["20240101", "20240102", "20240103"]

    before = await _everything(open_api)
    assert sorted(before["ids"]) == sorted(e["event_id"] for e in events)
    assert len(before["ids"]) == len(set(before["ids"]))
    assert before["stats"]["total"] == 40
    assert before["stats"]["by_severity"]["ERROR"] == 30
    assert [b["count"] for b in before["series"]["buckets"]] == [14, 13, 13]
    assert before["one"]["event_id"] == before["ids"][0]

    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    assert ch_client.execute(f"SELECT count() FROM `{ch_database}`.events")[0][0] == 40
    assert _unsettled(ch_client, ch_database) == []
    assert await _everything(open_api) == before


async def test_a_settled_day_is_counted_directly_and_a_fresh_copy_unsettles_it(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    events = batch(12)
    insert_ch(ch_client, ch_database, events)
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    assert _unsettled(ch_client, ch_database) == []
    insert_ch(ch_client, ch_database, events[:1])  # a late redelivery into a settled day
    assert _unsettled(ch_client, ch_database) == ["20240101"]
    async with open_api() as http:
        stats = (await http.get("/v1/stats", headers=ALL)).json()
        page = (await http.get("/v1/events", params={"limit": 100}, headers=ALL)).json()
    assert stats["total"] == 12
    assert len(page["items"]) == 12
