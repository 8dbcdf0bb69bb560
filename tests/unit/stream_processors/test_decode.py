from __future__ import annotations

import uuid
from typing import Any
from unittest.mock import patch

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from events.codec import derive_event_id
from events.limits import MAX_EVENT_BYTES
from events.wire import decode_wire_record
from stream_processors.decode import WHOLE_RECORD_LINES, Decoded, decode_record
from tests.unit.stream_processors.fakes import line, record


def decode(value: bytes | None, offset: int = 7) -> Decoded:
    out = Decoded()
    decode_record(out, value, topic="t", partition=2, offset=offset, record_ms=1_000)
    return out


def test_each_line_is_decoded_on_its_own() -> None:
    out = decode(record(line(message="a"), b"{not json", line(component="Bad"), line(message="b")))
    assert [e.message for e in out.events] == ["a", "b"]
    assert [(d.line, d.reason.code, d.reason.field) for d in out.dead] == [
        (2, "bad_json", ""),
        (3, "invalid_field", "component"),
    ]
    assert out.dead[0].raw == b"{not json"
    assert (out.src_topic, out.src_partition, out.src_offset, out.src_line) == (
        ["t", "t"], [2, 2], [7, 7], [1, 4]
    )  # fmt: skip


def test_missing_id_is_derived_from_the_source_and_time_from_the_record() -> None:
    out = decode(record(line(), line()))
    assert [e.event_id for e in out.events] == [
        derive_event_id("t", 2, 7, 1),
        derive_event_id("t", 2, 7, 2),
    ]
    assert [e.timestamp for e in out.events] == [1_000, 1_000]


def test_given_id_and_time_are_kept() -> None:
    given = uuid.uuid4()
    out = decode(line(event_id=str(given), timestamp=5))
    assert (out.events[0].event_id, out.events[0].timestamp) == (given, 5)


def test_empty_and_blank_records_are_dead_lettered_not_dropped() -> None:
    for value in (None, b"", b"\n\n  \n"):
        out = decode(value)
        assert out.events == []
        assert [(d.line, d.reason.code) for d in out.dead] == [(0, "bad_json")]


def test_text_that_is_not_utf8_is_dead_lettered_not_raised() -> None:
    bad = b'{"component":"payments","message":"caf\xe9"}'
    for value in (record(line(), bad, line()), record(*[line()] * WHOLE_RECORD_LINES, bad)):
        out = decode(value)
        assert len(out.events) == value.count(b"\n")
        assert [(d.raw, d.reason.code) for d in out.dead] == [(bad, "bad_json")]


def test_record_of_only_bad_lines_gets_no_extra_letter() -> None:
    out = decode(record(b"[]", b"{}"))
    assert [d.reason.code for d in out.dead] == ["not_object", "missing_field"]


def test_trailing_newline_is_fine() -> None:
    out = decode(record(line(), line()) + b"\n")
    assert len(out.events) == 2
    assert out.dead == []


def test_a_one_line_record_reads_the_same_with_or_without_its_newline() -> None:
    for value in (line(message="solo"), line(message="solo") + b"\n"):
        out = decode(value)
        assert [(e.message, n) for e, n in zip(out.events, out.src_line, strict=True)] == [
            ("solo", 1)
        ]
        assert out.events[0].event_id == derive_event_id("t", 2, 7, 1)
    for blank in (b"\n", b"   \n", b"  "):
        assert [(d.line, d.reason.code) for d in decode(blank).dead] == [(0, "bad_json")]
    bad = decode(b'{"component": 1}\n')
    assert [(d.line, d.raw, d.reason.field) for d in bad.dead] == [
        (1, b'{"component": 1}', "component")
    ]


# --- a whole record at once (events.wire.decode_wire_record) against line by line ---------

_DEEP, _DEEPER = 195, 210  # past the fast path's nesting bound (the model's verdict), and
# past the model's own limit (bad_json)


def _deep(levels: int) -> bytes:
    brackets = b"[" * levels + b"]" * levels
    return b'{"component":"payments","message":"m","data":{"d":' + brackets + b"}}"


