"""Serving the API with uvicorn: the app factory each worker process calls, and ``serve``."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from eventpipe.logs import configure, get_logger
from eventpipe.startup import clickhouse_migrated
from query_api.app import create_app
from query_api.settings import ApiSettings

__all__ = ["build", "serve"]

log = get_logger(__name__)


def build() -> FastAPI:
    """uvicorn's factory: settings from the environment, logging, then the app.

    Called once per worker process; ClickHouse is opened by the app's lifespan.
    """
    settings = ApiSettings()
    configure(settings, service="api")
    return create_app(settings)


def serve(settings: ApiSettings, *, host: str, port: int, workers: int) -> None:
    """Run uvicorn until SIGINT/SIGTERM (it installs the handlers). Blocking.

    Waits up to ``api_startup_timeout`` for ClickHouse first: when it does not answer, or
    its database is not migrated, raises :class:`~eventpipe.startup.StartupFailed` saying
    so, before any port is bound (each worker process's lifespan checks again that the
    server answers, as it opens its own connections).
    """
    configure(settings, service="api")
    clickhouse_migrated(settings, settings.api_startup_timeout)
    log.info("serving the read API", host=host, port=port, workers=workers)
    uvicorn.run(
        "query_api.server:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # keep eventpipe's structured logging
        timeout_graceful_shutdown=10,
    )
