"""The SQL of every read, built from a compiled ``WHERE`` and allow-listed names. Pure.

Each builder returns ``(sql, params)`` for clickhouse-driver; all of it runs on
ClickHouse 18.16 and on the current engine (no ILIKE, WITH FILL, DateTime64 or server-side
parameters; buckets are ``intDiv(ts_ms, step) * step``).

Duplicates (identical copies of an event that merges have not collapsed yet) are handled
per statement:

* pages select ``limit + 1`` keys with a plain top-N sort (fast: a ``LIMIT BY`` would force
  a full sort of every matching row) and the repository drops repeated keys, fetching on
  when it dropped any, then reads the rows of the keys it shows;
* aggregates read through :func:`deduplicated_source`: partitions that merges have settled
  (one active part, merged at least once) are counted as they are, the others through
  ``LIMIT 1 BY ts_ms, event_id`` — exact, and about the cost of a plain ``count()`` once
  the recent partitions are small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from query_api.cursor import Key
from query_api.predicates import Predicate
from query_api.sql.where import Binder, compile_where
from storage.rows import SELECT_COLUMNS
from storage.schema import EVENTS_TABLE, quote_identifier

__all__ = [
    "DAY_MS",
    "Statement",
    "by_id",
    "deduplicated_source",
    "page_keys",
    "page_rows",
    "stats",
    "timeseries",
    "unsettled_partitions",
]

Statement = tuple[str, dict[str, Any]]
DAY_MS: Final = 86_400_000
_COLUMNS: Final = ", ".join(quote_identifier(c) for c in SELECT_COLUMNS)
_AGGREGATE_COLUMNS: Final = "ts_ms, event_id, component, kind, severity"
_GROUPS: Final = {None: "''", "severity": "toString(severity)", "kind": "toString(kind)",
                  "component": "component"}  # fmt: skip


def _table(database: str) -> str:
    return f"{quote_identifier(database)}.{EVENTS_TABLE}"


def page_keys(database: str, where: Predicate, fetch: int, after: Key | None) -> Statement:
    """The keys of up to ``fetch`` rows strictly after ``after``, newest first.

    Only the filter's columns and the key are read here; the full rows of the (at most
    ``limit``) keys shown are fetched by :func:`page_rows` — on 10M rows this made a page
    of a broad filter 5-6x faster than selecting every column of every matching row.
    """
    binder = Binder()
    condition = compile_where(where, binder)
    if after is not None:
        ts = binder.bind(after.ts_ms)
        uid = binder.bind(after.event_id)
        # The plain ts_ms bound lets the server prune parts; the tuple decides ties.
        condition += f" AND ts_ms <= {ts} AND (ts_ms < {ts} OR event_id < toUUID({uid}))"
    sql = (
        f"SELECT ts_ms, event_id FROM {_table(database)} WHERE {condition} "
        f"ORDER BY ts_ms DESC, event_id DESC LIMIT {int(fetch)}"
    )
    return sql, binder.params


def page_rows(database: str, where: Predicate, keys: Sequence[Key]) -> Statement:
    """The stored rows of ``keys`` (copies included; the caller keeps one per key)."""
    binder = Binder()
    low = binder.bind(min(k.ts_ms for k in keys))
    high = binder.bind(max(k.ts_ms for k in keys))
    ids = ", ".join(f"toUUID({binder.bind(k.event_id)})" for k in keys)
    condition = compile_where(where, binder)  # repeated for the index (component, ts_ms)
    sql = (
        f"SELECT {_COLUMNS} FROM {_table(database)} "
        f"WHERE ts_ms >= {low} AND ts_ms <= {high} AND event_id IN ({ids}) AND {condition}"
    )
    return sql, binder.params


def by_id(database: str, event_id: str, where: Predicate) -> Statement:
    """The newest stored copy of one event, if ``where`` lets the reader see it."""
    binder = Binder()
    condition = f"event_id = toUUID({binder.bind(event_id)}) AND {compile_where(where, binder)}"
    sql = (
        f"SELECT {_COLUMNS} FROM {_table(database)} WHERE {condition} "
        "ORDER BY ingested_ms DESC LIMIT 1"
    )
    return sql, binder.params


def unsettled_partitions(database: str) -> Statement:
    """Partitions that may still hold copies: several active parts, or one never merged."""
    sql = (
        "SELECT partition FROM system.parts "
        "WHERE database = %(database)s AND table = %(table)s AND active "
        "GROUP BY partition HAVING count() > 1 OR min(level) = 0"
    )
    return sql, {"database": database, "table": EVENTS_TABLE}


def _days(binder: Binder, days: Sequence[int]) -> str:
    ranges = [f"(ts_ms >= {binder.bind(d)} AND ts_ms < {binder.bind(d + DAY_MS)})" for d in days]
    return "(" + " OR ".join(ranges) + ")"


def deduplicated_source(
    database: str, where: Predicate, unsettled_days: Sequence[int], binder: Binder
) -> str:
    """A ``FROM`` source of the matching rows, one per event (see the module docstring).

    ``unsettled_days`` are the UTC day starts (ms) of the partitions that may hold copies.
    """
    condition = compile_where(where, binder)
    if not unsettled_days:
        return f"{_table(database)} WHERE {condition}"
    days = _days(binder, unsettled_days)
    head = f"SELECT {_AGGREGATE_COLUMNS} FROM {_table(database)} WHERE {condition}"
    return f"({head} AND NOT {days} UNION ALL {head} AND {days} LIMIT 1 BY ts_ms, event_id)"


def stats(database: str, where: Predicate, unsettled_days: Sequence[int]) -> Statement:
    """Counts and first/last time per (component, kind, severity)."""
    binder = Binder()
    source = deduplicated_source(database, where, unsettled_days, binder)
    sql = (
        "SELECT component, toString(kind), toString(severity), count(), min(ts_ms), max(ts_ms) "
        f"FROM {source} GROUP BY component, kind, severity"
    )
    return sql, binder.params


def timeseries(
    database: str,
    where: Predicate,
    unsettled_days: Sequence[int],
    step_ms: int,
    group_by: str | None,
) -> Statement:
    """Counts per ``(bucket start, group)``; the group is ``''`` without ``group_by``."""
    binder = Binder()
    source = deduplicated_source(database, where, unsettled_days, binder)
    step = binder.bind(int(step_ms))
    sql = (
        f"SELECT intDiv(ts_ms, {step}) * {step} AS bucket, {_GROUPS[group_by]} AS grp, count() "
        f"FROM {source} GROUP BY bucket, grp"
    )
    return sql, binder.params
