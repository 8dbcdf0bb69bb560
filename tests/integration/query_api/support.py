"""Helpers for the read-API integration tests: inserting events, chdb as a row source."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

import httpx
import orjson
from clickhouse_driver.util.escape import escape_param, escape_params
from fastapi import FastAPI

from events.wire import decode_wire
from query_api import ApiSettings, create_app
from query_api.auth import TokenTable, parse_entries
from query_api.repository import EventsRepository
from storage.rows import EventLike, to_columns
from storage.schema import INSERT_COLUMNS
from tests.support.chdb_executor import _Context
from tests.unit.query_api.helpers import ALL, PAY, TOKENS

__all__ = [
    "ALL",
    "PAY",
    "ChdbRows",
    "OpenApi",
    "build",
    "columns_of",
    "insert_ch",
    "insert_chdb",
    "serve",
]

OpenApi = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def columns_of(events: Sequence[dict[str, Any]]) -> list[Any]:
    """Columnar insert data for events in the API's JSON shape (what the sink writes)."""
    wire = [decode_wire(orjson.dumps(e)) for e in events]
    n = len(wire)
    return to_columns(
        cast(Sequence[EventLike], wire),
        src_topic=["t"] * n,
        src_partition=[0] * n,
        src_offset=list(range(n)),
        src_line=[1] * n,
        ingested_ms=int(time.time() * 1000),
    )


def insert_ch(client: Any, database: str, events: Sequence[dict[str, Any]]) -> None:
    """One columnar INSERT (one new part) on the real server."""
    if events:
        sql = f"INSERT INTO `{database}`.events ({', '.join(INSERT_COLUMNS)}) VALUES"
        client.execute(sql, columns_of(events), columnar=True)


def insert_chdb(chdb: Any, database: str, events: Sequence[dict[str, Any]]) -> None:
    """The same rows as one multi-row VALUES statement on chdb (it has no native protocol)."""
    if not events:
        return
    rows = zip(*columns_of(events), strict=True)
    values = ",".join(
        "(" + ",".join(str(escape_param(v, _Context())) for v in row) + ")" for row in rows
    )
    chdb.execute(f"INSERT INTO `{database}`.events ({', '.join(INSERT_COLUMNS)}) VALUES {values}")


def _typed(value: Any, type_name: str) -> Any:
    # JSONCompact quotes 64-bit integers; the driver returns Python ints.
    if isinstance(value, str) and "Int64" in type_name:
        return int(value)
    return value


class ChdbRows:
    """A :class:`query_api.store.RowSource` over chdb, substituting parameters exactly as
    clickhouse-driver does, so the SQL reaching chdb is the SQL reaching the server."""

    def __init__(self, chdb: Any) -> None:
        self.session = chdb._session
        self.statements: list[str] = []

    async def rows(self, name: str, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        query = sql % escape_params(params, _Context()) if params else sql
        self.statements.append(query)
        result = self.session.query(query, "JSONCompact")
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        if not text.strip():
            return []
        parsed = orjson.loads(text)
        types = [column["type"] for column in parsed["meta"]]
        return [
            tuple(_typed(v, t) for v, t in zip(row, types, strict=True)) for row in parsed["data"]
        ]

    async def ping(self) -> bool:
        return True


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan and an HTTP client speaking to it in-process."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        yield http


def build(settings: ApiSettings, repository: EventsRepository | None = None) -> FastAPI:
    return create_app(
        settings, repository=repository, tokens=TokenTable(parse_entries(TOKENS, "test"))
    )
