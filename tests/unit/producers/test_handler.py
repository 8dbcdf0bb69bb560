"""The logging handler: records become events; a bounded buffer; never blocks."""

from __future__ import annotations

import logging

import pytest

from events.wire import validate_wire
from producers import EventHandler, EventProducer, MemoryKafka
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
