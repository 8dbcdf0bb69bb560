"""Packing: bounds on events, bytes and time; a full queue changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from events.codec import decode, iter_lines
from events.errors import InvalidEvent
from events.wire import WireEvent, validate_wire
from producers.errors import ProducerClosed
from producers.packer import Batch, RecordPacker


class Shipped:
    """A ship function that records, or refuses with BufferError while ``full``."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, int, list[Any] | None]] = []
        self.full = False

    def __call__(self, component: str, value: bytes, events: int, waiters: Any) -> None:
        if self.full:
            raise BufferError("full")
        self.records.append((component, value, events, waiters))

    def messages(self) -> list[list[str]]:
        return [[decode(line).message or "" for _, line in iter_lines(r[1])] for r in self.records]


def event(component: str, message: str, **fields: Any) -> WireEvent:
    return validate_wire({"component": component, "message": message, **fields})


def packer(ship: Shipped, **bounds: Any) -> RecordPacker:
    options = {"max_events": 3, "max_bytes": 100_000, "linger": 60.0, **bounds}
    return RecordPacker(ship, **options)


def test_a_record_holds_one_components_events_up_to_the_event_bound() -> None:
    ship = Shipped()
    p = packer(ship)
    for i in range(7):
        p.add(event("a", f"a{i}"))
        p.add(event("b", f"b{i}"))
    p.ship_all()
    by_component = [(r[0], r[2]) for r in ship.records]
    assert by_component.count(("a", 3)) == 2 and by_component.count(("b", 3)) == 2
    assert sorted(m for r in ship.messages() for m in r) == sorted(
        [f"a{i}" for i in range(7)] + [f"b{i}" for i in range(7)]
    )
    assert all(len({m[0] for m in record}) == 1 for record in ship.messages())


def test_records_never_pass_the_byte_bound_and_keep_order() -> None:
    ship = Shipped()
    p = packer(ship, max_events=1000, max_bytes=1_024)
    for i in range(40):
        p.add(event("a", f"{i:03d}" + "x" * 90))
    p.ship_all()
    assert all(len(r[1]) <= 1_024 for r in ship.records)
    assert [m[:3] for r in ship.messages() for m in r] == [f"{i:03d}" for i in range(40)]
    assert sum(r[2] for r in ship.records) == 40


def test_an_event_bigger_than_the_byte_bound_goes_alone() -> None:
    ship = Shipped()
    p = packer(ship, max_events=1000, max_bytes=1_024)
    p.add(event("a", "small"))
    p.add(event("a", "y" * 3_000))
    p.add(event("a", "after"))
    p.ship_all()
    assert [len(m) for m in ship.messages()] == [1, 1, 1]


def test_linger_ships_records_once_they_are_old_enough() -> None:
    ship = Shipped()
    p = packer(ship, max_events=100, linger=0.5)
    p.add(event("a", "one"))
    assert p.ship_due(0.0) is not None and ship.records == []
    assert p.ship_due(1e12) is None
    assert ship.messages() == [["one"]]


def test_opening_the_first_record_wakes_the_lingerer() -> None:
    woken: list[bool] = []
    p = RecordPacker(
        Shipped(), max_events=5, max_bytes=10_000, linger=1, on_open=lambda: woken.append(True)
    )
    p.add(event("a", "1"))
    p.add(event("b", "2"))  # another record opens, but the lingerer is awake already
    assert woken == [True]


def two_events_then_a_full_queue(max_events: int) -> tuple[Shipped, RecordPacker]:
    ship = Shipped()
    p = packer(ship, max_events=max_events)
    p.add(event("a", "1"))
    p.add(event("a", "2"))
    ship.full = True
    return ship, p


def test_a_full_queue_leaves_the_record_open_and_the_event_not_accepted() -> None:
    ship, p = two_events_then_a_full_queue(max_events=2)
    with pytest.raises(BufferError):
        p.add(event("a", "3"))
    assert p.buffered == 2
    ship.full = False
    p.add(event("a", "3"))
    p.ship_all()
    assert ship.messages() == [["1", "2"], ["3"]]


def test_a_record_refused_by_a_full_queue_ships_later_as_the_same_ndjson() -> None:
    ship, p = two_events_then_a_full_queue(max_events=10)
    with pytest.raises(BufferError):
        p.ship_all()
    ship.full = False
    p.ship_all()
    [(_, value, count, _)] = ship.records
    lines = value.split(b"\n")
    assert count == 2 and len(lines) == 3 and lines[2] == b""  # each line ends with "\n"
    assert [decode(line).message for line in lines[:2]] == ["1", "2"]


def test_a_full_queue_when_splitting_on_bytes_accepts_nothing() -> None:
    ship = Shipped()
    p = packer(ship, max_events=100, max_bytes=1_024)
    accepted = 0
    for i in range(20):
        ship.full = i >= 10
        try:
            p.add(event("a", f"{i:02d}" + "x" * 150))
        except BufferError:
            break
        accepted += 1
    assert 10 <= accepted < 20
    ship.full = False
    p.ship_all()
    assert [m[:2] for r in ship.messages() for m in r] == [f"{i:02d}" for i in range(accepted)]


