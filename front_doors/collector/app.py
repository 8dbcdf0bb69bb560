"""``create_app(settings)``: the HTTP collector, its lifespan and its error responses.

Nothing is built at import time. The lifespan reads the token table, waits (bounded by
``collector_startup_timeout``) for Kafka and the ingest topic, opens the producer, and on
shutdown closes it — which delivers every event already accepted. Tests may pass their own
``producer`` (e.g. over :class:`~producers.MemoryKafka`; the app then neither waits for
Kafka nor closes it) and ``tokens``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from eventpipe.logs import get_logger
from front_doors.collector.errors import CollectorError
from front_doors.collector.metrics import Metrics, MetricsMiddleware
from front_doors.collector.routes import router
from front_doors.collector.settings import CollectorSettings
from front_doors.collector.tokens import WriteTokens
from front_doors.startup import wait_for_topic
from producers import AsyncEventProducer

__all__ = ["create_app"]

log = get_logger(__name__)
_DESCRIPTION = """Publish events over HTTP, for systems that cannot embed a Kafka client.
Every ingest route needs `Authorization: Bearer <token>`; a token writes the components it
was given. A 202 means Kafka acknowledged every accepted event. See docs/collector.md."""


def create_app(
    settings: CollectorSettings,
    *,
    producer: AsyncEventProducer | None = None,
    tokens: WriteTokens | None = None,
) -> FastAPI:
    """The collector for ``settings``; Kafka is reached when the app starts, not here."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.tokens = tokens if tokens is not None else WriteTokens.from_settings(settings)
        if not len(app.state.tokens) and not settings.collector_allow_anonymous:
            log.warning("no write tokens configured: every ingest request will get 401")
        if producer is not None:
            app.state.producer = producer
            yield
            return
        await asyncio.to_thread(wait_for_topic, settings, settings.collector_startup_timeout)
        app.state.producer = AsyncEventProducer(settings)
        try:
            yield
        finally:
            # Deliver what was accepted; requests still waiting get their answers first.
            await app.state.producer.close()

    app = FastAPI(
        title="eventpipe collector",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
        root_path=settings.collector_root_path,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.include_router(router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def collector_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CollectorError)
        return JSONResponse(exc.body(), exc.status, headers=exc.headers())

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        body = {"error": "http_error", "message": str(exc.detail)}
        return JSONResponse(body, exc.status_code, headers=exc.headers)

    async def disconnected(request: Request, exc: Exception) -> JSONResponse:
        # The client left while sending its body: nothing was published, nobody to answer.
        return JSONResponse({"error": "client_disconnected", "message": "incomplete body"}, 400)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return JSONResponse({"error": "internal_error", "message": "internal error"}, 500)

    app.add_exception_handler(CollectorError, collector_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(ClientDisconnect, disconnected)
    app.add_exception_handler(Exception, unexpected)
