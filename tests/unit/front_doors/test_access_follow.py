"""Following a log file over the in-memory twins: growth, rotation, truncation, resuming."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from front_doors.access_logs import AccessLogSettings, AccessPublisher, serve
from front_doors.access_logs.position import PositionStore
from front_doors.deadletters import MemoryDeadLetters
from producers import AsyncEventProducer, MemoryKafka
from tests.unit.front_doors.conftest import TOPIC, events_in, wait_until


def _lines(start: int, stop: int) -> bytes:
    return b"".join(
        f'10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /{i} HTTP/1.1" 200 {i}\n'.encode()
        for i in range(start, stop)
    )


def _paths(kafka: MemoryKafka) -> list[str]:
    return sorted((e.http.path if e.http else "") for e in events_in(kafka))


def _expected(start: int, stop: int) -> list[str]:
    return sorted(f"/{i}" for i in range(start, stop))


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as log:
        log.write(data)


@asynccontextmanager
async def _follower(
    kafka: MemoryKafka, log: Path, **overrides: Any
) -> AsyncIterator[AccessPublisher]:
    settings = AccessLogSettings(
        access_component="web",
        access_follow=log,
        access_state_dir=log.parent / "state",
        access_poll_seconds=0.02,
        access_checkpoint_seconds=0.05,
        access_rotate_wait_seconds=0.2,
        topic=TOPIC,
        producer_linger_ms=1,
        **overrides,
    )
    producer = AsyncEventProducer(settings, kafka=kafka)
    publishers: list[AccessPublisher] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            settings,
            stop,
            producer=producer,
            dead_letters=MemoryDeadLetters(),
            publisher_ready=publishers.append,
        )
    )
    try:
        await wait_until(lambda: bool(publishers), "the follower")
        yield publishers[0]
    finally:
        stop.set()
        await task
        await producer.close(5)


async def test_a_growing_file_is_followed_and_a_half_line_waits(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 50))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 50, "the first 50")
        half = _lines(50, 51)
        _append(log, half[:15])
        _append(log, _lines(51, 51))
        await asyncio.sleep(0.1)  # several polls with the half line there
        assert publisher.counters["lines"] == 50
        _append(log, half[15:] + _lines(51, 100))
        await wait_until(lambda: publisher.counters["events"] == 100, "all 100")
    assert _paths(kafka) == _expected(0, 100)


async def test_rename_rotation_loses_and_repeats_nothing(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 30))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 30, "the old file")
        with log.open("ab") as writer:  # the web server's handle, kept across the rename
            log.rename(tmp_path / "access.log.1")
            log.write_bytes(_lines(60, 90))  # the new file
            writer.write(_lines(30, 60))  # written to the old file before reopening
        await wait_until(lambda: publisher.counters["events"] == 90, "both files")
        assert publisher.counters["rotations"] == 1
    assert _paths(kafka) == _expected(0, 90)


async def test_copy_truncate_rotation_reads_the_new_content(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 40))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 40, "before truncation")
        with log.open("r+b") as same_inode:
            same_inode.truncate(0)
        _append(log, _lines(40, 45))
        await wait_until(lambda: publisher.counters["events"] == 45, "after truncation")
    assert _paths(kafka) == _expected(0, 45)


async def test_a_restart_resumes_where_it_left_off(kafka: MemoryKafka, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 20))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 20, "the first run")
    saved = PositionStore(tmp_path / "state", log).load()
    assert saved is not None and saved.offset == log.stat().st_size
    _append(log, _lines(20, 35))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 15, "only the new lines")
    assert _paths(kafka) == _expected(0, 35)


async def test_a_file_rotated_while_stopped_is_finished_before_the_new_one(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 10))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 10, "the first run")
    _append(log, _lines(10, 20))  # written after we stopped...
    os.rename(log, tmp_path / "access.log.1")  # ...then rotated away
    log.write_bytes(_lines(20, 25))
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] == 15, "the rest of both")
    assert _paths(kafka) == _expected(0, 25)


async def test_from_end_skips_what_the_file_holds(kafka: MemoryKafka, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 10))
    async with _follower(kafka, log, access_follow_from="end") as publisher:
        await asyncio.sleep(0.1)
        _append(log, _lines(10, 12))
        await wait_until(lambda: publisher.counters["events"] == 2, "the new lines")
    assert _paths(kafka) == _expected(10, 12)


async def test_from_end_skips_only_once_what_was_written_while_stopped_is_read(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 10))
    saved = PositionStore(tmp_path / "state", log)
    async with _follower(kafka, log, access_follow_from="end"):
        # Nothing to read: where it started is all the first run has to remember.
        await wait_until(lambda: saved.load() is not None, "its start to be saved", timeout=5)
    _append(log, _lines(10, 12))  # traffic while the follower is down (a deploy)
    async with _follower(kafka, log, access_follow_from="end") as publisher:
        await wait_until(lambda: publisher.counters["events"] == 2, "the lines written meanwhile")
    assert _paths(kafka) == _expected(10, 12)


async def test_lines_kafka_failed_are_read_again_with_the_same_ids(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 25))
    kafka.fail_with = "broker away"
    async with _follower(kafka, log) as publisher:
        await wait_until(lambda: publisher.counters["events"] >= 25, "the failed attempt")
        kafka.fail_with = None
        await wait_until(lambda: len(events_in(kafka)) >= 25, "the second attempt")
    events = events_in(kafka)
    assert _paths(kafka) == _expected(0, 25)
    again = {str(e.event_id) for e in events}
    assert len(again) == 25


async def test_reading_a_stretch_again_gives_the_same_event_ids(
    kafka: MemoryKafka, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(_lines(0, 10))
    for _ in range(2):  # the second run lost its position: a crash before saving
        async with _follower(kafka, log) as publisher:
            await wait_until(lambda: publisher.counters["events"] == 10, "the file")
        PositionStore(tmp_path / "state", log).path.unlink()
    ids = [str(e.event_id) for e in events_in(kafka)]
    assert len(ids) == 20 and len(set(ids)) == 10  # repeats the stream processors collapse


async def test_a_followed_path_that_is_not_there_is_named_while_waiting(
    kafka: MemoryKafka, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A mistyped --follow path used to wait in silence, for ever: nothing said what for.
    log = tmp_path / "acces.log"
    caplog.set_level(logging.WARNING, logger="front_doors.access_logs")
    async with _follower(kafka, log) as publisher:
        await wait_until(
            lambda: any(str(log) in r.getMessage() for r in caplog.records), "a warning"
        )
        log.write_bytes(_lines(0, 3))  # once it appears, it is read as ever
        await wait_until(lambda: publisher.counters["events"] == 3, "the lines")
    assert _paths(kafka) == _expected(0, 3)
