"""The ClickHouse schema: one column list, rendered for the detected server.

:data:`EVENT_COLUMNS` is the single source of the ``events`` table: the DDL is rendered
from it and :data:`INSERT_COLUMNS` (the explicit column list of every insert) is its names.
A contract test checks ``DESCRIBE TABLE`` against it on the real server and on chdb.

Design (see docs/architecture.md, "Storage"):

* ``ts_ms Int64`` (epoch milliseconds, UTC) is the stored event time on every server: exact,
  cheap to insert (no datetime conversion in the driver) and comparable with bound integers.
  ``timestamp`` is an ALIAS for people writing SQL: ``DateTime64(3, 'UTC')`` where the server
  has it, else ``DateTime('UTC')``.
* Partitioned by UTC day, ordered by ``(component, ts_ms, event_id)`` — the common filters.
* ``ReplacingMergeTree(ingested_ms)``: a redelivered event has the same sorting key, so
  merges keep one copy; reads deduplicate the copies merges have not reached yet
  (``LIMIT 1 BY event_id`` / ``FINAL``, see :mod:`query_api.repository`).
* ``data`` is kept as its JSON text plus its scalar leaves flattened into parallel
  ``data_keys`` / ``data_values`` arrays (portable; ``Map`` is not on old servers).
* Modern servers get LowCardinality, codecs, skip indexes and an optional TTL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from storage.version import Capabilities

__all__ = [
    "EVENTS_TABLE",
    "EVENT_COLUMNS",
    "INSERT_COLUMNS",
    "KIND_ENUM",
    "SEVERITY_ENUM",
    "Column",
    "events_table_ddl",
    "quote_identifier",
    "ttl_clause",
]

EVENTS_TABLE: Final = "events"
KIND_ENUM: Final = "Enum8('log' = 1, 'error' = 2, 'event' = 3, 'access' = 4)"
SEVERITY_ENUM: Final = (
    "Enum8('DEBUG' = 10, 'INFO' = 20, 'WARNING' = 30, 'ERROR' = 40, 'CRITICAL' = 50)"
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def quote_identifier(name: str) -> str:
    """Backquote a database/table name after checking it against the allow-list pattern."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not an allowed ClickHouse identifier: {name!r}")
    return f"`{name}`"


@dataclass(frozen=True)
class Column:
    """One stored column: a portable type plus what modern servers add."""

    name: str
    type: str
    low_cardinality: bool = False
    codec: str | None = None

    def render_type(self, caps: Capabilities) -> str:
        """The column type as the server will report it in ``DESCRIBE TABLE``."""
        if not (self.low_cardinality and caps.low_cardinality):
            return self.type
        if self.type.startswith("Array("):
            return f"Array(LowCardinality({self.type[6:-1]}))"
        return f"LowCardinality({self.type})"

    def render(self, caps: Capabilities) -> str:
        codec = f" CODEC({self.codec})" if self.codec and caps.codecs else ""
        return f"{self.name} {self.render_type(caps)}{codec}"


_C = Column
#: The stored columns of ``events``, in insert order.
EVENT_COLUMNS: Final[tuple[Column, ...]] = (
    _C("event_id", "UUID"),
    _C("ts_ms", "Int64", codec="Delta, ZSTD(1)"),
    _C("component", "String", low_cardinality=True),
    _C("environment", "String", low_cardinality=True),
    _C("kind", KIND_ENUM),
    _C("severity", SEVERITY_ENUM),
    _C("message", "String", codec="ZSTD(3)"),
    _C("user", "String"),
    _C("function", "String", low_cardinality=True),
    _C("reason", "String", codec="ZSTD(3)"),
    _C("trace_id", "String"),
    _C("data", "String", codec="ZSTD(3)"),
    _C("data_keys", "Array(String)", low_cardinality=True),
    _C("data_values", "Array(String)", codec="ZSTD(3)"),
    _C("http_method", "String", low_cardinality=True),
    _C("http_path", "String"),
    _C("http_status", "UInt16"),
    _C("http_ip", "String"),
    _C("http_bytes", "Nullable(UInt64)"),
    _C("http_duration_ms", "Nullable(Float64)"),
    _C("http_user_agent", "String", low_cardinality=True),
    _C("src_topic", "String", low_cardinality=True),
    _C("src_partition", "Int32"),
    _C("src_offset", "Int64"),
    _C("src_line", "UInt32"),
    _C("ingested_ms", "Int64", codec="Delta, ZSTD(1)"),
)
INSERT_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in EVENT_COLUMNS)

_DAY = "toDateTime(intDiv(ts_ms, 1000), 'UTC')"
# Skip indexes for point lookups and selective filters (modern servers only).
_INDEXES: Final = (
    "INDEX idx_event_id event_id TYPE bloom_filter(0.01) GRANULARITY 4",
    "INDEX idx_user user TYPE bloom_filter(0.01) GRANULARITY 4",
    "INDEX idx_trace_id trace_id TYPE bloom_filter(0.01) GRANULARITY 4",
    "INDEX idx_http_status http_status TYPE minmax GRANULARITY 4",
)


def timestamp_alias(caps: Capabilities) -> str:
    """The ``timestamp`` ALIAS column for humans writing SQL."""
    if caps.datetime64:
        return "timestamp DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ts_ms, 'UTC')"
    return f"timestamp DateTime('UTC') ALIAS {_DAY}"


def ttl_clause(retention_days: int) -> str:
    """The ``events`` table's TTL: events older than ``retention_days`` (> 0) are deleted."""
    return f"TTL {_DAY} + INTERVAL {int(retention_days)} DAY DELETE"


def events_table_ddl(database: str, caps: Capabilities, *, retention_days: int = 0) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``events`` on a server with ``caps``."""
    parts = [c.render(caps) for c in EVENT_COLUMNS]
    parts.append(timestamp_alias(caps))
    if caps.skip_indexes:
        parts.extend(_INDEXES)
    body = ",\n    ".join(parts)
    ttl = ""
    if retention_days > 0 and caps.ttl:
        ttl = f"\n{ttl_clause(retention_days)}"
    settings = "index_granularity = 8192"
    if caps.insert_dedup_token:
        settings += ", non_replicated_deduplication_window = 1000"
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(database)}.{EVENTS_TABLE} (\n"
        f"    {body}\n"
        f") ENGINE = ReplacingMergeTree(ingested_ms)\n"
        f"PARTITION BY toYYYYMMDD({_DAY})\n"
        f"ORDER BY (component, ts_ms, event_id){ttl}\n"
        f"SETTINGS {settings}"
    )
