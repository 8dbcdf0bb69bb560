"""Keeping the events TTL in line with retention_days: what is read, what is altered."""

from __future__ import annotations

from typing import Any

import pytest

from storage.retention import OTHER_TTL, RetentionReport, align_retention, table_retention_days
from storage.version import Capabilities

OLD = Capabilities.for_version("18.16.1")
TTL_ONLY = Capabilities.for_version("20.3")  # TTL, but no REMOVE TTL
NEW = Capabilities.for_version("26.9")
ENGINE = (
    "ReplacingMergeTree(ingested_ms) PARTITION BY toYYYYMMDD(toDateTime(intDiv(ts_ms, 1000), "
    "'UTC')) ORDER BY (component, ts_ms, event_id) {ttl}SETTINGS index_granularity = 8192"
)


class Recording:
    """An executor whose table has ``ttl`` in its engine clause; it records every query."""

    def __init__(self, ttl: str = "") -> None:
        self.engine_full = ENGINE.format(ttl=ttl)
        self.queries: list[str] = []

    def execute(self, query: str) -> Any:
        self.queries.append(query)
        return [(self.engine_full,)] if query.startswith("SELECT engine_full") else []

    def alters(self) -> list[str]:
        return [q for q in self.queries if q.startswith("ALTER")]


@pytest.mark.parametrize(
    ("ttl", "days"),
    [
        ("", 0),
        ("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + toIntervalDay(30) ", 30),
        ("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + INTERVAL 400 DAY DELETE ", 400),
        ("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + toIntervalMonth(1) ", OTHER_TTL),
        ("TTL toDate(ts) + toIntervalDay(30) ", OTHER_TTL),  # another column: not ours
    ],
)
def test_the_table_ttl_is_read_from_its_engine_clause(ttl: str, days: int) -> None:
    assert table_retention_days(ENGINE.format(ttl=ttl)) == days


def test_a_server_without_ttl_reads_and_alters_nothing() -> None:
    executor = Recording()
    assert align_retention(executor, OLD, "db", 30) == RetentionReport("not_enforced", 30, 0)
    assert align_retention(executor, OLD, "db", 0) == RetentionReport("kept", 0, 0)
    assert executor.queries == []


def test_a_matching_ttl_is_left_alone() -> None:
    # A changed TTL makes the server rewrite the stored parts: never on every deploy.
    executor = Recording("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + toIntervalDay(30) ")
    assert align_retention(executor, NEW, "db", 30) == RetentionReport("kept", 30, 30)
    assert align_retention(Recording(), NEW, "db", 0) == RetentionReport("kept", 0, 0)
    assert executor.alters() == []


def test_a_new_setting_modifies_the_ttl() -> None:
    executor = Recording("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + toIntervalDay(30) ")
    assert align_retention(executor, NEW, "db", 7) == RetentionReport("set", 7, 30)
    assert executor.alters() == [
        "ALTER TABLE `db`.events MODIFY TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') "
        "+ INTERVAL 7 DAY DELETE"
    ]


def test_zero_removes_the_ttl_where_the_server_can() -> None:
    executor = Recording("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + toIntervalDay(30) ")
    assert align_retention(executor, NEW, "db", 0) == RetentionReport("removed", 0, 30)
    assert executor.alters() == ["ALTER TABLE `db`.events REMOVE TTL"]
    older = Recording("TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + toIntervalDay(30) ")
    assert align_retention(older, TTL_ONLY, "db", 0) == RetentionReport("not_removable", 0, 30)
    assert older.alters() == []
