"""Lines written into records: equal to ``encode_wire`` with a fresh id spliced in."""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import msgspec
import pytest

from events.errors import InvalidEvent
from events.limits import MAX_EVENT_BYTES
from events.wire import decode_wire, encode_wire, validate_wire
from producers.lines import LineWriter

EVENTS: list[dict[str, Any]] = [
    {"component": "payments", "message": "paid", "data": {"amount": 9.5, "tags": ["a", "b"]}},
    {"component": "orders", "kind": "error", "message": 'ünïcode ✓ "quoted"\nnewline'},
    {"component": "users", "kind": "access", "http": {"method": "get", "path": "/", "status": 200}},
    {"component": "a", "message": "m", "timestamp": 1_700_000_000_123, "user": "u@x.y"},
]


@pytest.mark.parametrize("fields", EVENTS)
def test_a_written_line_is_encode_wire_with_the_id_first(fields: dict[str, object]) -> None:
    wire = validate_wire(fields)
    buffer = bytearray(b"previous")
    event_id = LineWriter().write(buffer, wire)

    assert buffer[: len(b"previous\n")] == b"previous\n"
    line = bytes(buffer[len(b"previous\n") :])
    expected = encode_wire(wire)
    assert line == b'{"event_id":"' + event_id.encode() + b'",' + expected[1:]
    assert msgspec.json.decode(line)["event_id"] == event_id
    assert decode_wire(line).event_id == uuid.UUID(event_id)


def test_ids_are_version_8_rfc_variant_and_unique_across_blocks() -> None:
    writer = LineWriter()
    wire = validate_wire(EVENTS[0])
    ids = [uuid.UUID(writer.write(bytearray(), wire)) for _ in range(10_000)]  # > 2 blocks
    assert len(set(ids)) == len(ids)
    assert {i.version for i in ids} == {8}
    assert {i.variant for i in ids} == {uuid.RFC_4122}


def test_two_writers_do_not_share_blocks() -> None:
    wire = validate_wire(EVENTS[0])
    first = LineWriter().write(bytearray(), wire)
    second = LineWriter().write(bytearray(), wire)
    assert first[:-3] != second[:-3]


def test_threads_writing_at_once_never_get_the_same_id() -> None:
    writer = LineWriter()
    wire = validate_wire(EVENTS[0])
    found: list[list[str]] = [[] for _ in range(4)]

    def work(out: list[str]) -> None:
        buffer = bytearray()
        for _ in range(5_000):
            out.append(writer.write(buffer, wire))

    threads = [threading.Thread(target=work, args=(out,)) for out in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [event_id for out in found for event_id in out]
    assert len(set(every)) == 20_000


def test_an_event_with_its_own_id_keeps_it() -> None:
    own = str(uuid.uuid4())
    wire = validate_wire({**EVENTS[0], "event_id": own})
    buffer = bytearray()
    assert LineWriter().write(buffer, wire) == own
    assert bytes(buffer) == b"\n" + encode_wire(wire)


def test_a_line_over_the_event_limit_is_invalid_and_leaves_the_buffer_alone() -> None:
    wire = validate_wire({"component": "big", "message": "m", "data": {"x": "y" * MAX_EVENT_BYTES}})
    buffer = bytearray(b"kept")
    with pytest.raises(InvalidEvent) as caught:
        LineWriter().write(buffer, wire)
    assert caught.value.code == "too_large"
    assert buffer == b"kept"


def test_data_that_json_cannot_carry_is_invalid_and_leaves_the_buffer_alone() -> None:
    wire = validate_wire({"component": "c", "message": "m", "data": {"when": object()}})
    buffer = bytearray(b"kept")
    with pytest.raises(InvalidEvent) as caught:
        LineWriter().write(buffer, wire)
    assert (caught.value.code, caught.value.field) == ("invalid_field", "data")
    assert buffer == b"kept"


def test_a_forked_child_starts_a_new_block() -> None:
    writer = LineWriter()
    wire = validate_wire(EVENTS[0])
    parent = writer.write(bytearray(), wire)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, writer.write(bytearray(), wire).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child[:-3] != parent[:-3]