def test_one_event_per_record() -> None:
    ship = Shipped()
    p = packer(ship, max_events=1)
    for i in range(3):
        p.add(event("a", str(i)))
    assert ship.messages() == [["0"], ["1"], ["2"]] and p.buffered == 0


def test_waiters_travel_with_their_record() -> None:
    ship = Shipped()
    p = packer(ship)
    p.add(event("a", "1"), waiter="w1")
    p.add(event("a", "2"))
    p.add(event("a", "3"), waiter="w3")
    p.ship_all()
    assert ship.records[0][3] == ["w1", "w3"]


def test_an_event_that_cannot_be_encoded_opens_no_empty_record() -> None:
    ship = Shipped()
    p = packer(ship)
    with pytest.raises(InvalidEvent):
        p.add(event("a", "m", data={"bad": object()}))
    p.ship_all()
    assert ship.records == [] and p.buffered == 0


def test_after_refuse_nothing_is_accepted_but_open_records_still_ship() -> None:
    ship = Shipped()
    p = packer(ship)
    p.add(event("a", "kept"))
    p.refuse(lambda: ProducerClosed("closed"))
    with pytest.raises(ProducerClosed):
        p.add(event("a", "late"))
    p.ship_all()
    assert ship.messages() == [["kept"]]


# --- add_many: one encoder call per component, the same records as event by event --------


def batch(n: int, size: int = 0) -> list[WireEvent]:
    return [event("abc"[i % 3], f"{i:03d}" + "x" * size) for i in range(n)]


def by_component(ship: Shipped) -> dict[str, list[tuple[int, list[str]]]]:
    out: dict[str, list[tuple[int, list[str]]]] = {}
    for r, messages in zip(ship.records, ship.messages(), strict=True):
        out.setdefault(r[0], []).append((r[2], messages))
    return out


@pytest.mark.parametrize(
    ("max_events", "max_bytes", "size"),
    [(50, 100_000, 0), (20, 100_000, 0), (3, 100_000, 0), (50, 600, 100), (50, 300, 400)],
)
def test_many_makes_the_records_one_by_one_makes(
    max_events: int, max_bytes: int, size: int
) -> None:
    one, many = Shipped(), Shipped()
    p1 = packer(one, max_events=max_events, max_bytes=max_bytes)
    for e in batch(40, size):
        p1.add(e)
    p1.ship_all()
    pm = packer(many, max_events=max_events, max_bytes=max_bytes)
    events = batch(40, size)
    first, rest = Batch(events[:10]), Batch(events[10:])
    pm.add_many(first)  # leaves records open, partly filled
    pm.add_many(rest)  # whole runs fit, or are cut where a bound falls
    pm.ship_all()
    assert first.complete and rest.complete and by_component(many) == by_component(one)
    if size < max_bytes:
        assert all(len(r[1]) <= max_bytes for r in many.records)
    lines = [line for r in many.records for _, line in iter_lines(r[1])]
    ids = first.ids + rest.ids
    assert sorted(str(decode(line).event_id) for line in lines) == sorted(ids)
    assert len(set(ids)) == 40


def test_many_with_a_full_queue_says_what_it_took_and_goes_on_from_there() -> None:
    ship = Shipped()
    p = packer(ship, max_events=2)
    p.add(event("a", "first"))
    offered = Batch(batch(12))  # a: 0 3 6 9, b: 1 4 7 10, c: 2 5 8 11
    ship.full = True
    with pytest.raises(BufferError):
        p.add_many(offered)  # a's record (first, 0) is full at 3 and cannot ship
    assert not offered.complete
    assert offered.accepted_ids() == [offered.ids[0]]
    ship.full = False
    p.add_many(offered)
    p.ship_all()
    assert offered.complete and offered.accepted_ids() == offered.ids
    assert by_component(ship)["a"] == [(2, ["first", "000"]), (2, ["003", "006"]), (1, ["009"])]
    assert sorted(m for r in ship.messages() for m in r) == sorted(
        ["first"] + [f"{i:03d}" for i in range(12)]
    )


def test_many_with_an_unencodable_event_accepts_those_before_it() -> None:
    ship = Shipped()
    p = packer(ship)
    offered = Batch([*batch(4), event("a", "bad", data={"x": object()}), *batch(2)])
    with pytest.raises(InvalidEvent):
        p.add_many(offered)
    assert len(offered.accepted_ids()) == 4 and p.buffered == 4


@pytest.mark.parametrize("many", [False, True])
def test_a_record_is_not_one_byte_over_the_byte_bound(many: bool) -> None:
    # Five lines of 204 bytes, each with its newline, are 1,025 bytes: one over a bound of
    # 1,024, so the fifth line belongs in the next record.
    probe = Shipped()
    packer(probe, max_events=1).add(event("a", "m"))
    width = 204 - len(probe.records[0][1].rstrip(b"\n")) + len("m")
    ship = Shipped()
    p = packer(ship, max_events=1000, max_bytes=1_024)
    events = [event("a", f"{i}".ljust(width, "x")) for i in range(5)]
    if many:
        p.add_many(Batch(events))
    else:
        for e in events:
            p.add(e)
    p.ship_all()
    assert all(len(line) == 204 for r in ship.records for _, line in iter_lines(r[1]))
    assert [r[2] for r in ship.records] == [4, 1]
    assert max(len(r[1]) for r in ship.records) <= 1_024
