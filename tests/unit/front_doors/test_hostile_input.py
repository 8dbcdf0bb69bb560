"""Hostile input to the front doors: a 4xx or a dead letter naming the problem, never a 500,
a crashed connection or events silently left out."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from events.errors import InvalidEvent
from events.wire import validate_wire
from front_doors.access_logs.parse import parse_line
from front_doors.collector.body import read_body
from front_doors.collector.compat import legacy_timestamp
from front_doors.collector.errors import BadRequest, PayloadTooLarge
from front_doors.outbox.write import prepare
from producers import MemoryKafka
from tests.unit.front_doors.conftest import auth, events_in
from tests.unit.front_doors.test_access_tcp import _line, _receiver

_DEEP = b"[" * 1_020 + b"]" * 1_020  # within orjson's limit, past the encoder's recursion


def _event(message: str) -> bytes:
    return json.dumps({"component": "payments", "message": message}).encode()


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


# -- the collector ---------------------------------------------------------------------------


async def test_every_member_of_a_multi_member_gzip_body_is_read() -> None:
    # RFC 1952: a gzip file is a series of members (pigz, concatenated logs, streaming shippers).
    body = gzip.compress(_event("one") + b"\n") + gzip.compress(_event("two") + b"\n")
    read = await read_body({"content-encoding": "gzip"}, _chunks(body[:7], body[7:]), 10_000)
    assert read == _event("one") + b"\n" + _event("two") + b"\n"


async def test_trailing_zero_padding_after_gzip_is_ignored_as_gzip_does() -> None:
    body = gzip.compress(_event("one")) + b"\0" * 10
    assert await read_body({"content-encoding": "gzip"}, _chunks(body), 10_000) == _event("one")


@pytest.mark.parametrize(
    ("encoding", "body", "problem"),
    [
        ("gzip", gzip.compress(_event("one") + b"\n" + _event("two"))[:-12], "truncated"),
        ("gzip", gzip.compress(_event("one")) + b"trailing garbage", "gzip"),
        ("deflate", zlib.compress(_event("one"))[:-6], "truncated"),
        ("deflate", zlib.compress(_event("one")) + b"more", "after the end"),
    ],
    ids=["gzip-truncated", "gzip-trailing", "deflate-truncated", "deflate-trailing"],
)
async def test_a_truncated_or_trailing_compressed_body_is_a_bad_request(
    encoding: str, body: bytes, problem: str
) -> None:
    with pytest.raises(BadRequest, match=problem):
        await read_body({"content-encoding": encoding}, _chunks(body), 10_000)


def _empty_deflate_blocks(count: int) -> bytes:
    # A deflate stream that goes on and on without producing a byte: empty stored blocks
    # (header bits, then LEN 0 and NLEN 0xffff), each five bytes once the stream is aligned.
    deflater = zlib.compressobj()
    head = deflater.compress(b"") + deflater.flush(zlib.Z_SYNC_FLUSH)
    return head + b"\x00\x00\x00\xff\xff" * count + deflater.flush()


@pytest.mark.parametrize(
    ("encoding", "parts"),
    [
        ("gzip", [gzip.compress(_event("one")), *[b"\0" * 1_000] * 50]),
        ("gzip", [gzip.compress(_event("one")), *[gzip.compress(b"")] * 2_000]),
        ("deflate", [_empty_deflate_blocks(10_000)]),
    ],
    ids=["gzip-zero-padding", "gzip-empty-members", "deflate-empty-blocks"],
)
async def test_a_compressed_body_is_bounded_even_when_it_inflates_to_nothing(
    encoding: str, parts: list[bytes]
) -> None:
    # Counting only inflated bytes would read an endless chunked upload of padding, empty
    # members or empty blocks for ever; what is sent counts too, as a declared length does.
    with pytest.raises(PayloadTooLarge):
        await read_body({"content-encoding": encoding}, _chunks(*parts), 10_000)


async def test_a_truncated_gzip_body_is_a_400_and_publishes_nothing(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    body = gzip.compress(_event("one") + b"\n" + _event("two"))[:-12]
    headers = {**auth(), "Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}
    response = await collector.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 400 and "truncated" in response.json()["message"]
    assert events_in(kafka) == []


@pytest.mark.parametrize("value", ["²", "9" * 5_000, "٣" * 5_000], ids=["sup", "long", "arabic"])
def test_unreadable_legacy_timestamps_pass_through_for_the_contract(value: str) -> None:
    assert legacy_timestamp(value) == value


async def test_an_unreadable_legacy_timestamp_is_a_400_naming_it(
    collector: httpx.AsyncClient,
) -> None:
    payload = {"service": "payments", "severity": "info", "message": "m", "timestamp": "²"}
    response = await collector.post("/logs", json=payload, headers=auth())
    assert response.status_code == 400
    assert response.json()["rejected"][0]["field"] == "timestamp"


async def test_data_nested_too_deep_is_rejected_alone_and_its_neighbours_stored(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    deep = b'{"component":"payments","message":"deep","data":{"x":' + _DEEP + b"}}"
    body = b"\n".join([_event("before"), deep, _event("after")])
    response = await collector.post(
        "/v1/events", content=body, headers={**auth(), "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [(1, "data")]
    assert [e.message for e in events_in(kafka)] == ["before", "after"]


# -- access logs -----------------------------------------------------------------------------

_CLF = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 '


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (_CLF + b"9" * 5_000, "http.bytes"),
        (b'{"method":"GET","path":"/","status":"\xc2\xb2"}', "http.status"),
        (b'{"method":"GET","path":"/","status":200,"bytes":"' + b"9" * 5_000 + b'"}', "http.bytes"),
        (b'{"method":"GET","path":"/","status":200,"request_time":"1e308"}', "request_time"),
    ],
    ids=["clf-bytes", "json-superscript-status", "json-bytes", "json-request-time"],
)
def test_numbers_past_any_limit_are_invalid_naming_the_field(line: bytes, field: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        validate_wire(parse_line(line, "web"))
    assert caught.value.field == field


async def test_lines_that_cannot_be_encoded_are_dead_lettered_and_the_connection_goes_on(
    kafka: MemoryKafka,
) -> None:
    deep = b'{"method":"GET","path":"/","status":200,"x":' + _DEEP + b"}"
    lines = [_line(1), deep + b"\n", _CLF + b"9" * 5_000 + b"\n", _line(2)]
    async with _receiver(kafka) as receiver:
        await receiver.send(b"".join(lines))
        await _until(lambda: receiver.count("lines") == 4)
        reasons = [(d.line, d.reason.field) for d in receiver.dead.letters]
    assert reasons == [(2, "data"), (3, "http.bytes")]
    assert [e.http.path for e in events_in(kafka) if e.http] == ["/p/1", "/p/2"]


async def _until(condition: Any) -> None:
    from tests.unit.front_doors.conftest import wait_until

    await wait_until(condition, "the lines to be handled", timeout=10)


# -- the outbox ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": "caf\udce9"}, "message"),
        ({"message": "m", "data": {"x": orjson.loads(_DEEP)}}, "data"),
    ],
)
def test_outbox_events_that_cannot_be_encoded_are_invalid_naming_the_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        prepare({"component": "orders", **fields})
    assert caught.value.field == field
