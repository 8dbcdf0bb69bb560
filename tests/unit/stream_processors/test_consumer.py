"""The consumer's task-free delivery path: same results, same waiting, same cancellation."""

from __future__ import annotations

import asyncio

import pytest
from mode import Service

from stream_processors.consumer import FastConsumer


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
