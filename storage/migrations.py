"""Versioned, idempotent schema migrations, recorded in ``<database>.schema_migrations``.

Each migration renders its statements for the detected server (:class:`Capabilities`), so
one source runs on ClickHouse 18.16 and on the current engine. Every statement is itself
idempotent (``IF NOT EXISTS``), so two processes migrating at once, or a migration that
died half-way, are harmless: the next run completes it and records it once.

After the versioned migrations, the ``events`` table's TTL is brought in line with
``retention_days`` (:mod:`storage.retention`): the setting may change after the table exists.

Run with ``eventpipe migrate``; workers and the API check the recorded version on start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from storage.retention import RetentionReport, align_retention
from storage.rollup import rollup_table_ddl
from storage.schema import events_table_ddl, quote_identifier
from storage.version import Capabilities

__all__ = [
    "MIGRATIONS",
    "Executor",
    "Migration",
    "MigrationOptions",
    "applied_versions",
    "latest_version",
    "migrate",
]


class Executor(Protocol):
    """Runs one SQL statement and returns its rows (clickhouse-driver's ``Client`` is one)."""

    def execute(self, query: str) -> Any: ...


@dataclass(frozen=True)
class MigrationOptions:
    database: str
    retention_days: int = 0


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[MigrationOptions, Capabilities], Sequence[str]]


def _events(opts: MigrationOptions, caps: Capabilities) -> Sequence[str]:
    return [events_table_ddl(opts.database, caps, retention_days=opts.retention_days)]


def _ingest_offsets(opts: MigrationOptions, caps: Capabilities) -> Sequence[str]:
    # Per (group, topic, partition): the next offset whose events are not yet known to be
    # stored. Written after each confirmed insert; read on partition assignment.
    db = quote_identifier(opts.database)
    return [
        f"CREATE TABLE IF NOT EXISTS {db}.ingest_offsets (\n"
        "    consumer_group String,\n"
        "    topic String,\n"
        "    partition Int32,\n"
        "    next_offset Int64,\n"
        "    updated_ms Int64\n"
        ") ENGINE = ReplacingMergeTree(updated_ms)\n"
        "ORDER BY (consumer_group, topic, partition)"
    ]


def _events_daily(opts: MigrationOptions, caps: Capabilities) -> Sequence[str]:
    # Per settled day: counts per (component, kind, severity); see storage.rollup.
    return [rollup_table_ddl(opts.database)]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "create events", _events),
    Migration(2, "create ingest_offsets", _ingest_offsets),
    Migration(3, "create events_daily", _events_daily),
)


def latest_version() -> int:
    return MIGRATIONS[-1].version


def _ensure_bookkeeping(executor: Executor, database: str) -> None:
    db = quote_identifier(database)
    executor.execute(f"CREATE DATABASE IF NOT EXISTS {db}")
    executor.execute(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (\n"
        "    version UInt32,\n"
        "    name String,\n"
        "    applied_ms Int64,\n"
        "    server_version String\n"
        ") ENGINE = ReplacingMergeTree(applied_ms) ORDER BY version"
    )


def applied_versions(executor: Executor, database: str) -> set[int]:
    """Versions recorded in ``schema_migrations`` (empty when the database is new)."""
    db = quote_identifier(database)
    exists = executor.execute(
        f"SELECT count() FROM system.tables WHERE database = '{database}' "
        "AND name = 'schema_migrations'"
    )
    if not exists or not exists[0][0]:
        return set()
    return {int(row[0]) for row in executor.execute(f"SELECT version FROM {db}.schema_migrations")}


def migrate(
    executor: Executor,
    caps: Capabilities,
    options: MigrationOptions,
    *,
    on_apply: Callable[[Migration], None] | None = None,
    on_retention: Callable[[RetentionReport], None] | None = None,
) -> list[int]:
    """Apply every migration not yet recorded, then align the table's TTL with
    ``options.retention_days``; return the versions applied now. ``on_apply`` is called
    before each migration, ``on_retention`` with what the alignment did.

    Blocking (one statement at a time). Raises whatever the executor raises.
    """
    _ensure_bookkeeping(executor, options.database)
    done = applied_versions(executor, options.database)
    db = quote_identifier(options.database)
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        if on_apply is not None:
            on_apply(migration)
        for statement in migration.statements(options, caps):
            executor.execute(statement)
        name = migration.name.replace("\\", "\\\\").replace("'", "\\'")
        # INSERT ... SELECT, not VALUES: clickhouse-driver would wait for a data block.
        executor.execute(
            f"INSERT INTO {db}.schema_migrations (version, name, applied_ms, server_version) "
            f"SELECT {migration.version}, '{name}', {int(time.time() * 1000)}, "
            f"'{caps.version}'"
        )
        applied.append(migration.version)
    report = align_retention(executor, caps, options.database, options.retention_days)
    if on_retention is not None:
        on_retention(report)
    return applied
