"""The read side's one interface to storage, and the values it returns.

Two implementations: :class:`query_api.clickhouse_repository.ClickHouseEventsRepository`
(the real one) and :class:`query_api.memory.InMemoryEventsRepository` (its twin, used by
unit tests and as the property tests' reference). Both return each event once, however
many identical copies storage holds (an event is identified by its timestamp and id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from query_api.cursor import Key
from query_api.filters import EventFilter

__all__ = [
    "INTERVAL_MS",
    "Bucket",
    "EventsRepository",
    "GroupBy",
    "Interval",
    "Page",
    "Series",
    "Stats",
]

Interval = Literal["1m", "5m", "1h", "1d"]
GroupBy = Literal["severity", "component", "kind"]
INTERVAL_MS: Final[dict[str, int]] = {
    "1m": 60_000,
    "5m": 300_000,
    "1h": 3_600_000,
    "1d": 86_400_000,
}


@dataclass(frozen=True)
class Page:
    """Events newest first; ``next_key`` is where the next page starts (``None``: last)."""

    items: list[dict[str, Any]]
    next_key: Key | None


@dataclass(frozen=True)
class Stats:
    total: int
    by_severity: dict[str, int]
    by_component: dict[str, int]
    by_kind: dict[str, int]
    first_ms: int | None
    last_ms: int | None

    @property
    def error_rate(self) -> float:
        """ERROR + CRITICAL over all; 0.0 when there are no events."""
        bad = self.by_severity.get("ERROR", 0) + self.by_severity.get("CRITICAL", 0)
        return bad / self.total if self.total else 0.0


@dataclass(frozen=True)
class Bucket:
    start_ms: int
    count: int
    groups: dict[str, int] | None


@dataclass(frozen=True)
class Series:
    interval: Interval
    group_by: GroupBy | None
    buckets: list[Bucket]


class EventsRepository(Protocol):
    """Reads of the events store. Every method is a coroutine that never blocks the loop.

    Raises :class:`~query_api.errors.StoreUnavailable` when storage does not answer or is
    busy, and :class:`~query_api.errors.BadRequest` for a request storage cannot serve (too
    many timeseries values; :class:`~query_api.errors.QueryTooLarge`: past a limit of the
    server's).
    """

    async def page(self, where: EventFilter, limit: int, after: Key | None) -> Page: ...

    async def get(self, event_id: str, where: EventFilter) -> dict[str, Any] | None: ...

    async def stats(self, where: EventFilter) -> Stats: ...

    async def timeseries(
        self, where: EventFilter, interval: Interval, group_by: GroupBy | None
    ) -> Series: ...

    async def ready(self) -> bool: ...
