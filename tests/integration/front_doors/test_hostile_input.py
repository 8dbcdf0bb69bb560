"""Hostile bodies on the real broker: every event of a valid body is stored, and a body
that is not whole stores nothing."""

from __future__ import annotations

import gzip
from typing import Any

import orjson

from front_doors.collector import CollectorSettings
from tests.integration.front_doors.test_collector import _auth, _client, _events
from tests.integration.front_doors.test_collector import settings as settings  # the fixture

_NDJSON = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}


def _lines(*messages: str) -> bytes:
    return b"".join(
        orjson.dumps({"component": "payments", "message": message}) + b"\n" for message in messages
    )


async def test_a_multi_member_gzip_body_is_stored_whole_and_a_cut_one_not_at_all(
    settings: CollectorSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    whole = gzip.compress(_lines("a", "b")) + gzip.compress(_lines("c"))
    cut = gzip.compress(_lines("lost", "too"))[:-12]
    deep = b'{"component":"payments","message":"deep","data":' + b"[" * 1_020
    deep += b"]" * 1_020 + b"}\n"
    async with _client(settings) as client:
        headers = {**_auth("pay-token"), **_NDJSON}
        stored = await client.post("/v1/events", content=whole, headers=headers)
        refused = await client.post("/v1/events", content=cut, headers=headers)
        mixed = await client.post(
            "/v1/events",
            content=gzip.compress(_lines("before") + deep + _lines("after")),
            headers=headers,
        )
        events = _events(kafka_conf, topic)
    assert (stored.status_code, stored.json()["accepted"]) == (202, 3)
    assert refused.status_code == 400 and "truncated" in refused.json()["message"]
    assert mixed.status_code == 202 and mixed.json()["rejected"][0]["field"] == "data"
    assert [e.message for e in events] == ["a", "b", "c", "before", "after"]
