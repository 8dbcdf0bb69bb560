"""EventProducer on the in-memory twin: contract, stamping, ordering, lifecycle, failures."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from events.errors import InvalidEvent
from events.model import Event
from producers import (
    DeliveryFailure,
    EventProducer,
    FlushTimeout,
    MemoryKafka,
    ProducerClosed,
    QueueFull,
    RoomWait,
)
from tests.unit.producers.conftest import TOPIC, Factory, delivered, events_of, settings


def test_emitted_events_arrive_equal_with_an_id_and_the_emit_time(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer()
    before = int(time.time() * 1000)
    fields = {"component": "payments", "message": "paid", "user": "a@b.c", "data": {"n": 1}}
    event_id = producer.emit(fields)
    producer.flush()
    (event,) = delivered(kafka)
    assert event.event_id == uuid.UUID(event_id)
    assert before <= (event.timestamp_ms or 0) <= int(time.time() * 1000)
    expected = Event.model_validate(fields).model_dump(exclude={"event_id", "timestamp"})
    assert event.model_dump(exclude={"event_id", "timestamp"}) == expected


def test_a_given_timestamp_and_id_are_kept(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer()
    own = uuid.uuid4()
    producer.emit(
        {
            "component": "c",
            "message": "m",
            "event_id": str(own),
            "timestamp": "2024-05-01T10:00:00+02:00",
        }
    )
    producer.flush()
    (event,) = delivered(kafka)
    assert event.event_id == own
    assert event.timestamp == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_the_default_environment_fills_only_the_gaps(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer(producer_environment="staging")
    producer.emit({"component": "c", "message": "m"})
    producer.emit({"component": "c", "message": "m", "environment": "production"})
    producer.flush()
    assert [e.environment for e in delivered(kafka)] == ["staging", "production"]


def test_model_instances_are_accepted(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer()
    producer.emit(Event(component="c", message="from the model", severity="WARN"))
    producer.flush()
    assert [(e.message, e.severity) for e in delivered(kafka)] == [("from the model", "WARNING")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": "no component"}, "component"),
        ({"component": "Bad Name", "message": "m"}, "component"),
        ({"component": "c"}, "message"),
        ({"component": "c", "message": "m", "severity": "LOUD"}, "severity"),
        ({"component": "c", "kind": "access"}, "http"),
        ({"component": "c", "message": "m", "timestamp": "yesterday"}, "timestamp"),
    ],
)
def test_invalid_input_raises_naming_the_field_and_sends_nothing(
    make_producer: Factory, kafka: MemoryKafka, fields: dict[str, object], field: str
) -> None:
    producer = make_producer()
    with pytest.raises(ValueError, match=field) as caught:
        producer.emit(fields)
    assert isinstance(caught.value, InvalidEvent) and caught.value.field == field
    producer.flush()
    assert kafka.values(TOPIC) == [] and producer.stats().accepted == 0


def test_something_that_is_not_a_mapping_is_invalid(make_producer: Factory) -> None:
    with pytest.raises(InvalidEvent):
        make_producer().emit(["component", "c"])  # type: ignore[arg-type]


def test_order_within_a_component_holds_across_records(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer(producer_record_events=7)
    for i in range(100):
        for component in ("a", "b", "c"):
            producer.emit({"component": component, "message": str(i)})
    producer.flush()
    for component in ("a", "b", "c"):
        seen = [int(e.message or "") for e in delivered(kafka) if e.component == component]
        assert seen == list(range(100))


def test_every_record_is_keyed_by_its_component(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer()
    for component in ("a", "b", "a", "c"):
        producer.emit({"component": component, "message": "m"})
    producer.flush()
    for message in kafka.topics[TOPIC]:
        components = {event.component for event in events_of(message.value())}
        assert components == {message.key().decode()}


def test_one_event_per_record_when_configured(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer(producer_record_events=1)
    for i in range(5):
        producer.emit({"component": "a", "message": str(i)})
    producer.flush()
    assert [len(events_of(v)) for v in kafka.values(TOPIC)] == [1] * 5
    assert producer.stats().records == 5


def test_linger_sends_a_partial_record_without_flush(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer(producer_linger_ms=1)
    producer.emit({"component": "a", "message": "alone"})
    deadline = time.monotonic() + 30
    while producer.stats().delivered < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [e.message for e in delivered(kafka)] == ["alone"]


def test_close_delivers_everything_accepted_and_then_refuses(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer(producer_linger_ms=60_000)
    for i in range(1_234):
        producer.emit({"component": f"c{i % 5}", "message": str(i)})
    producer.close()
    producer.close()  # idempotent
    assert len(delivered(kafka)) == 1_234
    assert producer.stats()._asdict() == {
        "accepted": 1_234,
        "delivered": 1_234,
        "failed": 0,
        "pending": 0,
        "records": producer.stats().records,
    }
    with pytest.raises(ProducerClosed):
        producer.emit({"component": "c", "message": "late"})


def test_context_manager_closes(kafka: MemoryKafka) -> None:
    with EventProducer(settings(), kafka=kafka) as producer:
        producer.log("c", "inside")
    assert [e.message for e in delivered(kafka)] == ["inside"]


def test_a_full_queue_refuses_at_once_without_blocking(make_producer: Factory) -> None:
    kafka = MemoryKafka(capacity=2)
    kafka.available = False
    producer = make_producer(kafka=kafka, producer_record_events=1)
    producer.emit({"component": "c", "message": "1"}, block=False)
    producer.emit({"component": "c", "message": "2"}, block=False)
    with pytest.raises(QueueFull):
        producer.emit({"component": "c", "message": "3"}, block=False)
    assert producer.stats().accepted == 2
    kafka.available = True


def test_a_full_queue_applies_backpressure_until_room_appears(make_producer: Factory) -> None:
    kafka = MemoryKafka(capacity=1)
    kafka.available = False
    producer = make_producer(kafka=kafka, producer_record_events=1, producer_block_timeout=60)
    producer.emit({"component": "c", "message": "1"})
    threading.Timer(0.2, lambda: setattr(kafka, "available", True)).start()
    producer.emit({"component": "c", "message": "2"})  # waits for the broker, then accepted
    producer.flush()
    assert [e.message for e in delivered(kafka)] == ["1", "2"]


def test_backpressure_gives_up_after_the_bound(make_producer: Factory) -> None:
    kafka = MemoryKafka(capacity=1)
    kafka.available = False
    producer = make_producer(kafka=kafka, producer_record_events=1, producer_block_timeout=0.05)
    producer.emit({"component": "c", "message": "1"})
    with pytest.raises(QueueFull, match="not accepted"):
        producer.emit({"component": "c", "message": "2"})
    kafka.available = True


def test_failure_callbacks_run_on_the_poll_thread_even_while_emit_waits_for_room(
    make_producer: Factory,
) -> None:
    # The emitting thread waits for room while the failure reports that make it arrive:
    # they are served, and on_failure runs, on the producer's poll thread, never in emit.
    kafka = MemoryKafka(capacity=1)
    kafka.available = False
    kafka.fail_with = "Broker: Topic authorization failed"
    threads: list[str] = []
    producer = make_producer(
        kafka=kafka,
        on_failure=lambda _: threads.append(threading.current_thread().name),
        producer_record_events=1,
        producer_block_timeout=60,
    )
    producer.emit({"component": "c", "message": "0"})
    for i in range(1, 21):
        kafka.available = False
        threading.Timer(0.02, lambda: setattr(kafka, "available", True)).start()
        producer.emit({"component": "c", "message": str(i)})  # waits for room
    while producer.stats().pending:  # not flush(): it serves what is due in its own thread
        time.sleep(0.01)
    assert threads == [f"{producer.settings.producer_client_id}-poll"] * 21


def test_flush_returns_once_every_failure_callback_has_returned(make_producer: Factory) -> None:
    # A failure was counted (and flush() returned, pending fell to 0) before on_failure
    # ran: a caller that flushed, then read what its callback collected, missed failures.
    kafka = MemoryKafka()
    kafka.fail_with = "Broker: Topic authorization failed"
    reported: list[DeliveryFailure] = []
    reporting = threading.Event()

    def slow(failure: DeliveryFailure) -> None:
        reporting.set()
        time.sleep(0.3)
        reported.append(failure)

    producer = make_producer(kafka=kafka, on_failure=slow)
    producer.emit({"component": "pay", "message": "0"})
    assert reporting.wait(5), "the poll thread reports the failure"
    producer.flush()
    assert len(reported) == 1 and producer.stats().pending == 0


def test_delivery_failures_are_counted_and_reported_with_the_record(make_producer: Factory) -> None:
    kafka = MemoryKafka()
    kafka.fail_with = "Broker: Topic authorization failed"
    failures: list[DeliveryFailure] = []
    producer = make_producer(kafka=kafka, on_failure=failures.append)
    for i in range(3):
        producer.emit({"component": "pay", "message": str(i)})
    producer.flush()
    assert producer.stats().failed == 3 and producer.stats().delivered == 0
    (failure,) = failures
    assert (failure.component, failure.events) == ("pay", 3)
    assert "authorization" in failure.reason
    assert [e.message for e in events_of(failure.record)] == ["0", "1", "2"]


def test_a_failing_failure_callback_does_not_stop_delivery(make_producer: Factory) -> None:
    kafka = MemoryKafka()
    kafka.fail_with = "nope"

    def explode(failure: DeliveryFailure) -> None:
        raise RuntimeError("callback bug")

    producer = make_producer(kafka=kafka, on_failure=explode, producer_record_events=1)
    producer.emit({"component": "c", "message": "1"})
    producer.emit({"component": "c", "message": "2"})
    producer.flush()
    assert producer.stats().failed == 2


def test_flush_times_out_without_losing_anything(make_producer: Factory) -> None:
    kafka = MemoryKafka()
    kafka.available = False
    producer = make_producer(kafka=kafka)
    producer.emit({"component": "c", "message": "waits"})
    with pytest.raises(FlushTimeout) as caught:
        producer.close(timeout=0.05)
    assert caught.value.remaining == 1
    kafka.available = True
    producer.close()
    assert [e.message for e in delivered(kafka)] == ["waits"]


def test_giving_up_at_close_reports_the_rest_as_failed(make_producer: Factory) -> None:
    kafka = MemoryKafka()
    kafka.available = False
    failures: list[DeliveryFailure] = []
    producer = make_producer(kafka=kafka, on_failure=failures.append)
    for i in range(3):
        producer.log("c", str(i))
    producer.close(timeout=0.05, give_up=True)
    stats = producer.stats()
    assert (stats.delivered, stats.failed, stats.pending) == (0, 3, 0)
    assert sum(f.events for f in failures) == 3 and "Purged" in failures[0].reason


def test_emit_many_queues_a_batch_in_order(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer(producer_record_events=3)
    ids = producer.emit_many({"component": f"c{i % 2}", "message": str(i)} for i in range(10))
    producer.flush()
    events = {str(e.event_id): e for e in delivered(kafka)}
    assert [events[i].message for i in ids] == [str(i) for i in range(10)]


def test_emit_many_accepts_nothing_when_one_event_is_invalid(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer()
    batch = [{"component": "c", "message": "ok"}, {"component": "c", "severity": "LOUD"}]
    with pytest.raises(InvalidEvent, match="event 1") as caught:
        producer.emit_many(batch)
    assert caught.value.field in {"message", "severity"}
    producer.flush()
    assert delivered(kafka) == [] and producer.stats().accepted == 0


def test_emit_many_says_what_it_accepted_when_the_queue_stays_full(make_producer: Factory) -> None:
    kafka = MemoryKafka(capacity=2)
    kafka.available = False
    producer = make_producer(kafka=kafka, producer_record_events=1, producer_block_timeout=0.05)
    with pytest.raises(QueueFull) as caught:
        producer.emit_many([{"component": "c", "message": str(i)} for i in range(5)])
    assert len(caught.value.accepted) == 2 == producer.stats().accepted
    kafka.available = True


def test_threads_emitting_at_once_lose_nothing(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer(producer_record_events=50)

    def work(n: int) -> None:
        for i in range(2_000):
            producer.emit({"component": f"c{i % 3}", "message": f"{n}:{i}"})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    producer.flush()
    events = delivered(kafka)
    assert len(events) == 8_000 and len({e.event_id for e in events}) == 8_000
    for n in range(4):  # each thread's events of one component stay in its order
        mine = [e.message or "" for e in events if e.component == "c0"]
        numbers = [int(m.split(":")[1]) for m in mine if m.startswith(f"{n}:")]
        assert numbers == sorted(numbers) and len(numbers) == 667


_FORK_WHILE_EMITTING = """
import os, signal, sys, time
from producers import EventProducer, ProducerFailed, ProducerSettings

