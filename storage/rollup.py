"""Daily roll-ups of settled partitions: what keeps ``/v1/stats`` cheap over months of events.

``events`` is partitioned by UTC day. A partition is *settled* when it has exactly one
active part and that part came out of a merge (level > 0): ReplacingMergeTree has then
collapsed every copy, and the part's content is fixed for as long as it stays active (a
later insert adds a second part; the merge that follows makes a part with a new name).

:func:`refresh` stores, for every settled partition of a day that has ended, the counts per
``(component, kind, severity)`` with the first and last event time, computed by ClickHouse
from that one part (``WHERE _part = ...``) and labelled with the part's name. Readers use a
roll-up row only while its part is still the partition's only active part, so a stale row
is never read: a day that received late events is counted from ``events`` until it settles
again and the next refresh rolls up its new part. Rows of parts that are gone are deleted.

Two refreshes running at once may store the same rows twice (one per worker); readers keep
one row per ``(part, component, kind, severity)``. Workers refresh on a timer
(``worker_rollup_interval_seconds``); ``eventpipe rollup`` refreshes once. Blocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from storage.schema import EVENTS_TABLE, KIND_ENUM, SEVERITY_ENUM, quote_identifier

__all__ = [
    "DAY_MS",
    "ROLLUP_TABLE",
    "PartitionState",
    "QueryRunner",
    "RefreshReport",
    "partition_day_ms",
    "partition_states",
    "partitions_sql",
    "refresh",
    "rolled_up_sql",
    "rollup_table_ddl",
]

ROLLUP_TABLE: Final = "events_daily"
DAY_MS: Final = 86_400_000
Statement = tuple[str, dict[str, Any]]


class QueryRunner(Protocol):
    """Runs one statement with client-side parameters (clickhouse-driver's ``Client``)."""

    def execute(self, query: str, params: dict[str, Any] | None = None) -> Any: ...


def rollup_table_ddl(database: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for the roll-up table (the same on every server)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(database)}.{ROLLUP_TABLE} (\n"
        "    partition String,\n"
        "    part String,\n"
        "    component String,\n"
        f"    kind {KIND_ENUM},\n"
        f"    severity {SEVERITY_ENUM},\n"
        "    events UInt64,\n"
        "    first_ms Int64,\n"
        "    last_ms Int64,\n"
        "    computed_ms Int64\n"
        ") ENGINE = ReplacingMergeTree(computed_ms)\n"
        "ORDER BY (part, component, kind, severity)"
    )


def partition_day_ms(partition: str) -> int | None:
    """The UTC start (ms) of a ``toYYYYMMDD`` partition id; ``None`` for anything else."""
    try:
        day = datetime.strptime(partition.strip("'"), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(day.timestamp()) * 1000


@dataclass(frozen=True)
class PartitionState:
    """One partition of ``events`` as ``system.parts`` shows it."""

    partition: str
    parts: int
    min_level: int
    part: str  # the name of one active part: the only one when settled

    @property
    def day_ms(self) -> int | None:
        return partition_day_ms(self.partition)

    @property
    def settled(self) -> bool:
        """No copies can be left: one active part, made by a merge."""
        return self.parts == 1 and self.min_level > 0


def partitions_sql(database: str) -> Statement:
    """Every partition of ``events`` with its active part count, lowest level and a part."""
    sql = (
        "SELECT partition, count(), min(level), any(name) FROM system.parts "
        "WHERE database = %(database)s AND table = %(table)s AND active GROUP BY partition"
    )
    return sql, {"database": database, "table": EVENTS_TABLE}


def partition_states(rows: Sequence[Sequence[Any]]) -> list[PartitionState]:
    """The rows of :func:`partitions_sql`, typed and sorted by partition."""
    states = [PartitionState(str(p), int(n), int(level), str(name)) for p, n, level, name in rows]
    return sorted(states, key=lambda s: s.partition)


def _part_in(parts: Sequence[str]) -> Statement:
    """``part IN (...)`` with one bound parameter per name (``''`` when there are none)."""
    listed = ", ".join(f"%(p{i})s" for i in range(len(parts))) or "''"
    return f"part IN ({listed})", {f"p{i}": part for i, part in enumerate(parts)}


def rolled_up_sql(database: str, parts: Sequence[str]) -> Statement:
    """Which of ``parts`` already have roll-up rows."""
    test, params = _part_in(parts)
    return (
        f"SELECT DISTINCT part FROM {quote_identifier(database)}.{ROLLUP_TABLE} WHERE {test}",
        params,
    )


def _rollup_insert_sql(database: str, state: PartitionState, day_ms: int, now_ms: int) -> Statement:
    db = quote_identifier(database)
    sql = (
        f"INSERT INTO {db}.{ROLLUP_TABLE} "
        "(partition, part, component, kind, severity, events, first_ms, last_ms, computed_ms) "
        "SELECT %(partition)s, %(part)s, component, kind, severity, count(), min(ts_ms), "
        f"max(ts_ms), %(now)s FROM {db}.{EVENTS_TABLE} "
        "WHERE ts_ms >= %(low)s AND ts_ms < %(high)s AND _part = %(part)s "
        "GROUP BY component, kind, severity"
    )
    params = {
        "partition": state.partition,
        "part": state.part,
        "now": now_ms,
        "low": day_ms,
        "high": day_ms + DAY_MS,
    }
    return sql, params


@dataclass(frozen=True)
class RefreshReport:
    rolled_up: tuple[str, ...]  # parts rolled up now
    removed: tuple[str, ...]  # parts no longer active whose rows were deleted


def refresh(runner: QueryRunner, database: str, *, now_ms: int) -> RefreshReport:
    """Roll up every settled partition of an ended day that has no roll-up yet.

    Blocking; a few statements plus one ``INSERT ... SELECT`` per newly settled day.
    """
    states = partition_states(runner.execute(*partitions_sql(database)))
    table = f"{quote_identifier(database)}.{ROLLUP_TABLE}"
    stored = {str(row[0]) for row in runner.execute(f"SELECT DISTINCT part FROM {table}")}
    rolled = []
    for state in states:
        day = state.day_ms
        if day is None or day + DAY_MS > now_ms or not state.settled or state.part in stored:
            continue  # not a day, not ended, may hold copies, or rolled up already
        runner.execute(*_rollup_insert_sql(database, state, day, now_ms))
        rolled.append(state.part)
    gone = sorted(stored - {s.part for s in states if s.parts == 1})
    if gone:
        test, params = _part_in(gone)
        runner.execute(f"ALTER TABLE {table} DELETE WHERE {test}", params)
    return RefreshReport(tuple(rolled), tuple(gone))
