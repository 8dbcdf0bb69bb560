"""The batcher with the in-memory twins: write before ack, back-pressure, marks, guard."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from events.errors import SinkUnavailable
from stream_processors.batcher import Batcher
from stream_processors.deadletters import MemoryDeadLetters
from stream_processors.guard import InvalidRatioGuard
from stream_processors.metrics import WorkerMetrics
from stream_processors.offsets import MemoryOffsets
from stream_processors.retry import Backoff
from stream_processors.sink import MemorySink
from stream_processors.writer import BatchWriter
from tests.unit.stream_processors.fakes import FakeStream, events, line, record


@dataclass
class Rig:
    batcher: Batcher
    sink: MemorySink = field(default_factory=MemorySink)
    dead: MemoryDeadLetters = field(default_factory=MemoryDeadLetters)
    offsets: MemoryOffsets = field(default_factory=MemoryOffsets)
    metrics: WorkerMetrics = field(default_factory=WorkerMetrics)
    stream: FakeStream = field(default_factory=FakeStream)
    fatal: list[BaseException] = field(default_factory=list)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown()


def rig(
    executor: ThreadPoolExecutor,
    *,
    max_rows: int = 100,
    max_seconds: float = 60.0,
    ratio: float = 1.0,
    sink: MemorySink | None = None,
    in_flight: int = 1,
    columns: ThreadPoolExecutor | None = None,
    drained: Callable[[], bool] | None = None,
) -> Rig:
    sink, dead, offsets, metrics = (
        sink or MemorySink(),
        MemoryDeadLetters(),
        MemoryOffsets(),
        WorkerMetrics(),
    )
    writer = BatchWriter(
        sink=sink, dead_letters=dead, offsets=offsets, metrics=metrics,
        backoff=Backoff(0.001, 0.005), group="g", executor=executor, columns_executor=columns,
    )  # fmt: skip
    fatal: list[BaseException] = []
    batcher = Batcher(
        writer, InvalidRatioGuard(ratio, 100), metrics,
        max_rows=max_rows, max_seconds=max_seconds, on_fatal=fatal.append,
        max_in_flight=in_flight, drained=drained,
    )  # fmt: skip
    return Rig(batcher, sink, dead, offsets, metrics, fatal=fatal)


async def test_full_batch_is_written_then_acked(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=4)
    taken = events("t", 0, [record(line(), line()), record(line(), b"oops", line())])
    await r.batcher.add(r.stream, taken)
    await r.batcher.written()
    assert len(r.sink.rows) == 4
    assert [(d.offset, d.line, d.reason.code) for d in r.dead.letters] == [(1, 2, "bad_json")]
    assert r.stream.acked == taken
    assert r.offsets.marks == {("t", 0): 2}
    assert r.metrics.invalid.labels("bad_json")._value.get() == 1


async def test_small_batch_waits_for_its_age(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1000, max_seconds=0.05)
    taken = events("t", 0, [line()])
    await r.batcher.add(r.stream, taken)
    await r.batcher.written()
    await r.batcher.tick()
    await r.batcher.written()
    assert r.sink.rows == [] and r.stream.acked == []
    await asyncio.sleep(0.06)
    await r.batcher.tick()
    await r.batcher.written()
    assert len(r.sink.rows) == 1 and r.stream.acked == taken


async def test_the_batch_ending_a_backlog_is_written_once_the_backlog_is_read(
    executor: ThreadPoolExecutor,
) -> None:
    # Behind (a full batch just went) and nothing left to read: the rest of the backlog is
    # written at the next tick, not once it is max_seconds old.
    read_all = False
    r = rig(executor, max_rows=2, max_seconds=60, drained=lambda: read_all)
    taken = events("t", 0, [line(), line(), line()])
    await r.batcher.add(r.stream, taken)
    await r.batcher.written()
    assert len(r.sink.rows) == 2
    await r.batcher.tick()  # still reading
    await r.batcher.written()
    assert len(r.sink.rows) == 2
    read_all = True
    await r.batcher.tick()
    await r.batcher.written()
    assert len(r.sink.rows) == 3 and r.stream.acked == taken
    assert r.batcher.taken_next() == {("t", 0): 3}


async def test_steady_traffic_is_written_by_age_even_when_all_is_read(
    executor: ThreadPoolExecutor,
) -> None:
    # No full batch before: the worker keeps up, and its batches wait for their age (one
    # insert per max_seconds), however often it has read everything.
    r = rig(executor, max_rows=100, max_seconds=60, drained=lambda: True)
    await r.batcher.add(r.stream, events("t", 0, [line()]))
    await r.batcher.tick()
    await r.batcher.written()
    assert r.sink.rows == []
    r.batcher.request_flush()
    await r.batcher.tick()  # an age or flush launch ends being behind, too
    await r.batcher.add(r.stream, events("t", 0, [line()], start=1))
    await r.batcher.tick()
    await r.batcher.written()
    assert len(r.sink.rows) == 1


async def test_requested_flush_happens_at_the_next_tick(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1000, max_seconds=60)
    await r.batcher.add(r.stream, events("t", 0, [line()]))
    await r.batcher.written()
    r.batcher.request_flush()
    await r.batcher.tick()
    await r.batcher.written()
    assert len(r.sink.rows) == 1


async def test_sink_outage_is_retried_and_nothing_is_acked_before(
    executor: ThreadPoolExecutor,
) -> None:
    r = rig(executor, max_rows=1)
    r.sink.fail_next = 5
    taken = events("t", 3, [line()])
    await r.batcher.add(r.stream, taken)
    await r.batcher.written()
    assert r.sink.attempts == 6
    assert len(r.sink.rows) == 1
    assert r.dead.letters == []  # valid events are never dead-lettered for a sink outage
    assert r.metrics.retries.labels("insert")._value.get() == 5
    assert r.stream.acked == taken


async def test_retried_insert_uses_the_same_dedup_token(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=2)
    r.sink.fail_next = 1
    await r.batcher.add(r.stream, events("t", 1, [line(), line()], start=40))
    await r.batcher.written()
    assert r.sink.tokens == ["g|t:1:40-42"]


async def test_marks_are_read_again_until_clickhouse_answers(
    executor: ThreadPoolExecutor,
) -> None:
    # A partition's first records need its mark; ClickHouse down then used to crash the
    # agent. Now it is back-pressure like an insert, and the mark is honoured when read.
    r = rig(executor, max_rows=2)
    r.offsets.marks[("t", 2)] = 11
    r.offsets.fail_next_loads = 4
    taken = events("t", 2, [line(), line(), line(), line()], start=9)
    await r.batcher.add(r.stream, taken)
    await r.batcher.written()
    assert r.metrics.retries.labels("offsets_load")._value.get() == 4
    assert len(r.sink.rows) == 2  # offsets 9 and 10 were stored before
    assert r.stream.acked == taken


async def test_dead_letter_outage_holds_the_batch(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1)
    r.dead.fail_next = 2
    await r.batcher.add(r.stream, events("t", 0, [record(b"[]", line())]))
    await r.batcher.written()
    assert len(r.dead.letters) == 1 and len(r.sink.rows) == 1
    assert r.metrics.retries.labels("dead_letters")._value.get() == 2


async def test_records_below_the_mark_are_acked_not_rewritten(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1)
    r.offsets.marks[("t", 0)] = 3  # offsets 0..2 were stored before a crash
    taken = events("t", 0, [line(message=str(i)) for i in range(5)])
    await r.batcher.add(r.stream, taken)
    await r.batcher.written()
    assert [row["message"] for row in r.sink.rows] == ["3", "4"]
    assert r.stream.acked == taken
    assert r.metrics.skipped._value.get() == 3
    assert r.offsets.marks[("t", 0)] == 5


async def test_forgotten_partition_reloads_its_mark(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1)
    await r.batcher.add(r.stream, events("t", 0, [line()]))
    await r.batcher.written()
    r.offsets.marks[("t", 0)] = 10  # another owner stored more meanwhile
    r.batcher.forget({("t", 0)})
    await r.batcher.add(r.stream, events("t", 0, [line(), line()], start=8))
    await r.batcher.written()
    assert len(r.sink.rows) == 1


async def test_a_partition_revoked_during_a_write_stays_forgotten(
    executor: ThreadPoolExecutor,
) -> None:
    # The batch in flight used to put the old mark back after forget(): when the partition
    # came back, records its other owner had stored were written again.
    r = rig(executor, max_rows=1)
    r.sink.fail_next = 3  # still being written (retried) when the partition is revoked
    await r.batcher.add(r.stream, events("t", 0, [line()]))
    r.batcher.forget({("t", 0)})
    await r.batcher.written()
    assert r.batcher.acked_next() == {}
    r.offsets.marks[("t", 0)] = 10  # another owner stored more meanwhile
    await r.batcher.add(r.stream, events("t", 0, [line(), line()], start=8))
    await r.batcher.written()
    assert len(r.sink.rows) == 1


async def test_drain_gives_up_at_shutdown_and_leaves_the_batch_unacked(
    executor: ThreadPoolExecutor,
) -> None:
    r = rig(executor, max_rows=1000)
    await r.batcher.add(r.stream, events("t", 0, [line()]))
    await r.batcher.written()
    r.sink.fail_next = 10**9
    assert await r.batcher.drain(0.05) is False
    assert r.stream.acked == [] and r.sink.rows == []


async def test_drain_writes_what_is_pending(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1000)
    await r.batcher.add(r.stream, events("t", 0, [line()]))
    await r.batcher.written()
    assert await r.batcher.drain(5) is True
    assert len(r.sink.rows) == 1 and len(r.stream.acked) == 1


async def test_guard_stops_the_worker_after_writing(executor: ThreadPoolExecutor) -> None:
    r = rig(executor, max_rows=1, ratio=0.5)
    await r.batcher.add(r.stream, events("t", 0, [record(*([b"bad"] * 150), line())]))
    await r.batcher.written()
    assert len(r.dead.letters) == 150 and len(r.sink.rows) == 1
    assert len(r.stream.acked) == 1
    assert [type(e).__name__ for e in r.fatal] == ["InvalidRatioExceeded"]


class GatedSink(MemorySink):
    """Blocks the writes whose dedup token names ``blocked`` (every write by default) until
    the test opens the gate; notes the order of the writes that got through, and the
    columns each attempt sent."""

    def __init__(self, blocked: str = "") -> None:
        super().__init__()
        import threading

        self.blocked = blocked
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.order: list[str] = []
        self.sent: list[object] = []

    def write(self, columns: object, *, dedup_token: str) -> None:  # type: ignore[override]
        self.sent.append(columns)
        if self.blocked in dedup_token:
            self.entered.set()
            self.gate.wait(10)
        super().write(columns, dedup_token=dedup_token)  # type: ignore[arg-type]
        self.order.append(dedup_token.split("|")[1])


async def test_next_batch_is_gathered_while_one_is_in_flight(executor: ThreadPoolExecutor) -> None:
    sink = GatedSink()
    r = rig(executor, max_rows=2, sink=sink)
    batcher, stream = r.batcher, r.stream
    first = events("t", 0, [line(), line()])
    await batcher.add(stream, first)  # launches batch 1, which blocks in the sink
    await asyncio.get_running_loop().run_in_executor(None, sink.entered.wait, 5)
    second = events("t", 0, [line()], start=2)
    await batcher.add(stream, second)  # gathered while batch 1 is in flight
    assert stream.acked == [], "nothing is acknowledged before its batch is durable"
    sink.gate.set()
    assert await batcher.written() is True
    assert stream.acked == first
    assert await batcher.drain(5) is True
    assert stream.acked == first + second
    assert len(sink.rows) == 3


async def test_a_partition_revoked_while_add_waits_for_the_write_in_flight(
    executor: ThreadPoolExecutor,
) -> None:
    # add() waits for the batch in flight before launching the next; a revocation then
    # forgot the partition's mark under it, and the rest of the take crashed the agent
    # (KeyError) — a crash Faust redelivered into at every restart.
    sink = GatedSink()
    r = rig(executor, max_rows=1, sink=sink)
    batcher, stream = r.batcher, r.stream
    first = events("t", 0, [line()])
    await batcher.add(stream, first)  # batch 1 is in flight, blocked in the sink
    await asyncio.get_running_loop().run_in_executor(None, sink.entered.wait, 5)
    rest = events("t", 0, [line(), line()], start=1)
    adding = asyncio.ensure_future(batcher.add(stream, rest))  # waits for batch 1
    await asyncio.sleep(0)
    batcher.forget({("t", 0)})  # the partition is revoked meanwhile
    sink.gate.set()
    await adding
    assert await batcher.drain(5) is True
    assert stream.acked == first + rest
    assert len(sink.rows) == 3


class RefusingSink(MemorySink):
    """Refuses (as an unreachable server would) every batch whose token names ``refuse``."""

    def __init__(self, refuse: str) -> None:
        super().__init__()
        self.refuse = refuse

    def write(self, columns: object, *, dedup_token: str) -> None:  # type: ignore[override]
        if self.refuse and self.refuse in dedup_token:
            self.attempts += 1
            raise SinkUnavailable("refused")
        super().write(columns, dedup_token=dedup_token)  # type: ignore[arg-type]


async def test_a_batch_after_one_left_unwritten_at_shutdown_is_not_written_either(
    executor: ThreadPoolExecutor,
) -> None:
    # At shutdown the batch in flight gave up (left for redelivery) and the pending one
    # was written after it, saving a high-water mark past the unwritten records: after
    # the restart they were skipped as "stored" — lost.
    sink, offsets = RefusingSink("t:0:0-"), MemoryOffsets()

    def batcher() -> Batcher:
        metrics = WorkerMetrics()
        writer = BatchWriter(
            sink=sink, dead_letters=MemoryDeadLetters(), offsets=offsets, metrics=metrics,
            backoff=Backoff(0.001, 0.005), group="g", executor=executor,
        )  # fmt: skip
        return Batcher(
            writer, InvalidRatioGuard(1.0, 100), metrics,
            max_rows=2, max_seconds=60, on_fatal=lambda _e: None,
        )  # fmt: skip

    taken = events("t", 0, [line(message=str(i)) for i in range(3)])
    before, stream = batcher(), FakeStream()
    await before.add(stream, taken[:2])  # in flight, refused
    await before.add(stream, taken[2:])  # pending
    assert await before.drain(0.2) is False
    assert stream.acked == [] and offsets.marks == {}
    sink.refuse = ""  # the server is back; the worker restarts and is sent all three again
    after, stream = batcher(), FakeStream()
    await after.add(stream, taken)
    assert await after.drain(5) is True
    assert sorted(row["message"] for row in sink.rows) == ["0", "1", "2"]


async def test_a_write_that_fails_for_a_bug_stops_the_worker_and_writes_nothing_after(
    executor: ThreadPoolExecutor,
) -> None:
    # An error no retry mends (not SinkUnavailable) used to crash the agent, which Faust
    # restarted; the next batch was then written and marked past the failed one's records.
    r = rig(executor, max_rows=1)
    r.sink.fail_next = 1
    failing = r.sink.write

    def buggy(columns: object, *, dedup_token: str) -> None:
        if r.sink.fail_next:
            r.sink.fail_next = 0
            raise TypeError("a bug")
        failing(columns, dedup_token=dedup_token)  # type: ignore[arg-type]

    r.sink.write = buggy  # type: ignore[method-assign]
    first, second = events("t", 0, [line()]), events("t", 0, [line()], start=1)
    await r.batcher.add(r.stream, first)
    await r.batcher.add(r.stream, second)
    assert await r.batcher.drain(5) is False
    assert [type(e).__name__ for e in r.fatal] == ["TypeError"]
    assert r.stream.acked == [] and r.sink.rows == [] and r.offsets.marks == {}


async def test_two_batches_in_flight_are_written_and_acked_in_order(
    executor: ThreadPoolExecutor,
) -> None:
    sink = GatedSink("t:0:0-")
    with ThreadPoolExecutor(1) as columns:
        r = rig(executor, max_rows=1, sink=sink, in_flight=2, columns=columns)
        batcher, stream = r.batcher, r.stream
        taken = events("t", 0, [line(message=str(i)) for i in range(3)])
        await batcher.add(stream, taken[:1])  # batch 1: blocked in the sink
        await asyncio.get_running_loop().run_in_executor(None, sink.entered.wait, 5)
        # Batch 2 is launched at once (two may be in flight); batch 3 has to wait.
        await asyncio.wait_for(batcher.add(stream, taken[1:2]), 5)
        third = asyncio.ensure_future(batcher.add(stream, taken[2:]))
        await asyncio.sleep(0.05)
        assert not third.done(), "a third batch waits while two are in flight"
        assert stream.acked == [] and sink.rows == []
        sink.gate.set()
        await asyncio.wait_for(third, 5)
        assert await batcher.drain(5) is True
    assert sink.order == ["t:0:0-1", "t:0:1-2", "t:0:2-3"], "written in launch order"
    assert stream.acked == taken, "acknowledged in order"
    assert r.offsets.marks == {("t", 0): 3}


async def test_a_batch_in_flight_behind_one_left_unwritten_is_neither_written_nor_acked(
    executor: ThreadPoolExecutor,
) -> None:
    # With two batches in flight, the second waits for the first: if that one is left for
    # redelivery (a shutdown that gave up), the second must not be written and marked
    # past it, or the restart would skip the first one's records as stored (loss).
    sink = RefusingSink("t:0:0-")
    r = rig(executor, max_rows=1, sink=sink, in_flight=2)
    taken = events("t", 0, [line(message=str(i)) for i in range(2)])
    await r.batcher.add(r.stream, taken[:1])  # refused: retried until the deadline
    await r.batcher.add(r.stream, taken[1:])  # in flight behind it
    assert await r.batcher.drain(0.2) is False
    assert r.stream.acked == [] and sink.rows == [] and r.offsets.marks == {}


async def test_a_retried_insert_sends_the_columns_built_once_in_the_columns_thread(
    executor: ThreadPoolExecutor,
) -> None:
    import threading

    sink = GatedSink("never")
    sink.fail_next = 2
    built_in: list[str] = []
    with ThreadPoolExecutor(1, thread_name_prefix="cols") as columns:
        r = rig(executor, max_rows=2, sink=sink, columns=columns)
        to_columns = BatchWriter._columns

        def noting(batch: object) -> object:
            built_in.append(threading.current_thread().name)
            return to_columns(batch)  # type: ignore[arg-type]

        r.batcher._writer._columns = noting  # type: ignore[method-assign]
        await r.batcher.add(r.stream, events("t", 0, [line(), line()]))
        assert await r.batcher.drain(5) is True
    assert sink.attempts == 3 and len(sink.rows) == 2
    assert len(sink.sent) == 3 and all(c is sink.sent[0] for c in sink.sent)
    assert len(built_in) == 1 and built_in[0].startswith("cols")
