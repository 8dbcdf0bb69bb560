"""The API over the in-memory repository: HTTP behaviour without services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from query_api import ApiSettings, create_app
from query_api.auth import TokenTable, parse_entries
from query_api.memory import InMemoryEventsRepository
from tests.unit.query_api.helpers import TOKENS, Client


@pytest.fixture
def client() -> Client:
    @asynccontextmanager
    async def open_client(
        events: list[dict[str, Any]], **settings: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(
            ApiSettings(**settings),
            repository=InMemoryEventsRepository(events),
            tokens=TokenTable(parse_entries(TOKENS, "test")),
        )
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://api") as http,
        ):
            yield http

    return open_client
