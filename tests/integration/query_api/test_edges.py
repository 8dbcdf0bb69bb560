"""Edge inputs over the real server: numbers past ±10^18 in data comparisons, forged
cursors, repeated parameters and the ends of the time range."""

from __future__ import annotations

import base64

from clickhouse_driver import Client

from tests.integration.query_api.support import ALL, OpenApi, insert_ch
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
