"""The access-log receiver on the real broker: volume, garbage, rotation, the command."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from events.codec import decode, iter_lines
from events.topics import H_CODE, H_LINE, H_TOPIC, dlq_topic
from front_doors.access_logs import AccessLogSettings, AccessPublisher, serve
from tests.support.kafka import read_all
from tests.support.services import ROOT, Endpoints

_PATH = re.compile(rb'"path":"([^"]*)"')


def _line(connection: int, i: int) -> bytes:
    return (
        f"10.0.{connection}.{i % 250} - - [01/Jan/2024:00:00:{i % 60:02d} +0000] "
        f'"GET /c{connection}/{i} HTTP/1.1" 200 {i % 5000}\n'
    ).encode()


def _paths_in(conf: dict[str, Any], topic: str) -> Counter[bytes]:
    """How often each http.path occurs in the topic (regex over the records: 800k lines)."""
    found: Counter[bytes] = Counter()
    for message in read_all(conf, topic, timeout=120):
        found.update(_PATH.findall(message.value()))
    return found


@dataclass
class Running:
    port: int
    publisher: AccessPublisher


@asynccontextmanager
async def _receiver(settings: AccessLogSettings) -> AsyncIterator[Running]:
    """The receiver on this loop; stopping it delivers everything accepted."""
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    publishers: list[AccessPublisher] = []
    task = asyncio.create_task(
        serve(
            settings,
            stop,
            publisher_ready=publishers.append,
            on_listening=lambda host, port: ready.set_result(Running(port, publishers[0])),
        )
    )
    try:
        yield await asyncio.wait_for(ready, 30)
    finally:
        stop.set()
        await task


@pytest.fixture
def settings(endpoints: Endpoints, topic: str) -> AccessLogSettings:
    return AccessLogSettings(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        topic=topic,
        access_component="web",
        access_port=0,
    )


async def _send_at_once(port: int, payloads: list[bytes]) -> None:
    """Every payload on its own connection, all at once (a thread each)."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, _send, port, p) for p in payloads))


