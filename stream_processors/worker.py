"""``eventpipe worker``: logging → settings → wait for dependencies → build → run.

Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 2 when a dependency is missing or
misconfigured at start (Kafka, the topic, ClickHouse, the schema), 3 when the
invalid-ratio guard stopped the worker.
"""

from __future__ import annotations

import gc
import signal

import faust

from eventpipe.kafka import describe_topics
from eventpipe.logs import configure, get_logger
from events.errors import InvalidRatioExceeded
from storage.client import connect, wait_until_ready
from storage.migrations import applied_versions, latest_version
from stream_processors.app import EXIT_GUARD, create_app
from stream_processors.settings import WorkerSettings

__all__ = ["StartupError", "check_dependencies", "run_worker"]

log = get_logger(__name__)


class StartupError(Exception):
    """A dependency is missing at start; the message says which and what to do."""


def check_dependencies(settings: WorkerSettings) -> None:
    """Wait (bounded) for ClickHouse and Kafka; check the schema and the topics exist."""
    client = connect(settings)
    try:
        wait_until_ready(client, settings.worker_startup_timeout)
        if latest_version() not in applied_versions(client, settings.clickhouse_database):
            raise StartupError(
                f"ClickHouse database {settings.clickhouse_database} is not migrated: "
                "run `eventpipe migrate`"
            )
    except StartupError:
        raise
    except Exception as exc:
        raise StartupError(
            f"ClickHouse at {settings.clickhouse_address()} is not reachable: {exc}"
        ) from exc
    finally:
        client.disconnect()
    try:
        found = describe_topics(
            settings.librdkafka_security(),
            [settings.topic],
            timeout=settings.worker_startup_timeout,
        )
    except Exception as exc:
        raise StartupError(f"Kafka at {settings.kafka_bootstrap} is not reachable: {exc}") from exc
    if not found:
        raise StartupError(f"topic {settings.topic} does not exist: run `eventpipe topics create`")


def _exit_now(signum: int, _frame: object) -> None:
    # Until Faust installs its own handlers, a SIGTERM/SIGINT means "stop starting".
    raise SystemExit(0)


def run_worker(settings: WorkerSettings) -> int:
    """Run one worker until it is stopped; return the process exit code."""
    signal.signal(signal.SIGTERM, _exit_now)
    configure(settings, service="worker")
    try:
        check_dependencies(settings)
    except StartupError as exc:
        log.error("cannot start", reason=str(exc))
        return 2
    app = create_app(settings)
    # Everything built so far lives as long as the process: keep it out of every collection,
    # and collect the young generation less often (see worker_gc_threshold).
    gc.freeze()
    gc.set_threshold(settings.worker_gc_threshold, 20, 50)
    log.info(
        "worker starting",
        group=settings.worker_group,
        topic=settings.topic,
        web_port=settings.worker_web_port,
        batch_max_rows=settings.worker_batch_max_rows,
    )
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.lower(),
        override_logging=False,
        quiet=True,
        redirect_stdouts=False,
    )
    app.stop_deadline = (
        settings.worker_shutdown_grace_seconds + settings.worker_stop_timeout_seconds
    )
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    else:  # pragma: no cover - execute_from_commandline always raises SystemExit
        code = 0
    finally:
        if app.hard_stop is not None:
            app.hard_stop.cancel()
    if isinstance(app.fatal, InvalidRatioExceeded):
        return EXIT_GUARD
    return code
