"""The events repository over ClickHouse. See :mod:`query_api.sql.statements` for the SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from query_api.aggregate import fill_series, roll_up
from query_api.cursor import Key
from query_api.filters import EventFilter
from query_api.predicates import Predicate
from query_api.repository import INTERVAL_MS, GroupBy, Interval, Page, Series, Stats
from query_api.sql import statements
from query_api.store import RowSource
from storage.rows import SELECT_COLUMNS, row_to_event

__all__ = ["ClickHouseEventsRepository"]

_TS = SELECT_COLUMNS.index("ts_ms")
_ID = SELECT_COLUMNS.index("event_id")


def _day_start(partition: str) -> int | None:
    try:
        day = datetime.strptime(partition.strip("'"), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(day.timestamp()) * 1000


class ClickHouseEventsRepository:
    """:class:`~query_api.repository.EventsRepository` over ClickHouse.

    ``store`` is a :class:`~query_api.store.ClickHouseStore` (or, in tests, any
    :class:`~query_api.store.RowSource`, e.g. one over chdb).
    """

    def __init__(self, store: RowSource, database: str, *, max_buckets: int) -> None:
        self._store = store
        self._database = database
        self._max_buckets = max_buckets

    async def page(self, where: EventFilter, limit: int, after: Key | None) -> Page:
        predicate = where.predicate()
        keys: list[Key] = []
        seen: set[Key] = set()
        while len(keys) <= limit:
            sql, params = statements.page_keys(self._database, predicate, limit + 1, after)
            found = [Key(ts, str(uid)) for ts, uid in await self._store.rows("page", sql, params)]
            for key in found:
                if key not in seen:  # an identical copy not merged yet
                    seen.add(key)
                    keys.append(key)
            if len(found) <= limit:
                break
            after = found[-1]
        shown = keys[:limit]
        next_key = shown[-1] if len(keys) > limit else None
        return Page(await self._rows(predicate, shown), next_key)

    async def _rows(self, predicate: Predicate, keys: list[Key]) -> list[dict[str, Any]]:
        if not keys:
            return []
        sql, params = statements.page_rows(self._database, predicate, keys)
        rows: dict[Key, tuple[Any, ...]] = {}
        for row in await self._store.rows("page_rows", sql, params):
            rows.setdefault(Key(row[_TS], str(row[_ID])), row)
        # A key whose rows vanished in between (TTL) is skipped rather than failing.
        return [
            row_to_event(dict(zip(SELECT_COLUMNS, rows[k], strict=True))) for k in keys if k in rows
        ]

    async def get(self, event_id: str, where: EventFilter) -> dict[str, Any] | None:
        sql, params = statements.by_id(self._database, event_id, where.predicate())
        rows = await self._store.rows("event", sql, params)
        return row_to_event(dict(zip(SELECT_COLUMNS, rows[0], strict=True))) if rows else None

    async def stats(self, where: EventFilter) -> Stats:
        days = await self._unsettled_days()
        sql, params = statements.stats(self._database, where.predicate(), days)
        return roll_up(await self._store.rows("stats", sql, params))

    async def timeseries(
        self, where: EventFilter, interval: Interval, group_by: GroupBy | None
    ) -> Series:
        days = await self._unsettled_days()
        sql, params = statements.timeseries(
            self._database, where.predicate(), days, INTERVAL_MS[interval], group_by
        )
        counts = await self._store.rows("timeseries", sql, params)
        return fill_series(counts, where, interval, group_by, self._max_buckets)

    async def ready(self) -> bool:
        return await self._store.ping()

    async def _unsettled_days(self) -> list[int]:
        sql, params = statements.unsettled_partitions(self._database)
        rows = await self._store.rows("partitions", sql, params)
        return sorted(
            day for (partition,) in rows if (day := _day_start(str(partition))) is not None
        )
