"""The consumer's task-free delivery path: same results, same waiting, same cancellation."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from typing import Any
from weakref import WeakSet

import pytest
from aiokafka.structs import ConsumerRecord
from faust.types import TP
from intervaltree import IntervalTree
from mode import Service

from stream_processors.consumer import FastConsumer, RunMessage, runs_of


def consumer() -> FastConsumer:
    # Only what wait_first touches: the service's events and the flow event. (A consumer
    # built by the transport starts a thread with an event loop of its own.)
    made = FastConsumer.__new__(FastConsumer)
    Service.__init__(made)
    made.suspend_flow = asyncio.Event()
    return made


async def test_a_delivery_that_never_waits_runs_in_place() -> None:
    c = consumer()
    ran: list[str] = []

    async def deliver() -> str:
        ran.append("x")
        return "done"

    before = len(asyncio.all_tasks())
    result = await c.wait_first(deliver(), c.suspend_flow.wait())
    assert ran == ["x"]
    assert (result.done, result.results, result.stopped) == ([result.done[0]], ["done"], False)
    assert len(asyncio.all_tasks()) == before  # no task was created, none left behind


async def test_a_delivery_that_waits_is_resumed_where_it_stopped() -> None:
    c = consumer()
    gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def deliver() -> int:
        steps.append("before")
        value = await gate
        steps.append("after")
        await asyncio.sleep(0)  # a bare yield is forwarded too
        return value + 1

    waiting = asyncio.ensure_future(c.wait_first(deliver(), c.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    assert steps == ["before"] and not waiting.done()
    gate.set_result(41)
    result = await asyncio.wait_for(waiting, 1)
    assert steps == ["before", "after"] and result.results == [42]


async def test_a_suspended_flow_abandons_a_waiting_delivery() -> None:
    c = consumer()
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cancelled: list[bool] = []

    async def deliver() -> None:
        try:
            await gate
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    waiting = asyncio.ensure_future(c.wait_first(deliver(), c.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    c.suspend_flow.set()  # a rebalance begins
    result = await asyncio.wait_for(waiting, 1)
    await asyncio.sleep(0)
    assert result.results == [True] and cancelled == [
        True
    ]  # the flow event won; delivery cancelled


async def test_a_failing_delivery_raises() -> None:
    c = consumer()

    async def deliver() -> None:
        raise ValueError("bad record")

    with pytest.raises(ValueError, match="bad record"):
        await c.wait_first(deliver(), c.suspend_flow.wait())


# --- runs: consecutive records delivered as one message ------------------------------------


def record(offset: int, size: int = 10, partition: int = 0) -> ConsumerRecord[bytes, bytes]:
    value = f"{offset}".encode().ljust(size, b" ")
    return ConsumerRecord(
        "t", partition, offset, 1_700_000_000_000 + offset, 0, None, value, None, 0, size, []
    )


def shape(items: list[Any]) -> list[int | tuple[int, ...]]:
    """A lone record as its offset, a run as the tuple of its offsets."""
    return [
        tuple(p.offset for p in item.parts) if hasattr(item, "parts") else item.offset
        for item in items
    ]


def test_consecutive_records_become_runs_within_the_bounds() -> None:
    records = [record(o) for o in [*range(5), *range(7, 10), 12]]
    got = runs_of(records, after=None, max_records=3, max_bytes=1_000)
    assert shape(got) == [(0, 1, 2), (3, 4), (7, 8, 9), 12]  # a gap ends a run
    assert shape(runs_of(records, after=None, max_records=100, max_bytes=25)) == [
        (0, 1),
        (2, 3),
        4,
        (7, 8),
        9,
        12,
    ]


def test_a_run_keeps_every_record_and_reads_as_its_last() -> None:
    [run] = runs_of([record(5), record(6), record(7)], after=None, max_records=9, max_bytes=99)
    assert [tuple(p) for p in run.parts] == [
        (o, 1_700_000_000_000 + o, f"{o}".encode().ljust(10, b" ")) for o in (5, 6, 7)
    ]
    assert (run.offset, run.timestamp, run.value, run.serialized_value_size) == (
        7,
        1_700_000_000_007,
        None,
        30,
    )


def test_records_up_to_the_read_offset_stay_for_faust_to_judge() -> None:
    records = [record(o) for o in range(3, 8)]
    got = runs_of(records, after=4, max_records=10, max_bytes=1_000)
    assert shape(got) == [3, 4, (5, 6, 7)]


class _Topics:
    def acks_enabled_for(self, topic: str) -> bool:
        return True


def tracking_consumer() -> FastConsumer:
    """Only the acknowledgement bookkeeping of Faust's consumer."""
    made = FastConsumer.__new__(FastConsumer)
    made.app = SimpleNamespace(  # type: ignore[assignment]
        topics=_Topics(), consumer_generation_id=1, delivery_max_records=100
    )
    made._acked = defaultdict(list)
    made._acked_index = defaultdict(set)
    made._committed_offset = defaultdict(lambda: None)
    made._read_offset = defaultdict(lambda: None)
    made._gap = defaultdict(IntervalTree)
    made._unacked_messages = WeakSet()
    made._n_acked = 0
    made._waiting_for_ack = None
    return made


TP0 = TP("t", 0)


def messages(c: FastConsumer, offsets: list[int]) -> list[Any]:
    """Deliver records as Faust's fetch loop would: runs, then a message each."""
    out = []
    for item in runs_of([record(o) for o in offsets], after=None, max_records=4, max_bytes=999):
        message = c._to_message(TP0, item)
        c._read_offset[TP0] = message.offset  # what the fetch loop does after delivery
        out.append(message)
    return out


def test_acknowledging_runs_commits_exactly_past_them() -> None:
    c = tracking_consumer()
    first, second, lone = messages(c, [0, 1, 2, 3, 4, 5, 6, 7, 8])
    assert isinstance(first, RunMessage) and not isinstance(lone, RunMessage)
    assert [p.offset for p in second.parts] == [4, 5, 6, 7] and lone.offset == 8
    assert c.ack(first) and c._new_offset(TP0) == 4
    assert c.ack(second) and c.ack(lone) and c._new_offset(TP0) == 9
    assert c._n_acked == 9  # as many as records, as record by record


def test_a_run_acknowledged_out_of_order_commits_nothing_past_a_waiting_one() -> None:
    c = tracking_consumer()
    c._committed_offset[TP0] = 100  # resumed at a committed offset
    first, second = messages(c, list(range(100, 108)))
    assert c.ack(second)
    assert c._new_offset(TP0) is None  # not past the first run
    assert c.ack(first) and c._new_offset(TP0) == 108


def test_a_real_gap_before_a_run_is_still_skipped_when_committing() -> None:
    c = tracking_consumer()
    first, second = messages(c, [0, 1, 2, 3, 10, 11, 12])  # 4..9 compacted away
    assert c.ack(first) and c.ack(second)
    assert c._new_offset(TP0) == 13  # without the gap noted, Faust would stop at 4
