from __future__ import annotations

from uuid import UUID

import pytest

from events import derive_event_id, iter_lines, pack_lines
from events.limits import MAX_RECORD_BYTES, MAX_RECORD_EVENTS


def test_iter_lines_numbers_lines_and_skips_blanks() -> None:
    record = b'{"a":1}\n\n{"b":2}\r\n  \n{"c":3}\n'
    assert list(iter_lines(record)) == [(1, b'{"a":1}'), (3, b'{"b":2}\r'), (5, b'{"c":3}')]


def test_iter_lines_single_line_record() -> None:
    assert list(iter_lines(b'{"a":1}')) == [(1, b'{"a":1}')]
    assert list(iter_lines(b"")) == []
    assert list(iter_lines(b"   ")) == []


def test_pack_lines_respects_event_bound() -> None:
    lines = [b"x" * 10 for _ in range(25)]
    records = list(pack_lines(lines, max_events=10, max_bytes=10_000))
    assert [len(list(iter_lines(r))) for r in records] == [10, 10, 5]


def test_pack_lines_respects_byte_bound() -> None:
    lines = [b"y" * 100 for _ in range(10)]
    records = list(pack_lines(lines, max_events=100, max_bytes=350))
    assert all(len(r) <= 350 for r in records)
    assert sum(len(list(iter_lines(r))) for r in records) == 10
    assert [len(r) for r in records] == [303, 303, 303, 101]
    assert all(r.endswith(b"\n") and not r.endswith(b"\n\n") for r in records)


def test_pack_lines_oversize_line_gets_its_own_record() -> None:
    records = list(pack_lines([b"a", b"b" * 50, b"c"], max_events=10, max_bytes=20))
    assert records == [b"a\n", b"b" * 50 + b"\n", b"c\n"]


def test_pack_then_split_is_identity() -> None:
    lines = [f'{{"i":{i}}}'.encode() for i in range(2500)]
    records = list(pack_lines(lines))
    assert [line for r in records for _, line in iter_lines(r)] == lines
    assert all(len(r) <= MAX_RECORD_BYTES for r in records)


@pytest.mark.parametrize(("events", "size"), [(0, 10), (MAX_RECORD_EVENTS + 1, 10), (1, 0)])
def test_pack_lines_bounds_are_checked(events: int, size: int) -> None:
    with pytest.raises(ValueError, match="must be within"):
        list(pack_lines([b"a"], max_events=events, max_bytes=size))


def test_derived_event_id_is_stable_and_distinct() -> None:
    a = derive_event_id("t", 1, 42, 3)
    assert a == derive_event_id("t", 1, 42, 3)
    assert isinstance(a, UUID) and a.version == 5
    assert len({a, derive_event_id("t", 1, 42, 4), derive_event_id("t", 2, 42, 3)}) == 3
