"""The logging handler: records become events; a bounded buffer; never blocks."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

import pytest

from events.wire import validate_wire
from producers import EventHandler, EventProducer, MemoryKafka
from producers.memory import MemoryKafkaError
from producers.records import record_event, severity_of
from tests.unit.producers.conftest import Factory, delivered, settings


def make_record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "app.orders", logging.WARNING, "/srv/app.py", 42, message, args, None, "place"
    )
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (5, "DEBUG"),
        (10, "DEBUG"),
        (20, "INFO"),
        (25, "INFO"),
        (30, "WARNING"),
        (40, "ERROR"),
        (50, "CRITICAL"),
        (60, "CRITICAL"),
    ],
)
def test_levels_map_to_severities(level: int, severity: str) -> None:
    assert severity_of(level) == severity


def test_a_record_becomes_a_valid_event() -> None:
    record = make_record(
        "hello %s", "world", user="alice", trace_id="t1", order={"id": 7}, when=object()
    )
    event = record_event("orders", record)
    wire = validate_wire(event)
    assert (wire.component, wire.message, wire.severity, wire.function) == (
        "orders",
        "hello world",
        "WARNING",
        "place",
    )
    assert (wire.user, wire.trace_id, wire.kind) == ("alice", "t1", "log")
    assert wire.timestamp == int(record.created * 1000)
    assert wire.data is not None
    assert wire.data["order"] == {"id": 7} and wire.data["when"].startswith("<object")
    assert (wire.data["logger"], wire.data["file"], wire.data["line"]) == (
        "app.orders",
        "/srv/app.py",
        42,
    )


def test_a_data_extra_is_merged_into_data() -> None:
    event = record_event("orders", make_record(data={"amount": 5}))
    assert event["data"]["amount"] == 5


def test_a_huge_message_is_cut_to_the_contract_limit() -> None:
    event = record_event("orders", make_record("x" * 100_000))
    assert validate_wire(event).message == "x" * 32_768


def test_the_handler_ships_records_and_exceptions(
    make_producer: Factory, kafka: MemoryKafka, logger: logging.Logger
) -> None:
    producer = make_producer()
    logger.addHandler(EventHandler("orders", producer=producer))
    logger.info("order %d placed", 7, extra={"user": "bob"})
    try:
        raise KeyError("sku")
    except KeyError:
        logger.exception("could not reserve")
    producer.flush()
    info, error = delivered(kafka)
    assert (info.message, info.severity, info.kind, info.user) == (
        "order 7 placed",
        "INFO",
        "log",
        "bob",
    )
    assert (error.kind, error.severity) == ("error", "ERROR")
    assert error.data is not None and "KeyError: 'sku'" in error.data["exception"]["traceback"]


def test_records_past_the_bound_are_dropped_and_counted(
    make_producer: Factory, logger: logging.Logger
) -> None:
    kafka = MemoryKafka()
    kafka.available = False  # Kafka unreachable: nothing leaves the buffer
    producer = make_producer(kafka=kafka, producer_handler_capacity=10)
    handler = EventHandler("orders", producer=producer)
    logger.addHandler(handler)
    for i in range(25):
        logger.warning("event %d", i)
    assert handler.dropped == 15 and producer.stats().pending == 10
    kafka.available = True
    producer.flush()
    assert [e.message for e in delivered(kafka)] == [f"event {i}" for i in range(10)]


def test_the_producers_own_logs_are_never_shipped(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer()
    handler = EventHandler("orders", producer=producer)
    for name in ("producers", "producers.delivery", "producers.kafka"):
        handler.handle(logging.LogRecord(name, logging.ERROR, __file__, 1, "feedback", (), None))
    handler.handle(logging.LogRecord("producersque", logging.ERROR, __file__, 1, "kept", (), None))
    producer.flush()
    assert [e.message for e in delivered(kafka)] == ["kept"]


def test_an_invalid_component_fails_at_construction(make_producer: Factory) -> None:
    with pytest.raises(ValueError, match="component"):
        EventHandler("Not Valid", producer=make_producer())


def test_close_says_on_stderr_what_it_could_not_deliver(capsys: pytest.CaptureFixture[str]) -> None:
    kafka = MemoryKafka()
    kafka.available = False
    producer = EventProducer(
        settings(producer_handler_close_timeout=0.05, producer_handler_capacity=1), kafka=kafka
    )
    handler = EventHandler("orders", producer=producer)
    for i in range(3):
        handler.handle(logging.LogRecord("app", logging.INFO, __file__, 1, f"m{i}", (), None))
    handler.close()
    err = capsys.readouterr().err
    assert "1 log event(s) not delivered at close" in err
    assert "2 log record(s) dropped past the buffer bound" in err
    kafka.available = True
    producer.close()


def test_an_owned_producer_gives_up_at_close_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = EventHandler(
        "orders",
        settings=settings(kafka_bootstrap="127.0.0.1:1", producer_handler_close_timeout=0.05),
    )
    handler.handle(logging.LogRecord("app", logging.INFO, __file__, 1, "lost", (), None))
    handler.close()
    assert handler.producer.stats().failed == 1
    assert "1 log event(s) not delivered at close" in capsys.readouterr().err


_LOG_AND_EXIT = """
import logging
from producers import EventHandler, ProducerSettings

