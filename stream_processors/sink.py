"""Where valid events go: the :class:`EventSink` interface, ClickHouse, and a memory twin.

``write`` is blocking (clickhouse-driver is synchronous): the worker calls it from an
executor thread, never on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from clickhouse_driver import Client

from eventpipe.config import ClickHouseConnection
from events.errors import SinkUnavailable
from storage.client import capabilities, connect, unavailable_on_failure
from storage.schema import EVENTS_TABLE, INSERT_COLUMNS, quote_identifier
from storage.version import Capabilities

__all__ = ["ClickHouseSink", "EventSink", "MemorySink", "insert_settings"]


class EventSink(Protocol):
    def write(self, columns: Sequence[Sequence[Any]], *, dedup_token: str) -> None:
        """Insert one batch, given in :data:`INSERT_COLUMNS` order, as one insert.

        Blocking. Returns once the store confirmed the insert; raises
        :class:`SinkUnavailable` when it did not (the caller retries the same batch with the
        same ``dedup_token``).
        """


def insert_settings(caps: Capabilities, dedup_token: str) -> dict[str, Any]:
    """The settings of a batch's insert on a server with ``caps``.

    * ``insert_deduplication_token``: a retried batch the server had stored is dropped.
    * ``max_partitions_per_insert_block = 0``: the table has a partition per day, and a
      batch may span more than the server's default of 100 days (a backfill, a client
      with a wrong clock). The server would refuse such a batch every time it is retried,
      stalling the partition for good; the limit guards inserts only, not the table.
    """
    settings: dict[str, Any] = {}
    if caps.insert_dedup_token:
        settings["insert_deduplication_token"] = dedup_token
    if caps.partitions_per_insert_limit:
        settings["max_partitions_per_insert_block"] = 0
    return settings


class ClickHouseSink:
    """One columnar insert per batch over the native protocol.

    Where the server supports ``insert_deduplication_token`` (>= 22.2, with the table's
    ``non_replicated_deduplication_window``), a retried batch that the server had in fact
    stored is dropped by the server itself.
    """

    def __init__(self, settings: ClickHouseConnection) -> None:
        self._settings = settings
        self._local = threading.local()  # a driver Client is not thread-safe
        self._caps: Capabilities | None = None
        table = f"{quote_identifier(settings.clickhouse_database)}.{EVENTS_TABLE}"
        self._sql = f"INSERT INTO {table} ({', '.join(INSERT_COLUMNS)}) VALUES"

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = connect(self._settings)
            self._local.client = client
        return client

    def write(self, columns: Sequence[Sequence[Any]], *, dedup_token: str) -> None:
        client = self._client()
        with unavailable_on_failure(client, "ClickHouse insert"):
            if self._caps is None:
                self._caps = capabilities(client)
            settings = insert_settings(self._caps, dedup_token)
            client.execute(self._sql, columns, columnar=True, types_check=False, settings=settings)

    def close(self) -> None:
        client: Client | None = getattr(self._local, "client", None)
        if client is not None:
            client.disconnect()


class MemorySink:
    """The in-memory twin for unit tests: stores rows; can be told to fail N times."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self.fail_next = 0
        self.attempts = 0

    def write(self, columns: Sequence[Sequence[Any]], *, dedup_token: str) -> None:
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise SinkUnavailable("memory sink told to fail")
        if dedup_token in self.tokens:
            return  # what a deduplicating server does with a retried batch
        self.tokens.append(dedup_token)
        names = INSERT_COLUMNS
        self.rows.extend(dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True))

    def close(self) -> None:
        return None
