"""Serving the API with uvicorn: the app factory each worker process calls, and ``serve``."""

from __future__ import annotations

from typing import Any

import uvicorn
from clickhouse_driver.errors import ServerException
from fastapi import FastAPI

from eventpipe.logs import configure, get_logger
from eventpipe.startup import StartupFailed, clickhouse_migrated, one_line
from query_api.app import create_app
from query_api.settings import ApiSettings
from storage.client import connect

__all__ = ["build", "check_read_settings", "serve"]

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
    its database is not migrated, or it refuses ``api_clickhouse_settings``, raises
    :class:`~eventpipe.startup.StartupFailed` saying so, before any port is bound (each
    worker process's lifespan checks again that the server answers, as it opens its own
    connections).
    """
    configure(settings, service="api")
    clickhouse_migrated(settings, settings.api_startup_timeout)
    check_read_settings(settings)
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


def check_read_settings(settings: ApiSettings) -> None:
    """Raise :class:`StartupFailed` when ClickHouse would not apply ``api_clickhouse_settings``
    to the reads: a name it does not know (old servers ignore those, current ones refuse
    every read), or a value or user it refuses.

    Run after the server answered (the refusal is the server's own, never a timeout).
    """
    names = sorted(settings.api_clickhouse_settings)
    if not names:
        return
    extra: dict[str, Any] = dict(settings.api_clickhouse_settings)
    client = connect(settings, **extra)
    refused = (
        f"ClickHouse at {settings.clickhouse_address()} refused EVENTPIPE_API_CLICKHOUSE_SETTINGS"
    )
    try:
        rows = client.execute(
            "SELECT name FROM system.settings WHERE name IN %(names)s", {"names": tuple(names)}
        )
    except ServerException as exc:
        raise StartupFailed(f"{refused}: {one_line(exc)}") from exc
    finally:
        client.disconnect()
    unknown = sorted(set(names) - {name for (name,) in rows})
    if unknown:
        raise StartupFailed(f"{refused}: no such setting: {', '.join(unknown)}")
