"""The logging handler on the real broker, and with Kafka unreachable."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
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


def _wait_for_child(pid: int, guard: float = 60.0) -> int:
    """The child's exit status; a child still running after ``guard`` s is killed (1)."""
    deadline = time.monotonic() + guard
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return 1


def test_a_forked_child_ships_its_records_through_a_producer_of_its_own(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str, logger: logging.Logger
) -> None:
    # Logging configured before the workers fork (multiprocessing, gunicorn --preload,
    # celery prefork): librdkafka's threads stay behind in the parent, so the child's
    # records used to go into a producer that could never deliver them.
    handler = EventHandler("checkout", settings=make_settings())
    logger.addHandler(handler)
    logger.warning("from the parent")
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only, and never return
        code = 3
        try:
            logger.warning("from the child")
            handler.close()  # what logging.shutdown does when the worker exits
            code = 0 if handler.producer.stats().delivered == 1 else 2
        finally:
            os._exit(code)
    assert _wait_for_child(pid) == 0
    logger.removeHandler(handler)
    handler.close()
    messages = sorted(
        e.message or "" for _, events in read_events(kafka_conf, topic) for e in events
    )
    assert messages == ["from the child", "from the parent"]


def _log_from_a_worker(logger_name: str) -> None:
    logging.getLogger(logger_name).warning("from the worker")


def test_a_multiprocessing_worker_ships_its_records_before_it_exits(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str, logger: logging.Logger
) -> None:
    # A multiprocessing child ends with os._exit: neither atexit nor logging.shutdown runs
    # there, so its records must be delivered by multiprocessing's own exit finalizers.
    handler = EventHandler("checkout", settings=make_settings())
    logger.addHandler(handler)
    worker = multiprocessing.get_context("fork").Process(
        target=_log_from_a_worker, args=(logger.name,)
    )
    worker.start()
    worker.join(timeout=60)  # a hang guard
    if worker.is_alive():
        worker.kill()
    assert worker.exitcode == 0
    logger.removeHandler(handler)
    handler.close()
    messages = [e.message for _, events in read_events(kafka_conf, topic) for e in events]
    assert messages == ["from the worker"]
