"""The agent on a fresh in-memory Faust app per test, with the in-memory twins."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from stream_processors.app import SinkApp, create_app
from stream_processors.consumer import FastConsumer, FastTransport
from stream_processors.deadletters import MemoryDeadLetters
from stream_processors.offsets import MemoryOffsets
from stream_processors.settings import WorkerSettings
from stream_processors.sink import MemorySink
from tests.unit.stream_processors.fakes import line, record


@dataclass
class Twins:
    app: SinkApp
    sink: MemorySink
    dead: MemoryDeadLetters
    offsets: MemoryOffsets


@pytest.fixture
async def twins() -> Twins:
    settings = WorkerSettings(
        topic="unit.events",
        worker_batch_max_rows=5,
        worker_batch_max_seconds=0.2,
        worker_web_port=0,
        worker_retry_initial_seconds=0.001,
        worker_retry_max_seconds=0.01,
    )
    sink, dead, offsets = MemorySink(), MemoryDeadLetters(), MemoryOffsets()
    app = create_app(settings, sink=sink, dead_letters=dead, offsets=offsets)
    app.finalize()
    return Twins(app, sink, dead, offsets)


async def wait_for(condition: object, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_faust_data_stays_out_of_the_working_directory(twins: Twins) -> None:
    datadir = Path(twins.app.conf.datadir)
    assert datadir.parent == Path(tempfile.gettempdir())
    assert datadir.name == "eventpipe-eventpipe-sink"
    chosen = WorkerSettings(topic="t", worker_data_dir=Path("/srv/faust")).data_dir()
    assert chosen == Path("/srv/faust")


def test_the_app_consumes_through_the_fast_transport(twins: Twins) -> None:
    assert isinstance(twins.app.transport, FastTransport)
    assert twins.app.transport.Consumer is FastConsumer


async def test_agent_sinks_valid_and_dead_letters_invalid(twins: Twins) -> None:
    agent = twins.app.sink_agent
    async with agent.test_context() as context:
        await context.put(record(line(message="a"), b"{", line(message="b")), key=b"payments")
        for i in range(4):
            await context.put(line(message=f"m{i}"), key=b"payments")
        await wait_for(lambda: len(twins.sink.rows) >= 5)
        await twins.app.batcher.drain(2)
    assert sorted(r["message"] for r in twins.sink.rows) == ["a", "b", "m0", "m1", "m2", "m3"]
    assert [(d.offset, d.line, d.reason.code) for d in twins.dead.letters] == [(0, 2, "bad_json")]
    assert twins.offsets.marks == {("unit.events", 0): 5}


async def test_agent_holds_the_batch_while_the_sink_is_down(twins: Twins) -> None:
    twins.sink.fail_next = 20
    agent = twins.app.sink_agent
    async with agent.test_context() as context:
        for i in range(5):
            await context.put(line(message=str(i)), key=b"payments")
        await wait_for(lambda: twins.sink.attempts >= 3)
        assert twins.sink.rows == []
        await wait_for(lambda: len(twins.sink.rows) == 5)
    assert twins.dead.letters == []


def test_an_unreachable_clickhouse_is_named_without_its_password() -> None:
    from eventpipe.startup import StartupFailed
    from stream_processors.worker import check_dependencies

    settings = WorkerSettings(
        clickhouse_url="clickhouse://reader:s3cr3t@127.0.0.1:1/default",
        worker_startup_timeout=0.1,
        clickhouse_connect_timeout=0.1,
    )
    with pytest.raises(StartupFailed) as caught:
        check_dependencies(settings)
    assert "127.0.0.1:1" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


async def test_a_stop_that_hangs_ends_in_an_exit_with_the_right_status(twins: Twins) -> None:
    from events.errors import InvalidRatioExceeded

    exits: list[int] = []
    twins.app._arm_hard_stop(exit_now=exits.append)  # not configured: never armed
    assert twins.app.hard_stop is None
    twins.app.stop_deadline = 0.05
    twins.app.fatal = InvalidRatioExceeded("bad deploy")
    twins.app._arm_hard_stop(exit_now=exits.append)
    await wait_for(lambda: exits)
    assert exits == [3]


async def test_a_stop_after_a_failed_write_that_hangs_exits_with_a_failure(
    twins: Twins,
) -> None:
    # A batch that failed for a bug stops the worker; a stop that hung then exited 0, as
    # if the worker had been told to stop.
    exits: list[int] = []
    twins.app.stop_deadline = 0.05
    twins.app.fatal = TypeError("a bug")
    twins.app._arm_hard_stop(exit_now=exits.append)
    await wait_for(lambda: exits)
    assert exits == [1]


async def test_a_stop_that_finishes_in_time_cancels_the_exit(twins: Twins) -> None:
    exits: list[int] = []
    twins.app.stop_deadline = 0.2
    twins.app._arm_hard_stop(exit_now=exits.append)
    assert twins.app.hard_stop is not None
    twins.app.hard_stop.cancel()  # what run_worker does once the stop returned
    await asyncio.sleep(0.3)
    assert exits == []
