"""The TCP receiver over the in-memory twins: many clients, bad ones isolated."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from front_doors.access_logs import AccessLogSettings, AccessPublisher, serve
from front_doors.deadletters import MemoryDeadLetters
from producers import AsyncEventProducer, MemoryKafka
from tests.unit.front_doors.conftest import TOPIC, events_in, wait_until


def _line(i: int, path: str = "/p") -> bytes:
    request = f"GET {path}/{i} HTTP/1.1"
    return f'10.0.0.{i % 250} - u{i} [01/Jan/2024:00:00:00 +0000] "{request}" 200 {i}\n'.encode()


@dataclass
class Receiver:
    port: int
    publisher: AccessPublisher
    dead: MemoryDeadLetters
    kafka: MemoryKafka

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def send(self, data: bytes) -> None:
        _, writer = await self.connect()
        writer.write(data)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    def count(self, name: str) -> int:
        return self.publisher.counters[name]


@asynccontextmanager
async def _receiver(kafka: MemoryKafka, **overrides: Any) -> AsyncIterator[Receiver]:
    settings = AccessLogSettings(
        access_component="web", access_port=0, topic=TOPIC, producer_linger_ms=1, **overrides
    )
    producer = AsyncEventProducer(settings, kafka=kafka)
    dead = MemoryDeadLetters()
    stop = asyncio.Event()
    ready: asyncio.Future[tuple[int, AccessPublisher]] = asyncio.get_running_loop().create_future()
    publishers: list[AccessPublisher] = []
    task = asyncio.create_task(
        serve(
            settings,
            stop,
            producer=producer,
            dead_letters=dead,
            publisher_ready=publishers.append,
            on_listening=lambda host, port: ready.set_result((port, publishers[0])),
        )
    )
    try:
        port, publisher = await ready
        yield Receiver(port, publisher, dead, kafka)
    finally:
        stop.set()
        await task
        await producer.close(5)


async def test_lines_from_many_connections_all_become_events(kafka: MemoryKafka) -> None:
    async with _receiver(kafka) as receiver:
        batches = [b"".join(_line(i, f"/c{c}") for i in range(200)) for c in range(8)]
        await asyncio.gather(*(receiver.send(batch) for batch in batches))
        await wait_until(lambda: receiver.count("events") == 1_600, "1,600 events")
    events = events_in(kafka)
    assert len(events) == 1_600
    assert {e.http.path for e in events if e.http} == {
        f"/c{c}/{i}" for c in range(8) for i in range(200)
    }
    assert {e.component for e in events} == {"web"} and {e.kind for e in events} == {"access"}


async def test_garbage_is_dead_lettered_with_where_it_came_from(kafka: MemoryKafka) -> None:
    async with _receiver(kafka) as receiver:
        await receiver.send(_line(1) + b"not a log line\n" + _line(2) + b'{"status": 200}\n')
        await wait_until(lambda: receiver.count("lines") == 4, "4 lines")
    assert len(events_in(kafka)) == 2
    first, second = receiver.dead.letters
    assert (first.raw, first.line, first.offset) == (b"not a log line", 2, len(_line(1)))
    assert first.reason.code == "invalid_field" and first.source.startswith("tcp://127.0.0.1:")
    assert (second.line, second.reason.code, second.reason.field) == (
        4,
        "missing_field",
        "http.method",
    )


async def test_a_stalled_client_blocks_nobody_and_its_half_line_is_kept(kafka: MemoryKafka) -> None:
    async with _receiver(kafka, access_idle_timeout_seconds=1.0) as receiver:
        _, stalled = await receiver.connect()
        stalled.write(_line(0)[:20])  # half a line, then silence
        await stalled.drain()
        await receiver.send(b"".join(_line(i) for i in range(1, 101)))
        await wait_until(lambda: receiver.count("events") == 100, "the other client's events")
        await wait_until(lambda: receiver.count("connections_idle") == 1, "the idle close")
        stalled.close()
    (letter,) = receiver.dead.letters
    assert letter.raw == _line(0)[:20] and "idle" in letter.reason.message


async def test_a_client_that_resets_loses_nothing_it_completed(kafka: MemoryKafka) -> None:
    lines = [_line(i) for i in range(40)]
    kafka.capacity, kafka.available = 1, False  # Kafka away: the receiver waits for room
    async with _receiver(kafka, access_read_bytes=1024, producer_record_events=1) as receiver:
        client = socket.create_connection(("127.0.0.1", receiver.port))
        client.sendall(b"".join(lines) + b"half a li")
        await wait_until(lambda: len(kafka) == 1, "the receiver to wait for Kafka")
        # The lines after the first read wait in our buffer when the reset comes.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # linger 0: a reset, not a clean close
        await asyncio.sleep(0.1)  # the loop sees the reset while the receiver still waits
        kafka.capacity, kafka.available = None, True
        await wait_until(lambda: receiver.count("lines") == 41, "every line", timeout=10)
        assert receiver.count("connections_broken") == 1
    assert len(events_in(kafka)) == 40
    (letter,) = receiver.dead.letters
    assert letter.raw == b"half a li" and "broke" in letter.reason.message


async def test_an_over_long_line_is_cut_dead_lettered_and_the_next_lines_are_fine(
    kafka: MemoryKafka,
) -> None:
    async with _receiver(kafka, access_max_line_bytes=1024) as receiver:
        await receiver.send(_line(1) + b"x" * 5_000 + b"\n" + _line(2))
        await wait_until(lambda: receiver.count("lines") == 3, "3 lines")
    (letter,) = receiver.dead.letters
    assert (letter.reason.code, len(letter.raw), letter.line) == ("too_large", 1024, 2)
    assert len(events_in(kafka)) == 2


async def test_connections_past_the_limit_are_closed(kafka: MemoryKafka) -> None:
    async with _receiver(kafka, access_max_connections=1) as receiver:
        _, first = await receiver.connect()
        await wait_until(lambda: receiver.count("connections") == 1, "the first connection")
        reader, second = await receiver.connect()
        assert await reader.read() == b""  # closed at once
        assert receiver.count("connections_refused") == 1
        second.close()
        first.close()


async def test_shutdown_delivers_complete_lines_and_keeps_a_cut_one(kafka: MemoryKafka) -> None:
    async with _receiver(kafka) as receiver:
        _, open_writer = await receiver.connect()
        open_writer.write(_line(1) + _line(2)[:10])
        await open_writer.drain()
        await wait_until(lambda: receiver.count("events") == 1, "the complete line")
    open_writer.close()
    assert len(events_in(kafka)) == 1
    (letter,) = receiver.dead.letters
    assert "shut down" in letter.reason.message
