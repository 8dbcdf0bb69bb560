"""Hostile input to the producer and the logging handler: a clear error or a shipped event,
never a stray exception type, a lost record or a half-accepted batch."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from events.errors import InvalidEvent
from producers import AsyncEventProducer, EventHandler, MemoryKafka
from producers.records import record_event
from producers.shapes import exception_data
from tests.unit.producers.conftest import Factory, delivered, settings


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ... {}}}``, ``depth`` levels: past what any JSON encoder recurses into."""
    top: dict[str, Any] = {}
    inner = top
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return top


class StrRaises(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": "file \udcff.txt"}, "message"),
        ({"message": "m", "user": "\ud800"}, "user"),
        ({"message": "m", "data": {"path": ["ok", "x\udc80"]}}, "data.path.1"),
        ({"message": "m", "data": {"k\ud800": 1}}, "data"),
        ({"message": "m", "data": nested(5_000)}, "data"),
    ],
)
def test_text_that_is_not_unicode_or_data_nested_too_deep_is_invalid_naming_the_field(
    make_producer: Factory, kafka: MemoryKafka, fields: dict[str, Any], field: str
) -> None:
    producer = make_producer()
    with pytest.raises(InvalidEvent) as caught:
        producer.emit({"component": "c", **fields})
    assert caught.value.field == field and caught.value.code == "invalid_field"
    producer.emit({"component": "c", "message": "next"})  # the producer is unharmed
    producer.flush()
    assert [e.message for e in delivered(kafka)] == ["next"]


def test_emit_many_with_an_unencodable_event_keeps_those_before_it(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer()
    batch = [
        {"component": "c", "message": "first"},
        {"component": "c", "message": "m", "data": nested(5_000)},
        {"component": "c", "message": "never"},
    ]
    with pytest.raises(InvalidEvent, match="data"):
        producer.emit_many(batch)
    producer.flush()
    assert [e.message for e in delivered(kafka)] == ["first"]


async def test_emit_each_settles_unencodable_items_and_delivers_their_neighbours(
    kafka: MemoryKafka,
) -> None:
    async with AsyncEventProducer(settings(producer_linger_ms=1), kafka=kafka) as producer:
        results = await producer.emit_each(
            [
                {"component": "c", "message": "kept"},
                {"component": "c", "message": "\ud800"},
                {"component": "c", "message": "m", "data": nested(5_000)},
                {"component": "c", "message": "kept too"},
            ]
        )
    assert [type(r) for r in results] == [str, InvalidEvent, InvalidEvent, str]
    assert [e.message for e in delivered(kafka)] == ["kept", "kept too"]


def test_an_exception_whose_str_raises_is_still_reported(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    producer = make_producer()
    try:
        raise StrRaises
    except StrRaises as exc:
        producer.error("c", "it failed", exc)
    producer.flush()
    (event,) = delivered(kafka)
    assert event.data is not None
    assert event.data["exception"]["type"].endswith("StrRaises")
    assert "str() failed" in event.data["exception"]["message"]
    assert exception_data(StrRaises())["traceback"]


# -- the logging handler --------------------------------------------------------------------


class Unprintable:
    def __str__(self) -> str:
        raise ValueError("no text for you")


def _ship(make_producer: Factory, logger: logging.Logger) -> EventHandler:
    handler = EventHandler("orders", producer=make_producer())
    logger.addHandler(handler)
    return handler


def test_records_with_odd_extras_are_shipped_not_lost(
    make_producer: Factory, kafka: MemoryKafka, logger: logging.Logger
) -> None:
    handler = _ship(make_producer, logger)
    record = logger.makeRecord(
        logger.name, logging.INFO, "f.py", 1, "odd extras", (), None, extra={7: "int key"}
    )
    logger.handle(record)
    logger.info("unprintable", extra={"thing": Unprintable(), "ratio": math.nan})
    logger.info("infinite", extra={"data": {"limit": math.inf}})
    handler.producer.flush()
    by_message = {e.message: e.data or {} for e in delivered(kafka)}
    assert by_message["odd extras"]["7"] == "int key"
    assert "Unprintable" in by_message["unprintable"]["thing"]
    assert by_message["unprintable"]["ratio"] == "nan"
    assert by_message["infinite"]["limit"] == "inf"


def test_a_message_that_cannot_be_formatted_is_shipped_as_written(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    handler = EventHandler("orders", producer=make_producer())
    # Straight to the handler: other handlers (pytest's) would fail on the format too.
    handler.handle(logging.LogRecord("app", logging.INFO, "f.py", 1, "%d items", ("many",), None))
    handler.producer.flush()
    (event,) = delivered(kafka)
    assert event.message == "%d items"
    assert event.data is not None and event.data["args"] == "('many',)"
    assert "format" in event.data["format_error"]


def test_an_exception_whose_str_raises_is_shipped(
    make_producer: Factory, kafka: MemoryKafka, logger: logging.Logger
) -> None:
    handler = _ship(make_producer, logger)
    try:
        raise StrRaises
    except StrRaises:
        logger.exception("boom")
    handler.producer.flush()
    (event,) = delivered(kafka)
    assert (event.kind, event.message) == ("error", "boom")


def test_text_that_is_not_unicode_is_shipped_escaped(
    make_producer: Factory, kafka: MemoryKafka, logger: logging.Logger
) -> None:
    handler = _ship(make_producer, logger)
    logger.warning("cannot read %s", "caf\udce9.txt", extra={"user": "\ud800bob"})
    handler.producer.flush()
    (event,) = delivered(kafka)
    assert event.message == "cannot read caf\\udce9.txt"
    assert event.user == "\\ud800bob"


def test_a_record_the_contract_refuses_is_shipped_with_the_reason(
    make_producer: Factory, kafka: MemoryKafka, logger: logging.Logger
) -> None:
    handler = _ship(make_producer, logger)
    logger.error("who?", extra={"user": "u" * 1_000, "order": 7})
    logger.error("huge", extra={"blob": "x" * 200_000})
    handler.producer.flush()
    who, huge = delivered(kafka)
    assert (who.message, who.severity, who.user) == ("who?", "ERROR", None)
    assert who.data is not None and "user" in who.data["unshipped"]
    assert huge.message == "huge" and huge.data is not None and "bytes" in huge.data["unshipped"]
    assert handler.dropped == 0


def test_record_event_never_raises_for_a_bad_format() -> None:
    record = logging.LogRecord("app", logging.INFO, "f.py", 1, "%s %s", ("only one",), None)
    assert record_event("c", record)["message"] == "%s %s"


@pytest.mark.parametrize("data", [[1, 2], "text", 7])
def test_error_with_an_exception_and_data_that_is_not_an_object_is_invalid(
    make_producer: Factory, data: Any
) -> None:
    # The exception goes into data: a data that is not a mapping used to raise a TypeError
    # ("'list' object is not a mapping"), which an `except ValueError` does not catch.
    producer = make_producer()
    with pytest.raises(InvalidEvent) as caught:
        producer.error("c", "it failed", ValueError("boom"), data=data)
    assert caught.value.field == "data"
    with pytest.raises(InvalidEvent):
        producer.bind("c").error("it failed", ValueError("boom"), data=data)