producer = EventProducer(ProducerSettings(kafka_bootstrap="127.0.0.1:1", topic="t"))
producer.log("c", "accepted by the parent")
producer._packer._lock.acquire()  # another thread is inside emit() as the process forks
pid = os.fork()
if pid == 0:
    code = 3
    try:
        producer.log("c", "from the child")
    except ProducerFailed:
        code = 0 if producer.stats().pending == 0 else 2
    producer.close()  # nothing of the child's to deliver: returns at once
    os._exit(code)
producer._packer._lock.release()
outcome = "the child hung"
deadline = time.monotonic() + 30  # a hang guard: never leave a child behind
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        outcome = os.waitstatus_to_exitcode(status)
        break
    time.sleep(0.05)
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
producer.close(0, give_up=True)  # Kafka is down: do not wait for it at exit
sys.exit(outcome)
"""


def test_a_producer_inherited_by_a_forked_child_refuses_at_once_and_never_hangs() -> None:
    # librdkafka's threads stay behind in the parent, and a lock held by another thread at
    # the fork stays held in the child: the inherited producer used to block the child's
    # first emit forever. It now refuses (ProducerFailed: make one in the child), does not
    # count the parent's events as the child's, and closes without waiting.
    done = subprocess.run(
        [sys.executable, "-c", _FORK_WHILE_EMITTING],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


class _BusyApp(MemoryKafka):
    """A broker that delivers, while another thread of the application emits meanwhile."""

    producer: EventProducer | None = None

    def flush(self, timeout: float = -1) -> int:
        left = super().flush(timeout)
        if self.producer is not None:  # accepted after flush() was called
            other = threading.Thread(target=self.producer.log, args=("c", "later"))
            other.start()
            other.join()
        return left


def test_flush_does_not_time_out_on_events_accepted_after_it_was_called(
    make_producer: Factory,
) -> None:
    # flush() waits for the events accepted before it; it used to raise FlushTimeout ("still
    # in flight after 125 s", at once) whenever another thread had emitted meanwhile.
    kafka = _BusyApp()
    producer = make_producer(kafka=kafka, producer_linger_ms=60_000)
    producer.log("c", "before")
    kafka.producer = producer
    try:
        producer.flush()
    finally:
        kafka.producer = None
    assert [e.message for e in delivered(kafka)] == ["before"]


class _SteadyLoad(MemoryKafka):
    """A broker under a steady load from other threads of the application: at every moment
    one of their records is in flight, so Kafka's queue is never empty — and ``flush``
    waits, as librdkafka's does, for an empty queue."""

    others_in_flight = 0

    def __len__(self) -> int:
        return super().__len__() + self.others_in_flight


