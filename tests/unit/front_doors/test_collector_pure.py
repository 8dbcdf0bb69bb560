"""The collector's pure parts: body forms, legacy payloads, tokens, bounded reading."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator

import pytest

from events.errors import InvalidEvent
from front_doors.collector.body import read_body
from front_doors.collector.compat import LEGACY_EVENT, LEGACY_LOG, legacy_timestamp
from front_doors.collector.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedEncoding,
)
from front_doors.collector.parse import media_type, parse_items
from front_doors.collector.tokens import Scope, WriteTokens


def test_media_type_ignores_parameters_and_case() -> None:
    assert media_type("Application/JSON; charset=utf-8") == "application/json"
    assert media_type(None) == ""


def test_a_json_object_is_one_item_and_an_array_its_items() -> None:
    assert parse_items(b'{"a": 1}', "application/json", 10) == [{"a": 1}]
    items = parse_items(b'[{"a": 1}, [2]]', None, 10)
    assert items[0] == {"a": 1}
    assert isinstance(items[1], InvalidEvent) and items[1].code == "not_object"


def test_ndjson_declared_as_json_is_still_read_line_by_line() -> None:
    items = parse_items(b'{"a": 1}\n{"b": 2}', "application/json", 10)
    assert items == [{"a": 1}, {"b": 2}]


def test_one_broken_document_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_items(b'{"a": ', "application/json", 10)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"[{}, {}, {}]", "application/json"), (b"{}\n{}\n{}", "application/x-ndjson")],
)
def test_the_item_limit_holds_for_every_form(body: bytes, content_type: str) -> None:
    with pytest.raises(PayloadTooLarge, match="over the limit of 2"):
        parse_items(body, content_type, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_700_000_000, 1_700_000_000_000),  # seconds
        (1_700_000_000.5, 1_700_000_000_500),
        (1_700_000_000_123, 1_700_000_000_123),  # milliseconds
        ("1700000000", 1_700_000_000_000),
        ("2024-03-01T12:00:00", "2024-03-01T12:00:00+00:00"),
        ("2024-03-01T12:00:00+02:00", "2024-03-01T12:00:00+02:00"),
        ("yesterday", "yesterday"),  # left for the contract to reject
        (True, True),
        (None, None),
    ],
)
def test_legacy_timestamps_are_read_leniently(value: object, expected: object) -> None:
    assert legacy_timestamp(value) == expected


def test_legacy_payloads_rename_fields_and_set_the_kind() -> None:
    log = LEGACY_LOG.to_event({"service": "pay", "severity": "info", "message": "m", "x": 1})
    assert log == {"component": "pay", "severity": "info", "message": "m", "x": 1, "kind": "log"}
    event = LEGACY_EVENT.to_event({"email": "a@b.c", "component": "o", "message": "m"})
    assert event == {"user": "a@b.c", "component": "o", "message": "m", "kind": "event"}


def test_legacy_rejections_name_the_callers_field() -> None:
    reason = InvalidEvent("too_long", "user", "user is too long")
    assert LEGACY_EVENT.their_reason(reason).field == "email"
    untouched = InvalidEvent("missing_field", "message", "message is required")
    assert LEGACY_EVENT.their_reason(untouched) is untouched


def test_tokens_map_to_their_scopes_and_refuse_the_unknown() -> None:
    tokens = WriteTokens.parse("a=payments,orders; b=*")
    assert tokens.scope_of("a") == Scope(frozenset({"payments", "orders"}))
    assert tokens.scope_of("b") == Scope(None)
    with pytest.raises(Unauthorized):
        tokens.scope_of("c")
    with pytest.raises(Unauthorized):
        tokens.scope_of(None)
    assert WriteTokens([], allow_anonymous=True).scope_of(None) == Scope(None)


def test_hashed_tokens_match_the_presented_secret() -> None:
    digest = hashlib.sha256(b"s3cret").hexdigest()
    assert WriteTokens.parse(f"sha256:{digest}=pay").scope_of("s3cret").components == {"pay"}


@pytest.mark.parametrize("text", ["nosep", "=pay", "tok=", "tok=Not A Component"])
def test_malformed_token_entries_are_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="entry 1"):
        WriteTokens.parse(text)


def test_a_scope_names_what_it_may_not_write() -> None:
    with pytest.raises(Forbidden, match="orders") as caught:
        Scope(frozenset({"payments"})).check({"payments", "orders"})
    assert caught.value.extra["components"] == ["orders"]
    Scope(None).check({"anything"})


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_bodies_are_read_whole_under_the_limit() -> None:
    assert await read_body({}, _chunks(b"ab", b"cd"), 4) == b"abcd"
    with pytest.raises(PayloadTooLarge):
        await read_body({}, _chunks(b"ab", b"cde"), 4)
    with pytest.raises(PayloadTooLarge):  # refused before reading anything
        await read_body({"content-length": "5"}, _chunks(), 4)


async def test_deflate_is_read_and_its_output_bounded() -> None:
    packed = zlib.compress(b"x" * 1000)
    assert await read_body({"content-encoding": "deflate"}, _chunks(packed), 1000) == b"x" * 1000
    with pytest.raises(PayloadTooLarge):
        await read_body({"content-encoding": "deflate"}, _chunks(packed), 999)
    with pytest.raises(UnsupportedEncoding):
        await read_body({"content-encoding": "zstd"}, _chunks(packed), 999)
