"""Delivery on the real broker: invalid input never leaves, outages lose nothing accepted,
failures are reported."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from events.errors import InvalidEvent
from producers import (
    AsyncEventProducer,
    DeliveryFailed,
    DeliveryFailure,
    EventProducer,
    QueueFull,
)
from tests.integration.producers.conftest import read_events
from tests.support.names import unique


def test_invalid_input_raises_before_anything_is_sent(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str
) -> None:
    with EventProducer(make_settings()) as producer:
        with pytest.raises(InvalidEvent) as caught:
            producer.emit({"component": "pay", "message": "m", "severity": "LOUD"})
        assert caught.value.field == "severity"
        with pytest.raises(ValueError, match="message"):
            producer.log("pay", "")
        producer.log("pay", "the valid one")
    records = read_events(kafka_conf, topic)
    assert [[e.message for e in events] for _, events in records] == [["the valid one"]]


class Proxy:
    """A TCP forwarder that starts listening only when told: a broker that comes up late."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nothing listens there until start()
        self._server: socket.socket | None = None
        self._closed = threading.Event()

    def start(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        self._closed.set()
        if self._server is not None:
            self._server.close()


def test_a_broker_down_at_start_that_comes_up_in_time_loses_nothing(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str
) -> None:
    host, port = kafka_conf["bootstrap.servers"].split(",")[0].rsplit(":", 1)
    proxy = Proxy((host, int(port)))  # bootstrap only: the broker then advertises itself
    settings = make_settings(
        kafka_bootstrap=f"127.0.0.1:{proxy.port}",
        producer_librdkafka={"reconnect.backoff.max.ms": 500},
    )
    producer = EventProducer(settings)
    try:
        ids = [producer.log(f"svc{i % 4}", f"while down {i}") for i in range(2_000)]
        time.sleep(1.0)  # librdkafka has found nobody listening by now
        stats = producer.stats()
        assert (stats.accepted, stats.delivered, stats.failed) == (2_000, 0, 0)
        proxy.start()
        producer.close()
    finally:
        proxy.close()
    assert producer.stats().delivered == 2_000
    back = [str(e.event_id) for _, events in read_events(kafka_conf, topic) for e in events]
    assert sorted(back) == sorted(ids)


def test_delivery_failures_are_reported_never_swallowed(make_settings: Any) -> None:
    failures: list[DeliveryFailure] = []
    settings = make_settings(topic=unique("missing"), producer_delivery_timeout_ms=1_000)
    producer = EventProducer(settings, on_failure=failures.append)
    for i in range(10):
        producer.log("pay", f"lost {i}")
    producer.close()  # every record settles: here, as failed
    stats = producer.stats()
    assert (stats.delivered, stats.failed, stats.pending) == (0, 10, 0)
    assert sum(f.events for f in failures) == 10 and {f.component for f in failures} == {"pay"}
    assert all(f.record for f in failures)


async def test_an_awaited_event_raises_when_its_delivery_fails(make_settings: Any) -> None:
    settings = make_settings(topic=unique("missing"), producer_delivery_timeout_ms=1_000)
    async with AsyncEventProducer(settings) as producer:
        with pytest.raises(DeliveryFailed):
            await producer.bind("api").error("boom", function="startup")


def test_giving_up_at_close_with_a_full_queue_reports_every_accepted_event(
    make_settings: Any,
) -> None:
    # Kafka down, the local queue full, a record of each component still open: giving up
    # must report those too. librdkafka frees a purged record's room only once its report
    # is served, so they used to find no room, stay open and vanish without a word.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there: a broker that is down for the whole test
    failures: list[DeliveryFailure] = []
    settings = make_settings(kafka_bootstrap=f"127.0.0.1:{port}", producer_queue_kbytes=1_024)
    producer = EventProducer(settings, on_failure=failures.append)

    def fill() -> None:
        for i in range(100_000):
            producer.emit({"component": f"svc{i % 3}", "message": "x" * 300}, block=False)

    with pytest.raises(QueueFull):
        fill()
    accepted = producer.stats().accepted
    producer.close(timeout=0.1, give_up=True)
    stats = producer.stats()
    assert (stats.delivered, stats.failed, stats.pending) == (0, accepted, 0)
    assert sum(f.events for f in failures) == accepted