def test_flush_under_a_steady_load_from_other_threads_returns_once_its_events_settle(
    make_producer: Factory,
) -> None:
    # flush() waited for Kafka's whole queue to empty, which a steady stream of records
    # from other threads never lets happen: it held its caller for the whole timeout (by
    # default the delivery timeout plus 5 s) and then raised FlushTimeout, although the
    # events accepted before it had long been delivered.
    kafka = _SteadyLoad()
    producer = make_producer(kafka=kafka)
    producer.log("c", "before")
    kafka.others_in_flight = 1
    try:
        producer.flush(timeout=20)
    finally:
        kafka.others_in_flight = 0
    assert [e.message for e in delivered(kafka)] == ["before"]


def test_emit_many_within_a_room_wait_of_its_own_stops_when_told(make_producer: Factory) -> None:
    # One bound shared by calls, ended early by its stop condition (a shutdown flag).
    kafka = MemoryKafka(capacity=2)
    kafka.available = False
    producer = make_producer(kafka=kafka, producer_record_events=1, producer_block_timeout=60)
    stop = threading.Event()
    room = RoomWait(60, stop.is_set)
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(QueueFull) as caught:
        producer.emit_many([{"component": "c", "message": str(i)} for i in range(5)], room=room)
    assert time.monotonic() - started < 30  # not the 60 s bound
    assert len(caught.value.accepted) == 2
    with pytest.raises(QueueFull) as again:  # the same wait: stopped, so no wait at all
        producer.emit_many([{"component": "d", "message": "x"}], room=room)
    assert again.value.accepted == []
    kafka.available = True
