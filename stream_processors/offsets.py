"""Per-partition high-water marks of what is known to be stored (``ingest_offsets``).

After a batch is confirmed in ClickHouse, the worker records, per partition of the batch,
``next_offset`` = one past the highest offset the batch covered. Every value written is a
true statement ("everything below is stored"), so the maximum ever written is true too.

When a partition is (re)assigned — after a crash, a rebalance, a restart — Kafka redelivers
from the last *committed* offset, which lags behind what was stored by up to one commit
interval. Records below the mark are acknowledged without being written again, so
redelivery does not create duplicate rows. (Reads deduplicate anyway; this keeps the
table small and merges cheap.) All calls block: run them in an executor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Protocol

from clickhouse_driver import Client

from eventpipe.config import ClickHouseConnection
from events.errors import SinkUnavailable
from storage.client import connect, unavailable_on_failure
from storage.schema import quote_identifier

__all__ = ["TP", "ClickHouseOffsets", "MemoryOffsets", "OffsetStore"]

TP = tuple[str, int]  # (topic, partition)


class OffsetStore(Protocol):
    def load(self, tps: list[TP]) -> dict[TP, int]:
        """The stored mark of each partition that has one. Blocking; raises
        :class:`~events.errors.SinkUnavailable` when the store did not answer."""

    def save(self, marks: Mapping[TP, int]) -> None:
        """Record marks (next offset per partition). Blocking; raises on failure."""


class ClickHouseOffsets:
    def __init__(self, settings: ClickHouseConnection, group: str) -> None:
        self._settings = settings
        self._group = group
        self._table = f"{quote_identifier(settings.clickhouse_database)}.ingest_offsets"
        self._local = threading.local()

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = connect(self._settings)
            self._local.client = client
        return client

    def load(self, tps: list[TP]) -> dict[TP, int]:
        if not tps:
            return {}
        client = self._client()
        with unavailable_on_failure(client, "reading high-water marks"):
            rows = client.execute(
                f"SELECT topic, partition, max(next_offset) FROM {self._table} "
                "WHERE consumer_group = %(group)s AND topic IN %(topics)s "
                "GROUP BY topic, partition",
                {"group": self._group, "topics": tuple({t for t, _ in tps})},
            )
        wanted = set(tps)
        return {(t, p): int(o) for t, p, o in rows if (t, p) in wanted}

    def save(self, marks: Mapping[TP, int]) -> None:
        if not marks:
            return
        now = int(time.time() * 1000)
        rows = [(self._group, t, p, o, now) for (t, p), o in marks.items()]
        self._client().execute(
            f"INSERT INTO {self._table} "
            "(consumer_group, topic, partition, next_offset, updated_ms) VALUES",
            rows,
        )

    def close(self) -> None:
        client: Client | None = getattr(self._local, "client", None)
        if client is not None:
            client.disconnect()


class MemoryOffsets:
    """The in-memory twin."""

    def __init__(self) -> None:
        self.marks: dict[TP, int] = {}
        self.fail_next_loads = 0

    def load(self, tps: list[TP]) -> dict[TP, int]:
        if self.fail_next_loads > 0:
            self.fail_next_loads -= 1
            raise SinkUnavailable("memory offsets told to fail")
        return {tp: self.marks[tp] for tp in tps if tp in self.marks}

    def save(self, marks: Mapping[TP, int]) -> None:
        for tp, offset in marks.items():
            self.marks[tp] = max(offset, self.marks.get(tp, -1))

    def close(self) -> None:
        return None
