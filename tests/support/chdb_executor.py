"""Run our SQL on chdb (the current ClickHouse engine, in-process) for engine-parity tests."""

from __future__ import annotations

from typing import Any

import orjson
from clickhouse_driver.util.escape import escape_params


class ChdbExecutor:
    """The :class:`storage.migrations.Executor` shape over a chdb session.

    Parameters are substituted exactly as clickhouse-driver does client-side, so the SQL
    that reaches chdb is the SQL that reaches the server.
    """

    def __init__(self, path: str) -> None:
        from chdb import session

        self._session = session.Session(path)

    def execute(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if params:
            query = query % escape_params(params, _Context())
        result = self._session.query(query, "JSONCompact")
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        if not text.strip():
            return []
        return [tuple(row) for row in orjson.loads(text)["data"]]

    def close(self) -> None:
        self._session.close()


class _Context:
    # substitute_params wants the client's context for server time zone lookups.
    server_info = None
    client_settings: dict[str, Any] = {"strings_as_bytes": False, "strings_encoding": "utf-8"}
