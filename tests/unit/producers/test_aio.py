"""AsyncEventProducer: awaitables resolve when the record is acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from producers import AsyncEventProducer, DeliveryFailed, MemoryKafka, QueueFull
from tests.unit.producers.conftest import delivered, settings


@pytest.fixture
async def producer(kafka: MemoryKafka) -> AsyncIterator[AsyncEventProducer]:
    async with AsyncEventProducer(settings(producer_linger_ms=1), kafka=kafka) as made:
        yield made


async def test_awaiting_an_event_returns_its_id_once_delivered(
    producer: AsyncEventProducer, kafka: MemoryKafka
) -> None:
    api = producer.bind("api")
    event_id = await api.error("boom", function="startup", reason="testing", user="admin")
    (event,) = delivered(kafka)
    assert str(event.event_id) == event_id
    assert (event.kind, event.message, event.user) == ("error", "boom", "admin")


async def test_many_awaiters_of_one_record_all_wake(
    producer: AsyncEventProducer, kafka: MemoryKafka
) -> None:
    ids = await asyncio.gather(*(producer.log("c", str(i)) for i in range(200)))
    assert len(set(ids)) == 200
    assert sorted(int(e.message or "") for e in delivered(kafka)) == list(range(200))
    assert producer.stats().records < 200


async def test_a_failed_delivery_raises_in_the_awaiter(kafka: MemoryKafka) -> None:
    kafka.fail_with = "Broker: Message size too large"
    async with AsyncEventProducer(settings(producer_linger_ms=1), kafka=kafka) as producer:
        with pytest.raises(DeliveryFailed, match="too large"):
            await producer.log("c", "lost")
        assert producer.stats().failed == 1


async def test_wait_false_returns_once_accepted(kafka: MemoryKafka) -> None:
    kafka.available = False
    producer = AsyncEventProducer(settings(), kafka=kafka)
    await producer.emit({"component": "c", "message": "m"}, wait=False)
    assert producer.stats().pending == 1
    kafka.available = True
    await producer.close()
    assert [e.message for e in delivered(kafka)] == ["m"]


async def test_a_full_queue_is_waited_out_without_blocking_the_loop() -> None:
    kafka = MemoryKafka(capacity=1)
    kafka.available = False
    producer = AsyncEventProducer(
        settings(producer_record_events=1, producer_block_timeout=60), kafka=kafka
    )
    await producer.emit({"component": "c", "message": "1"}, wait=False)
    second = asyncio.ensure_future(producer.log("c", "2"))
    await asyncio.sleep(0.05)  # the loop keeps running while the emit waits for room
    assert not second.done()
    kafka.available = True
    await second
    await producer.close()
    assert [e.message for e in delivered(kafka)] == ["1", "2"]


async def test_a_full_queue_past_the_bound_raises() -> None:
    kafka = MemoryKafka(capacity=1)
    kafka.available = False
    producer = AsyncEventProducer(
        settings(producer_record_events=1, producer_block_timeout=0.02), kafka=kafka
    )
    await producer.emit({"component": "c", "message": "1"}, wait=False)
    with pytest.raises(QueueFull):
        await producer.emit({"component": "c", "message": "2"}, wait=False)
    kafka.available = True
    await producer.close()


async def test_invalid_input_raises_before_anything_is_sent(
    producer: AsyncEventProducer, kafka: MemoryKafka
) -> None:
    with pytest.raises(ValueError, match="severity"):
        await producer.log("c", "m", severity="LOUD")
    await producer.flush()
    assert delivered(kafka) == []


async def test_emit_each_settles_every_item_on_its_own(
    producer: AsyncEventProducer, kafka: MemoryKafka
) -> None:
    items = [
        {"component": "a", "message": "one"},
        {"component": "Bad", "message": "rejected"},
        {"component": "b", "message": "two"},
        {"component": "a"},  # no message
    ]
    results = await producer.emit_each(items)
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert [type(r).__name__ for r in results[1::2]] == ["InvalidEvent", "InvalidEvent"]
    assert sorted(e.message or "" for e in delivered(kafka)) == ["one", "two"]


async def test_emit_each_reports_failed_deliveries_per_item(kafka: MemoryKafka) -> None:
    kafka.fail_with = "Broker: Message size too large"
    async with AsyncEventProducer(settings(producer_linger_ms=1), kafka=kafka) as producer:
        results = await producer.emit_each(
            [{"component": "a", "message": str(i)} for i in range(3)]
        )
    assert [type(r).__name__ for r in results] == ["DeliveryFailed"] * 3


async def test_emit_each_of_nothing_returns_at_once(producer: AsyncEventProducer) -> None:
    assert await producer.emit_each([]) == []


async def test_emit_each_waits_for_room_once_for_the_whole_call() -> None:
    # Per event, a request of N events could wait N times the bound for its 503.
    kafka = MemoryKafka(capacity=1)
    kafka.available = False
    producer = AsyncEventProducer(
        settings(producer_record_events=1, producer_block_timeout=0.2), kafka=kafka
    )

    async def room_later() -> None:
        await asyncio.sleep(3)  # 15 bounds of waiting: events after the 15th would get in
        kafka.available = True

    opener = asyncio.ensure_future(room_later())
    results = await producer.emit_each([{"component": "c", "message": str(i)} for i in range(30)])
    await opener
    await producer.close()
    assert isinstance(results[0], str)
    assert [type(r).__name__ for r in results[1:]] == ["QueueFull"] * 29
    assert [e.message for e in delivered(kafka)] == ["0"]


class _FullOnce(MemoryKafka):
    """A local queue that is full for the first record offered, and only for it."""

    def __init__(self) -> None:
        super().__init__()
        self.full = True

    def produce(self, topic: str, value: bytes, key: str, *, on_delivery: Any) -> None:
        if self.full:
            self.full = False
            raise BufferError("Local: Queue full")
        super().produce(topic, value, key, on_delivery=on_delivery)


async def test_emit_each_accepts_a_components_events_in_order_when_the_queue_is_full() -> None:
    # a0 finds no room; by a1 there is room again, but a1 must not go before a0.
    kafka = _FullOnce()
    async with AsyncEventProducer(
        settings(producer_record_events=1, producer_block_timeout=0), kafka=kafka
    ) as producer:
        results = await producer.emit_each(
            [{"component": c, "message": m} for c, m in [("a", "a0"), ("b", "b0"), ("a", "a1")]]
        )
    assert [type(r).__name__ for r in results] == ["QueueFull", "str", "QueueFull"]
    assert [e.message for e in delivered(kafka)] == ["b0"]


def test_an_awaiter_whose_loop_closed_does_not_strand_the_next_loops_awaiters(
    kafka: MemoryKafka,
) -> None:
    # A producer kept across asyncio.run() calls (a script, a test suite): an await that
    # was cancelled as its loop closed left its waiter in the component's open record, and
    # the next loop's awaiters of that record were handed to the closed loop with it: their
    # await never returned.
    producer = AsyncEventProducer(settings(producer_linger_ms=60_000), kafka=kafka)

    async def abandoned() -> None:
        first = asyncio.ensure_future(producer.log("c", "first"))
        await asyncio.sleep(0)  # accepted; asyncio.run cancels the await and closes the loop
        assert not first.done()

    async def awaited() -> str:
        second = asyncio.ensure_future(producer.log("c", "second"))
        await asyncio.sleep(0)  # accepted into the same open record
        await asyncio.to_thread(producer.sync.flush, 5)
        return await asyncio.wait_for(second, 10)

    try:
        asyncio.run(abandoned())
        event_id = asyncio.run(awaited())
    finally:
        producer.sync.close(5)
    assert [str(e.event_id) for e in delivered(kafka)][1:] == [event_id]
