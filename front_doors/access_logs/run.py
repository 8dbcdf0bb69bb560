"""The receiver process: wait for Kafka, build, serve TCP or follow a file until stopped.

Thin wiring only. On SIGINT/SIGTERM the TCP server stops accepting, every connection ends
at its last complete line, and the producer delivers what was accepted before the
process exits; the follower saves its position after Kafka acknowledged everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from front_doors.access_logs.follow import FileFollower
from front_doors.access_logs.publisher import AccessPublisher
from front_doors.access_logs.settings import AccessLogSettings
from front_doors.access_logs.tcp import TcpReceiver
from front_doors.deadletters import DeadLetters, KafkaDeadLetters
from front_doors.startup import stop_on_signals, wait_for_topic
from producers import AsyncEventProducer

__all__ = ["run_access_logs", "serve"]

_log = logging.getLogger("front_doors.access_logs")
_CLOSE_TIMEOUT = 60.0


def run_access_logs(settings: AccessLogSettings) -> None:
    """Serve (or follow) until SIGINT/SIGTERM. Blocking.

    Raises :class:`~front_doors.startup.StartupFailed` when Kafka or the topic are not
    there in time, ``OSError`` when the port cannot be bound or the file read.
    """
    wait_for_topic(settings, settings.access_startup_timeout)
    asyncio.run(_main(settings))


async def _main(settings: AccessLogSettings) -> None:
    stop = asyncio.Event()
    with stop_on_signals(asyncio.get_running_loop(), stop.set):
        await serve(settings, stop)


async def serve(
    settings: AccessLogSettings,
    stop: asyncio.Event,
    *,
    producer: AsyncEventProducer | None = None,
    dead_letters: DeadLetters | None = None,
    publisher_ready: Callable[[AccessPublisher], None] | None = None,
    on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Run the receiver on the current loop until ``stop`` is set; then deliver and close.

    ``producer`` and ``dead_letters`` replace the ones made from ``settings`` (and are not
    closed here: their owner closes them); ``publisher_ready`` sees the publisher (its
    counters); ``on_listening`` gets the TCP address bound. For tests, benchmarks and
    embedding.
    """
    own_producer, own_dead = producer is None, dead_letters is None
    if producer is None:
        producer = AsyncEventProducer(settings)
    dead = dead_letters
    if dead is None:
        dead = KafkaDeadLetters(
            settings, key=settings.access_component, client_id=settings.producer_client_id
        )
    publisher = AccessPublisher(
        producer, dead, settings.access_component, max_line=settings.access_max_line_bytes
    )
    if publisher_ready is not None:
        publisher_ready(publisher)
    metrics = (
        None
        if settings.access_metrics_port is None
        else (publisher.counters.serve(settings.access_metrics_port))
    )
    try:
        if settings.access_follow is not None:
            await FileFollower(settings, publisher, producer, dead).run(stop)
        else:
            await _serve_tcp(settings, publisher, stop, on_listening)
    finally:
        if own_producer:
            await producer.close(_CLOSE_TIMEOUT)
        if own_dead:
            await dead.close(_CLOSE_TIMEOUT)
        if metrics is not None:
            metrics.close()
        _log.info("access-log receiver stopped: %s", publisher.counters.snapshot())


async def _serve_tcp(
    settings: AccessLogSettings,
    publisher: AccessPublisher,
    stop: asyncio.Event,
    on_listening: Callable[[str, int], None] | None,
) -> None:
    receiver = TcpReceiver(settings, publisher)
    host, port = await receiver.start()
    _log.info("access-log receiver listening on %s:%d", host, port)
    if on_listening is not None:
        on_listening(host, port)
    try:
        await stop.wait()
    finally:
        await receiver.close(settings.access_shutdown_grace_seconds)
