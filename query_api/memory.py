"""The in-memory twin of the events repository: the same contract in plain Python.

Used by unit tests (routes without ClickHouse) and, through :mod:`query_api.reference`, as
the oracle the property tests compare the real repository with. Not for production data
sizes: every read scans every event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from query_api.aggregate import CubeRow, fill_series, roll_up
from query_api.cursor import Key
from query_api.filters import EventFilter
from query_api.reference import Row, matches
from query_api.repository import INTERVAL_MS, GroupBy, Interval, Page, Series, Stats

__all__ = ["InMemoryEventsRepository", "store_order"]


def store_order(key: Key) -> tuple[int, int, int]:
    """The sort key of the store's order: ClickHouse compares UUIDs by their low 64 bits
    first, then the high 64 bits (both engines we run on agree)."""
    value = UUID(key.event_id).int
    return key.ts_ms, value & 0xFFFF_FFFF_FFFF_FFFF, value >> 64


class InMemoryEventsRepository:
    """Events kept as :class:`Row` values; identical copies (same time and id) kept once."""

    def __init__(self, events: Iterable[Mapping[str, Any]] = (), *, max_buckets: int = 10_000):
        self._rows: dict[Key, Row] = {}
        self._max_buckets = max_buckets
        self.add(events)

    def add(self, events: Iterable[Mapping[str, Any]]) -> None:
        for event in events:
            row = Row.of(event)
            self._rows.setdefault(Key(row.ts_ms, str(UUID(event["event_id"]))), row)

    def _matching(self, where: EventFilter) -> list[tuple[Key, Row]]:
        predicate = where.predicate()
        found = [(k, r) for k, r in self._rows.items() if matches(predicate, r)]
        return sorted(found, key=lambda kr: store_order(kr[0]), reverse=True)

    async def page(self, where: EventFilter, limit: int, after: Key | None) -> Page:
        found = self._matching(where)
        if after is not None:
            found = [(k, r) for k, r in found if store_order(k) < store_order(after)]
        items = [dict(r.event) for _, r in found[:limit]]
        return Page(items, found[limit - 1][0] if len(found) > limit else None)

    async def get(self, event_id: str, where: EventFilter) -> dict[str, Any] | None:
        found = [r for k, r in self._matching(where) if k.event_id == event_id]
        return dict(found[0].event) if found else None

    async def stats(self, where: EventFilter) -> Stats:
        cube: list[CubeRow] = [
            (r.event["component"], r.event["kind"], r.event["severity"], 1, r.ts_ms, r.ts_ms)
            for _, r in self._matching(where)
        ]
        return roll_up(cube)

    async def timeseries(
        self, where: EventFilter, interval: Interval, group_by: GroupBy | None
    ) -> Series:
        step = INTERVAL_MS[interval]
        counts = [
            (r.ts_ms // step * step, str(r.event[group_by]) if group_by else "", 1)
            for _, r in self._matching(where)
        ]
        return fill_series(counts, where, interval, group_by, self._max_buckets)

    async def ready(self) -> bool:
        return True