_LINES: list[bytes] = [
    line(),
    line(event_id=str(uuid.UUID(int=5)), timestamp=1_700_000_000_000),
    line(timestamp="2024-05-01T10:00:00Z", severity="warn"),
    line(kind="access", http={"method": "get", "path": "/a", "status": 200}),
    line(data={"a": 1, "b": 2.5, "c": None, "d": True, "e": "x"}),
    line(data={"nested": {"list": [1, {"x": "y"}]}}),
    line(data={"deep": orjson.loads("[" * 150 + "]" * 150)}),  # shallow enough
    _deep(_DEEP),
    _deep(_DEEPER),
    line(message="x" * 400),  # long line (the depth check looks at lines this long)
    line(environment=""),  # valid, but for the model to settle
    line(component="Bad"),
    line(message=5),
    b"{not json",
    b'{"component":"a"},{"component":"b","data":{"k":[{}',  # two halves of one array...
    b"{}]}}",  # ...that would make two events if lines were simply joined
    line() + b" " + line(),  # two events on one line: bad_json, not two events
    b'{"component":"payments",',  # one event split over two lines: two bad lines,
    b'"message":"m"}',  # not one event
    b'{"component":"payments","message":"a',  # nor one string split over two lines
    b'b"}',
    b"[]",
    b"",
    b"   ",
    b"\x0c",
    line() + b"\r",
]


@st.composite
def records(draw: st.DrawFn) -> bytes:
    picked = draw(st.lists(st.sampled_from(_LINES), min_size=1, max_size=12))
    return b"\n".join(picked) + draw(st.sampled_from([b"", b"\n"]))


def _comparable(out: Decoded) -> tuple[Any, ...]:
    letters = [(d.raw, d.reason.code, d.reason.field, str(d.reason), d.line) for d in out.dead]
    return (out.events, out.src_topic, out.src_partition, out.src_offset, out.src_line, letters)


@given(records())
@settings(max_examples=400, deadline=None)
def test_a_whole_record_decodes_exactly_as_line_by_line(value: bytes) -> None:
    with patch("stream_processors.decode.WHOLE_RECORD_LINES", 0):  # short records too
        whole = decode(value)
    with patch("stream_processors.decode.decode_wire_record", return_value=None):
        by_line = decode(value)
    assert _comparable(whole) == _comparable(by_line)


def test_the_common_case_is_decoded_whole_and_the_rest_line_by_line() -> None:
    good = record(_LINES[0], _LINES[1], _LINES[3], _LINES[5], _LINES[9])
    assert decode_wire_record(good) is not None
    assert decode_wire_record(good + b"\n") is not None
    for odd in (b"", b"   ", b"{not json", _LINES[7], _LINES[8], _LINES[10], _LINES[14]):
        assert decode_wire_record(record(good, odd, good)) is None, odd


def test_a_line_of_two_events_is_bad_json_whatever_the_record_size() -> None:
    # The whole-record decoder read JSON values, not lines: with a blank line making up the
    # count, two events on one line were stored (with the lines after them misnumbered),
    # and an event split over two lines was stored once, where line by line gives letters.
    two = line(message="a") + b" " + line(message="b")
    split = [b'{"component":"payments",', b'"message":"m"}']
    for odd in ([two, b""], [two, *split], [*split, b""]):
        for size in (1, WHOLE_RECORD_LINES):
            goods = [line(message=f"g{n}") for n in range(size)]
            out = decode(record(*odd, *goods))
            assert [e.message for e in out.events] == [f"g{n}" for n in range(size)], odd
            assert out.src_line == list(range(len(odd) + 1, len(odd) + size + 1))
            assert [d.raw for d in out.dead] == [raw for raw in odd if raw]


def test_a_line_longer_than_the_limit_is_found_wherever_it_is() -> None:
    long_line = line(message="m", data={"x": "y" * MAX_EVENT_BYTES})  # > MAX_EVENT_BYTES
    short = line()
    for parts in ([long_line], [short, long_line], [long_line, short], [short] * 400 + [long_line]):
        assert decode_wire_record(record(*parts)) is None
        assert [d.reason.code for d in decode(record(*parts)).dead] == ["too_large"]
    fits = line(message="m", data={"x": "y" * (MAX_EVENT_BYTES - 100)})
    assert len(fits) <= MAX_EVENT_BYTES
    assert decode_wire_record(record(short, fits, short, fits)) is not None


def test_only_records_of_many_lines_are_decoded_whole() -> None:
    with patch("stream_processors.decode.decode_wire_record", wraps=decode_wire_record) as spy:
        decode(record(*[line()] * (WHOLE_RECORD_LINES - 1)))  # 6 newlines
        decode(record(*[line()] * WHOLE_RECORD_LINES) + b"\n")
    assert spy.call_count == 1


def test_a_number_past_the_float_range_is_dead_lettered_whatever_the_record_size() -> None:
    odd = b'{"component":"payments","message":"m","data":{"n":[1e400]}}'
    for size in (1, WHOLE_RECORD_LINES):
        out = decode(record(*[line(message=f"g{n}") for n in range(size)], odd))
        assert [e.message for e in out.events] == [f"g{n}" for n in range(size)]
        assert [(d.line, d.reason.code, d.reason.field) for d in out.dead] == [
            (size + 1, "invalid_field", "data.n.0")
        ]
