"""clickhouse-driver behind a few threads: async queries that never block the event loop.

clickhouse-driver is synchronous and a ``Client`` is not thread-safe, so each worker thread
of a small pool owns one client (created on first use); coroutines hand their query to the
pool. Opened in the app's lifespan (:meth:`ClickHouseStore.start`), closed with it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, Protocol

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError
from clickhouse_driver.errors import ServerException

from eventpipe.config import ClickHouseConnection
from eventpipe.logs import get_logger
from query_api.clickhouse_errors import api_error
from query_api.errors import ApiError, StoreUnavailable
from storage.client import capabilities, connect, wait_until_ready
from storage.version import Capabilities

__all__ = ["THROW_ON_OVERFLOW", "ClickHouseStore", "QueryObserver", "RowSource"]

log = get_logger(__name__)

#: Called after each query with its name, seconds taken and whether it failed.
QueryObserver = Callable[[str, float, bool], None]

#: With ``break`` (or ``any``), ClickHouse stops a read at a limit and answers what it has:
#: counts and pages that look complete but are not. Every read overrides the user's profile
#: with ``throw``, so a limit is an error the API answers (400/503), never a partial answer.
#: (These nine exist on 18.16 and on current servers.)
THROW_ON_OVERFLOW: Final[dict[str, str]] = {
    f"{limit}_overflow_mode": "throw"
    for limit in ("read", "result", "group_by", "sort", "distinct", "set", "join", "transfer",
                  "timeout")
}  # fmt: skip


class RowSource(Protocol):
    """What the repository needs from storage: rows of a bound query, and a ping."""

    async def rows(self, name: str, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` with ``params`` substituted as clickhouse-driver does."""
        ...

    async def ping(self) -> bool: ...


class ClickHouseStore:
    """Runs SQL on ClickHouse from async code. See the module docstring."""

    def __init__(
        self,
        connection: ClickHouseConnection,
        *,
        threads: int,
        query_timeout: float,
        query_settings: Mapping[str, int | float | str] | None = None,
        observe: QueryObserver | None = None,
    ) -> None:
        """``query_settings`` are ClickHouse settings sent with every query (limits);
        ``query_timeout`` is sent as ``max_execution_time``, and every limit's overflow
        mode as ``throw`` (:data:`THROW_ON_OVERFLOW`)."""
        self._connection = connection
        self._settings: dict[str, Any] = {
            **(query_settings or {}),
            **THROW_ON_OVERFLOW,
            "max_execution_time": max(1, int(query_timeout)),
        }
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="clickhouse")
        self._local = threading.local()
        self._clients: list[Client] = []
        self._lock = threading.Lock()
        self._observe = observe or (lambda name, seconds, failed: None)
        self.caps: Capabilities | None = None

    async def start(self, wait_seconds: float) -> Capabilities:
        """Wait (at most ``wait_seconds``) until the server answers; learn its capabilities."""
        self.caps = await asyncio.to_thread(wait_until_ready, self._connection, wait_seconds)
        return self.caps

    async def close(self) -> None:
        """Disconnect every client and stop the threads (waits for running queries)."""
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    async def ping(self) -> bool:
        """Whether the server answers a trivial query now."""
        try:
            await self._run(capabilities)
        except (ApiError, DriverError, OSError, EOFError):  # a refusal too: not ready
            return False
        return True

    async def rows(self, name: str, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql``; ``name`` labels the query in metrics and logs."""
        rows: list[tuple[Any, ...]] = await self._run(
            lambda client: self._query(client, name, sql, params)
        )
        return rows

    # --- worker threads --------------------------------------------------------------------

    async def _run(self, job: Callable[[Client], Any]) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._with_client, job)

    def _with_client(self, job: Callable[[Client], Any]) -> Any:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = connect(self._connection, **self._settings)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        try:
            return job(client)
        except ServerException as exc:
            answer = api_error(exc.code, exc.message)
            if answer is None:
                raise
            log.warning("clickhouse refused a read", code=exc.code, answer=answer.code)
            raise answer from exc
        except (DriverError, OSError, EOFError) as exc:
            client.disconnect()  # the next query reconnects
            raise StoreUnavailable(f"ClickHouse is unavailable: {exc}") from exc

    def _query(self, client: Client, name: str, sql: str, params: dict[str, Any]) -> Any:
        started = time.perf_counter()
        failed = True
        try:
            result = client.execute(sql, params)
            failed = False
            return result
        finally:
            self._observe(name, time.perf_counter() - started, failed)

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.disconnect()
