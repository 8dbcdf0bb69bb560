"""The fast path (events.wire) and the model (events.decode) are one contract.

Generated inputs — valid, nearly valid and wrong — must be accepted by both with equal
values, or rejected by both with the same reason code and field.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from events import Event, InvalidEvent, decode
from events.codec import invalid_from_validation
from events.wire import WireEvent, decode_wire, encode_wire, validate_wire, validate_wire_many

#: HTTP methods around the contract's pattern (1 to 16 ASCII letters): checked once, then
#: remembered by the fast path, so each is also sent twice below.
ODD_METHODS: Final = (
    "", "A" * 16, "A" * 17, "GET\n", "\nGET", "G3T", "G\u00c9T", "\u01c5", "get", "Get ",
    "M-SEARCH", "\u212a", "GET\u0000",
)  # fmt: skip

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


valid_texts = st.text(max_size=30)
valid_http = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "get", "Post", "PATCH"]),
        "path": st.sampled_from(["/", "/a/b?c=1"]),
        "status": st.integers(100, 599),
    },
    optional={
        "ip": st.sampled_from(["10.0.0.1", "::1", ""]),
        "bytes": st.integers(0, 10**12),
        "duration_ms": st.one_of(st.floats(0, 1e6, allow_nan=False), st.integers(0, 100)),
        "user_agent": valid_texts,
    },
)
valid_events = st.fixed_dictionaries(
    {
        "component": st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,63}\Z"),
        "message": st.text(min_size=1, max_size=40),
    },
    optional={
        "event_id": st.uuids().map(str),
        "timestamp": st.one_of(
            st.integers(0, 4_294_967_295_000),
            st.datetimes(
                min_value=datetime(1971, 1, 1),
                max_value=datetime(2100, 1, 1),
                timezones=st.timezones(),
            ).map(lambda d: d.isoformat()),
        ),
        "environment": valid_texts,
        "kind": st.sampled_from(["log", "error", "event", "access"]),
        "severity": st.sampled_from(
            ["debug", "INFO", "Info", "warn", "WARNING", "error", "Critical", "fatal"]
        ),
        "user": valid_texts,
        "function": valid_texts,
        "reason": valid_texts,
        "trace_id": valid_texts,
        "data": st.dictionaries(st.text(max_size=6), json_values, max_size=4),
        "http": valid_http,
    },
)
# Values that break, bend or probe one rule each.
hostile: dict[str, st.SearchStrategy[Any]] = {
    "component": st.sampled_from(["", "Pay", "pAy", "a\n", "-x", ".x", "a b", "a" * 65, 7, None]),
    "event_id": st.sampled_from(["nope", uuid.uuid4().hex, f"{{{uuid.uuid4()}}}", 5, ""]),
    "timestamp": st.one_of(
        st.sampled_from(
            [
                -1,
                4_294_967_296_000,
                True,
                1.5e12,
                "2026-11-22",
                "2026-11-22T18:29:24",
                "now",
                "",
                "2026-11-22 18:29:24+00:00",
                "2026-11-22T18:29:24.1234567Z",
                "1700000000000",
                "2026-11-22T18:29:24z",
                "1969-12-31T23:59:59Z",
            ]
        ),
        st.datetimes().map(lambda d: d.isoformat()),
    ),
    "kind": st.sampled_from(["metric", "LOG", "", None, 1]),
    "severity": st.sampled_from(["nope", "", "ERR", 3, "warning ", None, "\u0130NFO"]),
    "message": st.sampled_from(["", None, 5, "x" * 32769, ["a"]]),
    "user": st.sampled_from(["u" * 257, 5, ""]),
    "data": st.one_of(json_values, st.just({"region": 1})),
    "http": st.one_of(
        json_values,
        valid_http.map(lambda h: h | {"status": "200"}),
        valid_http.map(lambda h: h | {"status": 600}),
        valid_http.map(lambda h: h | {"bytes": -1}),
        valid_http.map(lambda h: h | {"bytes": 2**63}),  # past what the contract stores
        valid_http.map(lambda h: h | {"bytes": 2**63 - 1}),
        valid_http.map(lambda h: h | {"method": "G E T"}),
        st.tuples(valid_http, st.sampled_from(ODD_METHODS)).map(lambda p: p[0] | {"method": p[1]}),
        valid_http.map(lambda h: h | {"extra": 1}),
        valid_http.map(lambda h: h | {"duration_ms": "1.5"}),
    ),
    "region": json_values,  # an unknown top-level field
}


@pytest.mark.parametrize("method", ODD_METHODS)
def test_an_http_method_gets_the_models_verdict_every_time(method: str) -> None:
    fields = {
        "component": "web",
        "kind": "access",
        "http": {"method": method, "path": "/", "status": 200},
    }
    raw = orjson.dumps(fields)
    for _ in range(2):  # the second time, the fast path may answer from what it remembers
        assert outcome(decode_wire, raw) == outcome(decode, raw)
        assert outcome(validate_wire, fields) == outcome(decode, raw)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event, then zero to two hostile edits (replace or delete a field)."""
    event = dict(draw(valid_events))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(sorted(hostile)))
        if draw(st.integers(0, 4)) == 0:
            event.pop(name, None)
        else:
            event[name] = draw(hostile[name])
    return event