settings = ProducerSettings(
    kafka_bootstrap="127.0.0.1:1",  # nobody listens: Kafka is down for the whole run
    producer_handler_close_timeout=0.1,
    producer_delivery_timeout_ms=600_000,
)
logging.getLogger().addHandler(EventHandler("orders", settings=settings))
logging.getLogger().warning("never delivered")
"""


def test_a_down_kafka_holds_the_exit_only_for_the_handler_close_timeout() -> None:
    # The producers' atexit hook runs before logging.shutdown (atexit is last in, first
    # out): it used to close the handler's own producer with the default wait, ten minutes
    # here, instead of leaving it to the handler's bounded close.
    done = subprocess.run(
        [sys.executable, "-c", _LOG_AND_EXIT],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard, not a measure: the bounded close takes 0.1 s
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 log event(s) not delivered at close" in done.stderr
    assert "not closed cleanly" not in done.stderr


_CLOSE_TIMEOUT = 4.0  # long enough that teardown on a slow machine stays well inside 1.6x
_LOG_AND_TIME_THE_EXIT = f"""
import logging, time
from producers import EventHandler, ProducerSettings

settings = ProducerSettings(
    kafka_bootstrap="127.0.0.1:1",  # nobody listens: Kafka is down for the whole run
    producer_handler_close_timeout={_CLOSE_TIMEOUT},
    producer_delivery_timeout_ms=600_000,
)
logging.getLogger().addHandler(EventHandler("orders", settings=settings))
logging.getLogger().warning("never delivered")
print(time.time(), flush=True)  # the exit starts: logging.shutdown flushes, then closes
"""


def test_exit_with_kafka_down_takes_about_one_close_timeout_in_all() -> None:
    # logging.shutdown calls flush() and then close(); each used to wait the full timeout.
    done = subprocess.run(
        [sys.executable, "-c", _LOG_AND_TIME_THE_EXIT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    exit_took = time.time() - float(done.stdout)
    assert done.returncode == 0, done.stderr
    assert "1 log event(s) not delivered at close" in done.stderr
    assert _CLOSE_TIMEOUT * 0.9 < exit_took < _CLOSE_TIMEOUT * 1.6


def test_the_producers_own_records_never_wait_for_the_handler_lock(make_producer: Factory) -> None:
    # logging.shutdown holds the handler's lock while close() joins the producer's poll
    # thread; that thread logs librdkafka's lines and delivery failures (producers.*): had
    # they waited for the lock, the process would hang at exit.
    handler = EventHandler("orders", producer=make_producer())
    record = logging.LogRecord("producers.kafka", logging.ERROR, __file__, 1, "down", (), None)
    poll_thread = threading.Thread(target=handler.handle, args=(record,), daemon=True)
    handler.acquire()
    try:
        poll_thread.start()
        poll_thread.join(timeout=30)  # a hang guard: turned away, it returns at once
        assert not poll_thread.is_alive()
    finally:
        handler.release()
    poll_thread.join()


def test_records_after_a_fatal_kafka_error_are_dropped_quietly(
    make_producer: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fatal error ends the producer (ProducerFailed), like a close: the handler counts
    # what it cannot ship instead of printing a "Logging error" traceback per record.
    producer = make_producer()
    handler = EventHandler("orders", producer=producer)
    producer._errors(MemoryKafkaError("Local: Fatal error", is_fatal=True))
    for i in range(3):
        handler.handle(logging.LogRecord("app", logging.INFO, __file__, 1, f"m{i}", (), None))
    assert handler.dropped == 3
    assert "Logging error" not in capsys.readouterr().err