def _send(port: int, payload: bytes) -> None:
    """A client in a thread: connect, send everything, close."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(payload)


async def test_lines_as_fluent_bit_and_vector_ship_them_are_access_events(
    settings: AccessLogSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    # What the shippers the docs name send in the modes the docs name: Fluent Bit's tcp
    # output (json_lines) puts the line read by `tail` under `log` and the time under
    # `date`, or with its `nginx` parser the parsed fields (`remote`, `code`, ...); Vector's
    # socket sink with the json codec puts it under `message`.
    clf = _line(0, 1).decode().rstrip("\n")
    fluent_raw = {"date": 1704067201.25, "log": clf}
    fluent_parsed = {"date": 1704067202.5, "remote": "10.9.8.7", "host": "-", "user": "-"}
    fluent_parsed |= {"method": "GET", "path": "/fb", "code": "404", "size": "12"}
    fluent_parsed |= {"referer": "-", "agent": "curl/8.5"}
    vector = {"message": _line(1, 3).decode().rstrip("\n"), "host": "web-1", "source_type": "file"}
    payload = b"".join(orjson.dumps(item) + b"\n" for item in (fluent_raw, fluent_parsed, vector))
    async with _receiver(settings) as running:
        await _send_at_once(running.port, [payload])
        await _until(lambda: running.publisher.counters["lines"] == 3)
    counters = running.publisher.counters.snapshot()
    assert (counters["events"], counters["dead_lettered"]) == (3, 0), counters
    stored = {
        e.http.path: e
        for message in read_all(kafka_conf, topic)
        for _, line in iter_lines(message.value())
        if (e := decode(line)).http is not None
    }
    assert sorted(stored) == ["/c0/1", "/c1/3", "/fb"]
    parsed = stored["/fb"]
    assert parsed.http is not None
    assert (parsed.http.status, parsed.http.ip, parsed.http.bytes) == (404, "10.9.8.7", 12)
    assert parsed.timestamp_ms == 1_704_067_202_500
    assert stored["/c1/3"].data == {"host": "web-1", "source_type": "file", "protocol": "HTTP/1.1"}


@pytest.mark.slow
async def test_800000_lines_over_8_connections_all_arrive_once(
    settings: AccessLogSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    per_connection = 100_000
    payloads = [b"".join(_line(c, i) for i in range(per_connection)) for c in range(8)]
    async with _receiver(settings) as running:
        await _send_at_once(running.port, payloads)
        await _until(lambda: running.publisher.counters["lines"] == 800_000, timeout=300)
    # Leaving the block stopped the receiver: every connection read to its end, and the
    # producer closed, which returns only once Kafka acknowledged every event.
    counters = running.publisher.counters
    assert (counters["lines"], counters["events"], counters["dead_lettered"]) == (800_000,) * 2 + (
        0,
    )
    found = _paths_in(kafka_conf, topic)
    expected = {f"/c{c}/{i}".encode() for c in range(8) for i in range(per_connection)}
    assert set(found) == expected
    assert set(found.values()) == {1}


async def test_a_garbage_connection_next_to_good_ones(
    settings: AccessLogSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    noise = random.Random(7).randbytes(2000).replace(b"{", b"(")  # binary, never JSON
    garbage = b"\x16\x03\x01\x02\x00 TLS hello\nGET / HTTP/1.1\n" + noise + b"\n"
    bad_lines = [line for line in garbage.split(b"\n") if line.strip()]
    good = [b"".join(_line(c, i) for i in range(2_000)) for c in range(3)]
    async with _receiver(settings) as running:
        await _send_at_once(running.port, [*good, garbage])
        await _until(lambda: running.publisher.counters["lines"] == 6_000 + len(bad_lines))
    counters = running.publisher.counters.snapshot()
    # Accepted (events) and dead-lettered apart first: a shortfall in the topic below then
    # says whether lines were refused or lost after the producer took them.
    assert (counters["events"], counters["dead_lettered"]) == (6_000, len(bad_lines)), counters
    found = _paths_in(kafka_conf, topic)
    missing = sorted({f"/c{c}/{i}".encode() for c in range(3) for i in range(2_000)} - set(found))
    assert sum(found.values()) == len(found) == 6_000, (len(missing), missing[:3], missing[-3:])
    letters = read_all(kafka_conf, dlq_topic(topic))
    dead = running.publisher.counters["dead_lettered"]
    assert len(letters) == dead == len(bad_lines)
    assert sorted(m.value() for m in letters) == sorted(bad_lines)
    for message in letters:
        headers = dict(message.headers())
        assert headers[H_CODE] == b"invalid_field"
        assert headers[H_TOPIC].startswith(b"tcp://127.0.0.1:")
        assert int(headers[H_LINE]) >= 1


async def test_lines_indented_by_a_syslog_relay_are_access_events(
    settings: AccessLogSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    # rsyslog's %msg% of a syslog message starts with a space (nginx `access_log syslog:`
    # forwarded with a plain template): the line is still a Common/Combined line.
    lines = [b" " + _line(0, 1), b"\t" + _line(0, 2), b"  " + _line(0, 3).rstrip() + b"\r\n"]
    async with _receiver(settings) as running:
        await _send_at_once(running.port, [b"".join(lines)])
        await _until(lambda: running.publisher.counters["lines"] == 3)
    counters = running.publisher.counters.snapshot()
    assert (counters["events"], counters["dead_lettered"]) == (3, 0), counters
    assert sorted(_paths_in(kafka_conf, topic)) == [b"/c0/1", b"/c0/2", b"/c0/3"]


async def test_a_rotated_file_is_followed_into_kafka_exactly_once(
    settings: AccessLogSettings, kafka_conf: dict[str, Any], topic: str, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(_line(0, i) for i in range(1_000)))
    follow = settings.model_copy(
        update={
            "access_follow": log,
            "access_state_dir": tmp_path / "state",
            "access_poll_seconds": 0.05,
            "access_rotate_wait_seconds": 0.3,
        }
    )
    async with _follow(follow) as publisher:
        await _until(lambda: publisher.counters["events"] == 1_000)
        with log.open("ab") as writer:
            log.rename(tmp_path / "access.log.1")
            writer.write(b"".join(_line(0, i) for i in range(1_000, 1_500)))
        log.write_bytes(b"".join(_line(0, i) for i in range(1_500, 2_000)))
        await _until(lambda: publisher.counters["events"] == 2_000)
    found = _paths_in(kafka_conf, topic)
    assert set(found) == {f"/c0/{i}".encode() for i in range(2_000)}
    assert set(found.values()) == {1}


@asynccontextmanager
async def _follow(settings: AccessLogSettings) -> AsyncIterator[AccessPublisher]:
    stop = asyncio.Event()
    publishers: list[AccessPublisher] = []
    task = asyncio.create_task(serve(settings, stop, publisher_ready=publishers.append))
    try:
        await _until(lambda: bool(publishers))
        yield publishers[0]
    finally:
        stop.set()
        await task


async def _until(condition: Any, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def test_the_access_logs_command_receives_and_delivers_on_sigterm(
    endpoints: Endpoints, kafka_conf: dict[str, Any], topic: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_TOPIC": topic,
        "EVENTPIPE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "eventpipe", "access-logs", "--component", "web"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=ROOT)
    try:
        client = _connect_when_listening(port, process)
        with client:
            client.sendall(b"".join(_line(5, i) for i in range(300)))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    found = _paths_in(kafka_conf, topic)
    assert set(found) == {f"/c5/{i}".encode() for i in range(300)}


def _connect_when_listening(port: int, process: subprocess.Popen[bytes]) -> socket.socket:
    for _ in range(600):
        assert process.poll() is None, "the receiver exited"
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("the receiver did not listen")
