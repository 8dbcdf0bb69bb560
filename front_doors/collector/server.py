"""Serving the collector with uvicorn: the app factory each worker process calls, and ``serve``."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from eventpipe.logs import configure
from front_doors.collector.app import create_app
from front_doors.collector.settings import CollectorSettings

__all__ = ["build", "serve"]


def build() -> FastAPI:
    """uvicorn's factory: settings from the environment, logging, then the app.

    Called once per worker process; the producer is opened by the app's lifespan.
    """
    settings = CollectorSettings()
    configure(settings, service="collector")
    return create_app(settings)


def serve(settings: CollectorSettings) -> None:
    """Run uvicorn until SIGINT/SIGTERM (it installs the handlers). Blocking.

    Worker processes build their own settings from the environment: pass overrides
    through ``EVENTPIPE_COLLECTOR_*`` variables, not through ``settings``.
    """
    configure(settings, service="collector")
    uvicorn.run(
        "front_doors.collector.server:build",
        factory=True,
        host=settings.collector_host,
        port=settings.collector_port,
        workers=settings.collector_workers,
        log_config=None,  # keep eventpipe's structured logging
        timeout_graceful_shutdown=30,
    )
