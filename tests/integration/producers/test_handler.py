"""The logging handler on the real broker, and with Kafka unreachable."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import pytest
from confluent_kafka import KafkaError

from producers import EventHandler
from tests.integration.producers.conftest import read_events


def test_records_and_exceptions_arrive_as_events(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str, logger: logging.Logger
) -> None:
    handler = EventHandler("checkout", settings=make_settings())
    logger.addHandler(handler)
    logger.debug("cart %s opened", "c-1", extra={"user": "ann@example.com", "items": 3})
    stock: dict[str, int] = {}
    try:
        stock["missing"]
    except KeyError:
        logger.exception("checkout failed")
    logger.removeHandler(handler)
    handler.close()

    (_, events), *rest = read_events(kafka_conf, topic)
    assert rest == []
    debug, error = events
    assert (debug.component, debug.severity, debug.kind) == ("checkout", "DEBUG", "log")
    assert (debug.message, debug.user) == ("cart c-1 opened", "ann@example.com")
    assert debug.data is not None and debug.data["items"] == 3
    assert debug.function == "test_records_and_exceptions_arrive_as_events"
    assert (error.kind, error.severity, error.message) == ("error", "ERROR", "checkout failed")
    assert error.data is not None
    assert "KeyError: 'missing'" in error.data["exception"]["traceback"]


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def test_unreachable_kafka_buffers_to_the_bound_drops_past_it_and_warns_once(
    make_settings: Any, logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        kafka_bootstrap=f"127.0.0.1:{closed_port()}",
        producer_handler_capacity=10,
        producer_handler_close_timeout=0.2,
    )
    handler = EventHandler("checkout", settings=settings)
    down = threading.Event()
    handler.producer.add_error_listener(
        lambda error: down.set() if error.code() == KafkaError._ALL_BROKERS_DOWN else None
    )
    logger.addHandler(handler)
    for i in range(25):
        logger.warning("while down %d", i)  # returns at once: nothing waits for Kafka
    assert down.wait(30), "librdkafka never reported the brokers down"
    for i in range(5):
        logger.error("still down %d", i)
    assert handler.dropped == 20 and handler.producer.stats().pending == 10

    logger.removeHandler(handler)
    handler.close()
    err = capsys.readouterr().err
    assert err.count("Kafka unreachable") == 1
    assert "10 log event(s) not delivered at close" in err
    assert "20 log record(s) dropped" in err
