"""``eventpipe worker``: logging → settings → wait for dependencies → build → run.

Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 2 when a dependency is missing or
misconfigured at start (Kafka, the topic, ClickHouse, the schema), 3 when the
invalid-ratio guard stopped the worker, 1 when a batch failed for a reason no retry mends
(nothing after it was written; everything is redelivered after the restart).
"""

from __future__ import annotations

import gc
import signal

import faust

from eventpipe.logs import configure, get_logger
from eventpipe.startup import StartupFailed, clickhouse_migrated, wait_for_topic
from events.errors import InvalidRatioExceeded
from stream_processors.app import EXIT_GUARD, create_app
from stream_processors.settings import WorkerSettings

__all__ = ["check_dependencies", "run_worker"]

log = get_logger(__name__)


def check_dependencies(settings: WorkerSettings) -> None:
    """Wait (bounded by ``worker_startup_timeout``) for ClickHouse, check its schema, then
    wait for Kafka and the ingest topic. Raises :class:`StartupFailed` naming the problem
    (never a password)."""
    clickhouse_migrated(settings, settings.worker_startup_timeout)
    wait_for_topic(settings, settings.worker_startup_timeout)


def _exit_now(signum: int, _frame: object) -> None:
    # Until Faust installs its own handlers, a SIGTERM/SIGINT means "stop starting".
    raise SystemExit(0)


def run_worker(settings: WorkerSettings) -> int:
    """Run one worker until it is stopped; return the process exit code."""
    signal.signal(signal.SIGTERM, _exit_now)
    configure(settings, service="worker")
    try:
        check_dependencies(settings)
    except StartupFailed as exc:
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
