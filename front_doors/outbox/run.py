"""The relay process: wait for PostgreSQL and Kafka, build, run until stopped (or once).

Thin wiring only; :mod:`front_doors.outbox.relay` holds the logic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg

from front_doors.counters import MetricsServer
from front_doors.deadletters import KafkaDeadLetters
from front_doors.outbox.relay import Connect, Relay
from front_doors.outbox.settings import OutboxSettings
from front_doors.startup import StartupFailed, stop_on_signals, wait_for_topic
from producers import AsyncEventProducer

__all__ = ["connector", "run_relay", "wait_for_postgres"]

_log = logging.getLogger("front_doors.outbox")
_CLOSE_TIMEOUT = 60.0


def connector(settings: OutboxSettings) -> Connect:
    """The relay's ``connect``: a fresh autocommit connection per run."""
    dsn = settings.postgres_dsn.get_secret_value()

    async def connect() -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=10)

    return connect


def wait_for_postgres(settings: OutboxSettings, timeout: float) -> None:
    """Wait until PostgreSQL accepts a connection. Blocking; raises :class:`StartupFailed`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(settings.postgres_dsn.get_secret_value(), connect_timeout=5):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() >= deadline:
                raise StartupFailed(f"PostgreSQL not reachable: {exc}".strip()) from None
        time.sleep(0.5)


def run_relay(settings: OutboxSettings, *, once: bool) -> int:
    """Run the relay until SIGINT/SIGTERM (or one run with ``once``). Blocking.

    Returns the exit status: 0, or 1 when ``once`` left rows undelivered. Raises
    :class:`StartupFailed` when PostgreSQL or Kafka do not answer in time.
    """
    wait_for_postgres(settings, settings.outbox_startup_timeout)
    wait_for_topic(settings, settings.outbox_startup_timeout)
    return asyncio.run(_main(settings, once=once))


async def _main(settings: OutboxSettings, *, once: bool) -> int:
    stop = asyncio.Event()
    producer = AsyncEventProducer(settings)
    dead = KafkaDeadLetters(settings, key="outbox", client_id=settings.producer_client_id)
    relay = Relay(settings, connect=connector(settings), producer=producer, dead_letters=dead)
    server = _serve_metrics(relay, settings)
    try:
        with stop_on_signals(asyncio.get_running_loop(), stop.set):
            if once:
                report = await relay.run_once()
                _log.info("outbox run: %s", report.describe())
                return 0 if report.clean else 1
            await relay.run_forever(stop)
            return 0
    finally:
        await producer.close(_CLOSE_TIMEOUT)
        await dead.close(_CLOSE_TIMEOUT)
        if server is not None:
            server.close()
        _log.info("outbox relay stopped: %s", relay.counters.snapshot())


def _serve_metrics(relay: Relay, settings: OutboxSettings) -> MetricsServer | None:
    port = settings.outbox_metrics_port
    return None if port is None else relay.counters.serve(port)
