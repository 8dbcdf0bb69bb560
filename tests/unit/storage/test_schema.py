from __future__ import annotations

import pytest

from storage.schema import EVENT_COLUMNS, INSERT_COLUMNS, events_table_ddl, quote_identifier
from storage.version import Capabilities

OLD = Capabilities.for_version("18.16.1")
NEW = Capabilities.for_version("26.9")


def test_insert_columns_are_the_stored_columns_in_order() -> None:
    assert INSERT_COLUMNS == tuple(c.name for c in EVENT_COLUMNS)
    assert len(set(INSERT_COLUMNS)) == len(INSERT_COLUMNS)


def test_old_server_ddl_uses_only_what_it_has() -> None:
    ddl = events_table_ddl("eventpipe", OLD, retention_days=30)
    for modern in ("LowCardinality", "CODEC", "DateTime64", "INDEX", "TTL", "deduplication"):
        assert modern not in ddl
    assert "timestamp DateTime('UTC') ALIAS" in ddl
    assert "ENGINE = ReplacingMergeTree(ingested_ms)" in ddl
    assert "ORDER BY (component, ts_ms, event_id)" in ddl
    assert "PARTITION BY toYYYYMMDD(" in ddl


def test_modern_server_ddl_switches_features_on() -> None:
    ddl = events_table_ddl("eventpipe", NEW, retention_days=30)
    assert "component LowCardinality(String)" in ddl
    assert "data_keys Array(LowCardinality(String))" in ddl
    assert "CODEC(ZSTD(3))" in ddl
    assert "DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli" in ddl
    assert "INDEX idx_event_id event_id TYPE bloom_filter" in ddl
    assert "TTL toDateTime(intDiv(ts_ms, 1000), 'UTC') + INTERVAL 30 DAY" in ddl
    assert "non_replicated_deduplication_window" in ddl


def test_ttl_only_when_retention_is_set() -> None:
    assert "TTL" not in events_table_ddl("eventpipe", NEW)


@pytest.mark.parametrize("name", ["x; DROP TABLE y", "a`b", "", "1abc", "a" * 65, "db.name"])
def test_identifiers_come_from_an_allow_list(name: str) -> None:
    with pytest.raises(ValueError, match="not an allowed"):
        quote_identifier(name)
    with pytest.raises(ValueError, match="not an allowed"):
        events_table_ddl(name, OLD)
