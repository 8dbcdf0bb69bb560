"""The events repository over ClickHouse. See :mod:`query_api.sql.statements` for the SQL."""

from __future__ import annotations

from typing import Any

from query_api.aggregate import fill_series, roll_up
from query_api.cursor import Key
from query_api.filters import EventFilter
from query_api.predicates import Predicate
from query_api.repository import INTERVAL_MS, GroupBy, Interval, Page, Series, Stats
from query_api.sql import statements
from query_api.store import RowSource
from storage.rollup import PartitionState, partition_states, partitions_sql, rolled_up_sql
from storage.rows import SELECT_COLUMNS, row_to_event

__all__ = ["ClickHouseEventsRepository"]

_TS = SELECT_COLUMNS.index("ts_ms")
_ID = SELECT_COLUMNS.index("event_id")


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
        predicate = where.predicate()
        states = await self._partitions()
        split = statements.rollup_split(predicate)
        rolled: list[statements.RolledDay] = []
        if split is not None:
            wanted = {
                s.part: day
                for s in states
                if s.settled and (day := s.day_ms) is not None and split.covers(day)
            }
            if wanted:
                sql, params = rolled_up_sql(self._database, sorted(wanted))
                found = await self._store.rows("rolled_up", sql, params)
                rolled = sorted(
                    (statements.RolledDay(wanted[str(part)], str(part)) for (part,) in found),
                    key=lambda r: r.day_ms,
                )
        sql, params = statements.stats(
            self._database,
            predicate,
            _unsettled_days(states),
            rolled,
            split.dimensions if split is not None else None,
        )
        return roll_up(await self._store.rows("stats", sql, params))

    async def timeseries(
        self, where: EventFilter, interval: Interval, group_by: GroupBy | None
    ) -> Series:
        days = _unsettled_days(await self._partitions())
        sql, params = statements.timeseries(
            self._database,
            where.predicate(),
            days,
            INTERVAL_MS[interval],
            group_by,
            self._max_buckets,
        )
        counts = await self._store.rows("timeseries", sql, params)
        return fill_series(counts, where, interval, group_by, self._max_buckets)

    async def ready(self) -> bool:
        return await self._store.ping()

    async def _partitions(self) -> list[PartitionState]:
        sql, params = partitions_sql(self._database)
        return partition_states(await self._store.rows("partitions", sql, params))


def _unsettled_days(states: list[PartitionState]) -> list[int]:
    """Day starts of the partitions that may still hold copies."""
    return sorted(day for s in states if not s.settled and (day := s.day_ms) is not None)