def comparable_model(event: Event) -> dict[str, Any]:
    out = event.model_dump()
    out["timestamp"] = event.timestamp_ms
    return out


def comparable_wire(event: WireEvent) -> dict[str, Any]:
    return comparable_model(event.to_event()) | {"timestamp": event.timestamp}


def outcome(fn: Any, raw: Any) -> tuple[str, Any]:
    try:
        result = fn(raw)
    except InvalidEvent as exc:
        return "invalid", (exc.code, exc.field)
    if isinstance(result, WireEvent):
        return "valid", comparable_wire(result)
    return "valid", comparable_model(result)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_decode_wire_agrees_with_the_model(fields: dict[str, Any]) -> None:
    raw = orjson.dumps(fields)
    assert outcome(decode_wire, raw) == outcome(decode, raw)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_validate_wire_agrees_with_the_model(fields: dict[str, Any]) -> None:
    assert outcome(validate_wire, fields) == outcome(decode, orjson.dumps(fields))


def many_outcome(items: list[dict[str, Any]]) -> list[tuple[str, Any]] | tuple[str, Any]:
    try:
        return [("valid", comparable_wire(w)) for w in validate_wire_many(items)]
    except InvalidEvent as exc:
        return "invalid", (exc.code, exc.field)


def one_by_one(items: list[dict[str, Any]]) -> list[tuple[str, Any]] | tuple[str, Any]:
    results = [outcome(validate_wire, item) for item in items]
    first_bad = next((r for r in results if r[0] == "invalid"), None)
    return first_bad if first_bad is not None else results


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), max_size=6))
def test_validating_many_is_validating_each(items: list[dict[str, Any]]) -> None:
    assert many_outcome(items) == one_by_one(items)


@settings(max_examples=300, deadline=None)
@given(events())
def test_encoded_wire_event_decodes_to_itself(fields: dict[str, Any]) -> None:
    try:
        event = decode_wire(orjson.dumps(fields))
    except InvalidEvent:
        return
    again = decode_wire(encode_wire(event))
    assert comparable_wire(again) == comparable_wire(event)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -0.5, 1e308])
def test_python_floats_json_cannot_carry_get_the_models_verdict(value: float) -> None:
    # From Python values (producers), not JSON: orjson would turn inf into null on the way.
    fields = {
        "component": "a",
        "kind": "access",
        "http": {"method": "GET", "path": "/", "status": 200, "duration_ms": value},
    }
    assert outcome(validate_wire, fields) == outcome(_model_of_values, fields)


