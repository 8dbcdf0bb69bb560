"""Fixtures: the API wired to the real ClickHouse (a fresh database per test), and chdb."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from query_api import ApiSettings
from storage.migrations import MigrationOptions, migrate
from storage.version import Capabilities
from tests.integration.query_api.support import OpenApi, build, serve
from tests.support.chdb_executor import ChdbExecutor
from tests.support.names import unique
from tests.support.services import Endpoints
from tests.unit.query_api.helpers import TOKENS


@pytest.fixture
def api_settings(endpoints: Endpoints, ch_database: str) -> ApiSettings:
    return ApiSettings(
        clickhouse_url=endpoints.clickhouse_url,
        clickhouse_database=ch_database,
        api_clickhouse_threads=2,
        api_startup_timeout=10,
    )


@pytest.fixture
def open_api(api_settings: ApiSettings) -> OpenApi:
    """``async with open_api() as http``: the real app over the test's database."""

    def opener(**overrides: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        settings = api_settings.model_copy(update=overrides)
        return serve(build(settings))

    return opener


@pytest.fixture(scope="session")
def chdb_caps(chdb: ChdbExecutor) -> Capabilities:
    return Capabilities.for_version(str(chdb.execute("SELECT version()")[0][0]))


@pytest.fixture
def chdb_database(chdb: ChdbExecutor, chdb_caps: Capabilities) -> Iterator[str]:
    """A migrated database of its own on chdb, dropped afterwards."""
    name = unique("eptq")
    migrate(chdb, chdb_caps, MigrationOptions(name))
    yield name
    chdb.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def tmp_tokens(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text("\n".join(TOKENS) + "\n")
    return path
