from __future__ import annotations

import uuid

from events.codec import derive_event_id
from stream_processors.decode import Decoded, decode_record
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
