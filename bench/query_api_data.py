"""Synthetic events for the read-API benchmarks, generated inside ClickHouse.

The rows are made by ``INSERT ... SELECT ... FROM numbers(n)`` on the server: ten million
events load in about a minute on our 2-core machines, where building them in Python would
take several. The values are shaped like real traffic (12 components, a skewed severity
mix, access logs with HTTP facts, ``data`` with flattened leaves) and spread over
:data:`SPAN_DAYS` days from :data:`BASE_MS`.

The full-size database (:data:`BENCH_DATABASE`) is kept between runs and reused when it
already holds the wanted number of rows; it is then merged (``OPTIMIZE ... FINAL``) so it
looks like settled data, as a production table does a few minutes after its inserts, and its
settled days are rolled up (:mod:`storage.rollup`), as the workers' timer does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

from storage.migrations import MigrationOptions, migrate
from storage.rollup import refresh
from storage.schema import INSERT_COLUMNS, KIND_ENUM, SEVERITY_ENUM, quote_identifier
from storage.version import Capabilities

__all__ = ["BASE_MS", "BENCH_DATABASE", "COMPONENTS", "SPAN_DAYS", "DataSet", "ensure_loaded"]

BENCH_DATABASE: Final = "eventpipe_bench_query"
BASE_MS: Final = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SPAN_DAYS: Final = 14
DAY_MS: Final = 86_400_000
COMPONENTS: Final = (
    "payments", "orders", "checkout", "search", "auth", "catalog",
    "shipping", "billing", "gateway", "inventory", "notify", "reports",
)  # fmt: skip
_CHUNK: Final = 1_000_000

# One row per ``number``; h1..h3 are independent pseudo-random 64-bit values.
_SELECT: Final = """
SELECT
    generateUUIDv4() AS event_id,
    toInt64({base} + (h1 % {span})) AS ts_ms,
    arrayElement({components}, h2 % 12 + 1) AS component,
    if(h3 % 10 < 8, 'production', 'staging') AS environment,
    CAST(multiIf(h2 % 10 < 6, 'log', h2 % 10 < 7, 'error', h2 % 10 < 8, 'event', 'access')
         AS {kind}) AS kind,
    CAST(multiIf(h3 % 100 < 10, 'DEBUG', h3 % 100 < 70, 'INFO', h3 % 100 < 85, 'WARNING',
                 h3 % 100 < 97, 'ERROR', 'CRITICAL') AS {severity}) AS severity,
    concat(arrayElement(['order', 'payment', 'user', 'request', 'cache', 'job'], h1 % 6 + 1),
           ' ', arrayElement(['created', 'failed', 'retried', 'completed',
           'timeout calling upstream', 'rejected'], intDiv(h1, 7) % 6 + 1),
           ' #', toString(number))
        AS message,
    concat('user', toString(h3 % 50000), '@example.com') AS `user`,
    arrayElement(['handle', 'authorise', 'render', 'flush'], h3 % 4 + 1) AS `function`,
    '' AS reason,
    lower(hex(h2)) AS trace_id,
    concat('{{"order_id":', toString(number), ',"region":"eu-', toString(h1 % 3), '"}}') AS data,
    ['order_id', 'region'] AS data_keys,
    [toString(number), concat('eu-', toString(h1 % 3))] AS data_values,
    if(h2 % 10 >= 8, arrayElement(['GET', 'POST', 'PUT'], h3 % 3 + 1), '') AS http_method,
    if(h2 % 10 >= 8, concat('/api/v1/items/', toString(h3 % 1000)), '') AS http_path,
    toUInt16(if(h2 % 10 >= 8, arrayElement([200, 201, 404, 500], h1 % 4 + 1), 0))
        AS http_status,
    if(h2 % 10 >= 8, '10.0.0.1', '') AS http_ip,
    if(h2 % 10 >= 8, toNullable(toUInt64(h3 % 100000)), NULL) AS http_bytes,
    if(h2 % 10 >= 8, toNullable(toFloat64(h1 % 5000) / 10), NULL) AS http_duration_ms,
    '' AS http_user_agent,
    'bench' AS src_topic,
    toInt32(0) AS src_partition,
    toInt64(number) AS src_offset,
    toUInt32(1) AS src_line,
    toInt64({base}) AS ingested_ms
FROM (
    SELECT number, cityHash64(number, 1) AS h1, cityHash64(number, 2) AS h2,
           cityHash64(number, 3) AS h3
    FROM numbers({offset}, {rows})
)
"""


@dataclass(frozen=True)
class DataSet:
    """A loaded benchmark database and the time range its events cover."""

    database: str
    rows: int
    first_ms: int = BASE_MS
    end_ms: int = BASE_MS + SPAN_DAYS * DAY_MS


def _count(client: Any, database: str) -> int:
    exists = client.execute(
        "SELECT count() FROM system.tables WHERE database = %(db)s AND name = 'events'",
        {"db": database},
    )[0][0]
    if not exists:
        return -1
    return int(client.execute(f"SELECT count() FROM {quote_identifier(database)}.events")[0][0])


def _insert_sql(database: str, offset: int, rows: int) -> str:
    components = "[" + ", ".join(f"'{c}'" for c in COMPONENTS) + "]"
    select = _SELECT.format(
        base=BASE_MS,
        span=SPAN_DAYS * DAY_MS,
        components=components,
        kind=KIND_ENUM,
        severity=SEVERITY_ENUM,
        offset=offset,
        rows=rows,
    )
    columns = ", ".join(INSERT_COLUMNS)
    return f"INSERT INTO {quote_identifier(database)}.events ({columns}) {select}"


def ensure_loaded(
    client: Any, caps: Capabilities, database: str, rows: int, *, say: Any = print
) -> DataSet:
    """Make ``database.events`` hold exactly ``rows`` synthetic events; reuse when it does.

    Blocking; a full load of 10M rows takes minutes on a slow machine.
    """
    if _count(client, database) == rows:
        say(f"reusing {database}: {rows:,} events already loaded")
        migrate(client, caps, MigrationOptions(database))  # tables added since the load
    else:
        client.execute(f"DROP DATABASE IF EXISTS {quote_identifier(database)}")
        migrate(client, caps, MigrationOptions(database))
        for offset in range(0, rows, _CHUNK):
            size = min(_CHUNK, rows - offset)
            client.execute(_insert_sql(database, offset, size))
            say(f"loaded {offset + size:,} / {rows:,} events into {database}")
        client.execute(f"OPTIMIZE TABLE {quote_identifier(database)}.events FINAL")
    # What the workers' roll-up timer does within a minute of a day settling.
    report = refresh(client, database, now_ms=int(time.time() * 1000))
    say(f"rolled up {len(report.rolled_up)} settled day(s)")
    return DataSet(database, rows)
