"""Start-up checks shared by the entry points: is Kafka there, does the topic exist."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from clickhouse_driver.errors import Error as ClickHouseError
from clickhouse_driver.errors import SocketTimeoutError
from confluent_kafka import KafkaError, KafkaException

from eventpipe.config import ClickHouseConnection, KafkaConnection
from eventpipe.kafka import describe_topics
from events.errors import FatalError
from storage.client import connect, wait_until_ready
from storage.migrations import applied_versions, latest_version

__all__ = [
    "StartupFailed",
    "clickhouse_migrated",
    "naming_the_service",
    "one_line",
    "require_topics",
    "wait_for_topic",
]


class StartupFailed(FatalError):
    """A dependency did not answer in time, or is missing (e.g. the topic)."""


def wait_for_topic(settings: KafkaConnection, timeout: float) -> None:
    """Wait until Kafka answers and the ingest topic exists. Blocking.

    Raises :class:`StartupFailed` naming the problem after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    conf = settings.librdkafka_security()
    while True:
        try:
            if describe_topics(conf, [settings.topic], timeout=5.0):
                return
            problem = f"topic {settings.topic} does not exist (run `eventpipe topics create`)"
        except Exception as exc:  # KafkaException: the broker is not reachable yet
            problem = f"Kafka at {settings.kafka_bootstrap} not reachable: {_kafka_text(exc)}"
        if time.monotonic() >= deadline:
            raise StartupFailed(problem)
        time.sleep(0.5)


def require_topics(settings: KafkaConnection, names: list[str], *, timeout: float = 10.0) -> None:
    """Raise :class:`StartupFailed` naming the topics of ``names`` that do not exist."""
    with naming_the_service(kafka=settings):
        found = {
            t.name for t in describe_topics(settings.librdkafka_security(), names, timeout=timeout)
        }
    missing = [name for name in names if name not in found]
    if missing:
        raise StartupFailed(
            f"topic {', '.join(missing)} does not exist on Kafka at {settings.kafka_bootstrap}"
        )


@contextmanager
def naming_the_service(
    *, kafka: KafkaConnection | None = None, clickhouse: ClickHouseConnection | None = None
) -> Iterator[None]:
    """Turn a client library's error into :class:`StartupFailed` naming the service and its
    address (never a password), for one-shot commands that talk to it once."""
    try:
        yield
    except KafkaException as exc:
        if kafka is None:
            raise
        raise StartupFailed(f"Kafka at {kafka.kafka_bootstrap}: {_kafka_text(exc)}") from exc
    except (ClickHouseError, OSError, EOFError) as exc:
        if clickhouse is None:
            raise
        if isinstance(exc, SocketTimeoutError):  # connected, but no reply in time
            text = (
                "connected, but no answer in time; is it the port of the native protocol "
                "(9000 by default), not HTTP's (8123)?"
            )
        else:
            text = one_line(exc)
        raise StartupFailed(f"ClickHouse at {clickhouse.clickhouse_address()}: {text}") from exc


def _kafka_text(exc: BaseException) -> str:
    """Kafka's reason, not the repr of its KafkaError (``KafkaError{code=...,str="..."}``)."""
    error = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    return error.str() if isinstance(error, KafkaError) else one_line(exc)


def one_line(exc: BaseException) -> str:
    """The text of ``exc`` on one line, for an operator's error message.

    ClickHouse servers (18.16 always) append their C++ stack trace to an exception's text:
    dozens of lines of frames that say nothing to the operator.
    """
    text = str(exc).split("Stack trace:", 1)[0]
    return " ".join(text.split()) or type(exc).__name__


def clickhouse_migrated(settings: ClickHouseConnection, timeout: float) -> None:
    """Wait (up to ``timeout`` seconds) until ClickHouse answers, then check that its
    database holds every migration. Raises :class:`StartupFailed` naming the server (see
    :func:`naming_the_service`) or saying what to run: a service started on a missing or
    older schema would fail on every insert or read instead."""
    with naming_the_service(clickhouse=settings):
        wait_until_ready(settings, timeout)
        client = connect(settings)
        try:
            migrated = latest_version() in applied_versions(client, settings.clickhouse_database)
        finally:
            client.disconnect()
    if not migrated:
        raise StartupFailed(
            f"ClickHouse database {settings.clickhouse_database} is not migrated: "
            "run `eventpipe migrate`"
        )
