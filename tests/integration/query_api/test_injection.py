"""Hostile input in every parameter comes back as data or as a 400 — never as SQL."""

from __future__ import annotations

from typing import Any

import pytest
from clickhouse_driver import Client

from tests.integration.query_api.support import ALL, OpenApi, insert_ch
from tests.unit.query_api.helpers import event

PAYLOADS = [
    "'",
    "\\",
    "\\'",
    "' OR 1=1 --",
    "x' OR '1'='1",
    "\\' OR 1=1 --",
    "1) OR (1=1",
    "'; DROP TABLE events; --",
    "%(p0)s",
    "%s%%",
    "`events`",
    "*/ SELECT 1 /*",
    "ü' FORMAT JSON --",
    "1 UNION ALL SELECT * FROM system.tables",
]
PARAMS = [
    "component", "service", "severity", "kind", "environment", "user", "email", "since",
    "timestamp_start", "until", "timestamp_end", "http.status", "code", "http.method", "method",
    "q", "limit", "cursor",
]  # fmt: skip


@pytest.fixture
def hostile_events(ch_client: Client, ch_database: str) -> list[dict[str, Any]]:
    events = [event(message=p, user=p, environment=p, data={"k": p}) for p in PAYLOADS]
    insert_ch(ch_client, ch_database, events)
    return events


async def test_hostile_values_in_every_parameter_are_data_or_400(
    ch_client: Client, ch_database: str, open_api: OpenApi, hostile_events: list[dict[str, Any]]
) -> None:
    async with open_api() as http:
        for name in PARAMS:
            for payload in PAYLOADS:
                for path in ("/v1/events", "/v1/stats", "/v1/stats/timeseries"):
                    response = await http.get(path, params={name: payload}, headers=ALL)
                    assert response.status_code in (200, 400), (path, name, payload, response.text)
        for payload in PAYLOADS:
            extra = {"interval": payload, "group_by": payload}
            for key, value in extra.items():
                response = await http.get("/v1/stats/timeseries", params={key: value}, headers=ALL)
                assert response.status_code == 400
            response = await http.get(f"/v1/events/{payload}", headers=ALL)
            assert response.status_code in (400, 404)
    assert ch_client.execute(f"SELECT count() FROM `{ch_database}`.events")[0][0] == len(PAYLOADS)


async def test_hostile_values_are_found_as_plain_data(
    open_api: OpenApi, hostile_events: list[dict[str, Any]]
) -> None:
    async with open_api() as http:
        for e in hostile_events:
            text = e["message"]
            quoted = "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
            for params in (
                {"user": text} if "," not in text else {"q": f"user eq {quoted}"},
                {"environment": text} if "," not in text else {"q": f"environment eq {quoted}"},
                {"q": f"(message eq {quoted})"},
                {"q": f"(data.k eq {quoted}) AND (message ct {quoted})"},
                {"email": text} if "," not in text else {"q": f"email in ({quoted})"},
            ):
                body = (await http.get("/v1/events", params=params, headers=ALL)).json()
                assert [x["event_id"] for x in body["items"]] == [e["event_id"]], params