def _model_of_values(fields: dict[str, Any]) -> Event:
    try:
        return Event.model_validate(fields)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def _nested(depth: int, *, arrays: bool) -> bytes:
    inner = b"[" * depth + b"]" * depth if arrays else b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"component":"a","message":"m","data":{"d":' + inner + b"}}"


@pytest.mark.parametrize("arrays", [False, True], ids=["objects", "arrays"])
@pytest.mark.parametrize("depth", [1, 150, 188, 189, 197, 198, 199, 200, 400, 990, 5000])
def test_deep_nesting_gets_the_models_verdict(depth: int, arrays: bool) -> None:
    # The model's parser stops at 200 levels; msgspec would go on to Python's recursion
    # limit and then raise RecursionError, which must never escape.
    raw = _nested(depth, arrays=arrays)
    assert outcome(decode_wire, raw) == outcome(decode, raw)


def test_wire_event_converts_to_the_model_and_back() -> None:
    raw = orjson.dumps(
        {
            "component": "orders",
            "event_id": str(uuid.uuid4()),
            "timestamp": "2026-11-22T19:29:24.123+01:00",
            "kind": "access",
            "http": {"method": "get", "path": "/", "status": 204, "duration_ms": 3},
            "severity": "warn",
            "data": {"a": [1, 2]},
        }
    )
    wire = decode_wire(raw)
    assert wire.timestamp == 1_795_372_164_123
    assert wire.http is not None and wire.http.method == "GET"
    assert comparable_model(wire.to_event()) == comparable_model(decode(raw))
    assert WireEvent.from_event(decode(raw)) == wire


@pytest.mark.parametrize(
    "raw",
    [
        b'{"component":"a","message":"x","extra":1}',
        b'{"component":"a","message":"x","severity":"Warn"}',
    ],
)
def test_lax_and_extra_inputs_fall_back_to_the_model(raw: bytes) -> None:
    assert comparable_wire(decode_wire(raw)) == comparable_model(decode(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"component":"a","message":"\xff"}',  # not UTF-8 at all
        b'{"component":"a","message":"\xed\xa0\x80"}',  # an encoded surrogate
        b'{"component":"a","message":"x","data":{"k\xc3":1}}',  # cut in a key
        b'{"component":"a","message":"x","extra":"\xc0\xaf"}',  # overlong, in an extra field
    ],
)
def test_text_that_is_not_utf8_is_bad_json_on_both_paths(raw: bytes) -> None:
    # msgspec raised UnicodeDecodeError here: it escaped decode_wire and the worker's
    # decode_record ("never raises for any record content"), crashing the agent.
    assert outcome(decode_wire, raw) == outcome(decode, raw) == ("invalid", ("bad_json", ""))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_events, st.binary(min_size=1, max_size=4), st.integers(0, 10_000))
def test_any_bytes_spliced_into_a_line_get_the_models_verdict(
    fields: dict[str, Any], junk: bytes, at: int
) -> None:
    raw = orjson.dumps(fields)
    at %= len(raw) + 1
    spliced = raw[:at] + junk + raw[at:]
    assert outcome(decode_wire, spliced) == outcome(decode, spliced)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"component":"a","message":"m","data":{"x":1e400}}', "data.x"),
        (b'{"component":"a","message":"m","data":{"q":{"y":[1,-1e999]}}}', "data.q.y.1"),
        (b'{"component":"a","message":"m","x":123e307}', "data.x"),  # unknown: moved to data
        (b'{"component":"a","message":"m","data":{"x":1.7976931348623157e308}}', None),
        (b'{"component":"a","message":"m","data":{"x":5e-324,"y":-0.0,"z":1e-400}}', None),
    ],
)
def test_a_json_number_past_the_float_range_is_refused_naming_its_path(
    raw: bytes, field: str | None
) -> None:
    # Both parsers read 1e400 as an infinity, which no JSON can carry on: the data column
    # stored it as null and the filterable leaf as "inf".
    expected = ("invalid", ("invalid_field", field)) if field else outcome(decode, raw)
    assert outcome(decode, raw) == outcome(decode_wire, raw) == expected
