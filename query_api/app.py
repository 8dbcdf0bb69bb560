"""``create_app(settings)``: the read API, its lifespan and its error responses.

Nothing is built at import time. The lifespan reads the token table, opens the ClickHouse
store (waiting at most ``api_startup_timeout`` for the server) and closes it on shutdown.
Tests may pass their own ``repository`` (e.g. the in-memory twin) and ``tokens``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from eventpipe.logs import get_logger
from query_api.auth import TokenTable
from query_api.clickhouse_repository import ClickHouseEventsRepository
from query_api.errors import ApiError
from query_api.metrics import Metrics, MetricsMiddleware
from query_api.repository import EventsRepository
from query_api.routes import events_router, health_router, stats_router
from query_api.settings import ApiSettings
from query_api.store import ClickHouseStore

__all__ = ["create_app"]

log = get_logger(__name__)
_DESCRIPTION = """Read events stored by eventpipe: filters, a small query language, keyset
pages, statistics. Every data route needs `Authorization: Bearer <token>`; a token reads the
components it was given. See docs/api.md for the query language and the token file."""


def create_app(
    settings: ApiSettings,
    *,
    repository: EventsRepository | None = None,
    tokens: TokenTable | None = None,
) -> FastAPI:
    """The API for ``settings``; ClickHouse is opened when the app starts, not here."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.tokens = tokens if tokens is not None else TokenTable.from_settings(settings)
        if not len(app.state.tokens) and not settings.api_allow_anonymous:
            log.warning("no API tokens configured: every data request will get 401")
        if repository is not None:
            app.state.repository = repository
            yield
            return
        store = ClickHouseStore(
            settings,
            threads=settings.api_clickhouse_threads,
            query_timeout=settings.api_query_timeout,
            query_settings=settings.api_clickhouse_settings,
            observe=metrics.observe_query,
        )
        try:
            caps = await store.start(settings.api_startup_timeout)
            log.info("clickhouse ready", version=str(caps.version))
            app.state.repository = ClickHouseEventsRepository(
                store, settings.clickhouse_database, max_buckets=settings.api_max_buckets
            )
            yield
        finally:
            await store.close()

    app = FastAPI(
        title="eventpipe read API",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
        root_path=settings.api_root_path,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for router in (events_router, stats_router, health_router):
        app.include_router(router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), exc.status, headers=exc.headers())

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors: Any = jsonable_encoder(exc.errors(), exclude={"ctx", "url"})
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in errors)
        body = {"error": "invalid_request", "message": f"invalid {where}", "detail": errors}
        return JSONResponse(body, 400)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        body = {"error": "http_error", "message": str(exc.detail)}
        return JSONResponse(body, exc.status_code, headers=exc.headers)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return JSONResponse({"error": "internal_error", "message": "internal error"}, 500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
