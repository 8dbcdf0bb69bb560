"""The schema on the real server and on chdb: migrations, columns, a batch round trip."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import orjson
import pytest
from clickhouse_driver import Client
from clickhouse_driver.util.escape import escape_param

from events.wire import WireEvent, decode_wire
from storage.migrations import MIGRATIONS, MigrationOptions, applied_versions, migrate
from storage.native import InsertClient
from storage.retention import RetentionReport, table_retention_days
from storage.rows import SELECT_COLUMNS, row_to_event, to_columns
from storage.schema import EVENT_COLUMNS, INSERT_COLUMNS
from storage.version import Capabilities
from stream_processors.sink import insert_settings
from tests.support.chdb_executor import ChdbExecutor, _Context
from tests.support.names import unique
from tests.support.services import ROOT, Endpoints


def sample_events(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        event: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "timestamp": 1_700_000_000_000 + i * 3_600_123,  # spans many daily partitions
            "component": f"svc-{i % 5}",
            "environment": "production" if i % 2 else "",
            "kind": ["log", "error", "event", "access"][i % 4],
            "severity": ["debug", "info", "warn", "error", "fatal"][i % 5],
            "message": f"message {i} ünïcode ✓" if i % 4 != 3 else None,
            "user": f"user{i % 7}@example.com",
            "data": {"i": i, "nested": {"ok": i % 2 == 0, "list": [i, str(i)]}} if i % 3 else None,
        }
        if event["kind"] == "access":
            event["http"] = {
                "method": "get",
                "path": f"/p/{i}",
                "status": 200 + i % 300,
                "ip": "10.0.0.1",
                "bytes": i,
                "duration_ms": i / 7,
            }
        out.append({k: v for k, v in event.items() if v is not None})
    return out


def columns_for(events: list[WireEvent]) -> list[Any]:
    n = len(events)
    return to_columns(
        events,
        src_topic=["t"] * n,
        src_partition=[1] * n,
        src_offset=list(range(n)),
        src_line=[1] * n,
        ingested_ms=int(time.time() * 1000),
    )


def insert_and_read(
    client: Client, database: str, events: list[WireEvent]
) -> dict[str, dict[str, Any]]:
    """One columnar insert of ``events``, then every stored row as an event, by id."""
    client.execute(
        f"INSERT INTO `{database}`.events ({', '.join(INSERT_COLUMNS)}) VALUES",
        columns_for(events),
        columnar=True,
        types_check=False,
    )
    rows, types = client.execute(
        f"SELECT {', '.join(SELECT_COLUMNS)} FROM `{database}`.events", with_column_types=True
    )
    names = [t[0] for t in types]
    stored = (row_to_event(dict(zip(names, r, strict=True))) for r in rows)
    return {e["event_id"]: e for e in stored}


def expected(raw: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from events import decode

    out = {}
    for e in raw:
        event = decode(orjson.dumps(e))
        shaped = orjson.loads(event.model_dump_json(exclude_none=True))
        shaped["timestamp"] = (
            shaped["timestamp"].replace("000Z", "Z")
            if shaped["timestamp"].endswith("000Z")
            else shaped["timestamp"]
        )
        out[shaped["event_id"]] = shaped
    return out


def normalise_ts(event: dict[str, Any]) -> dict[str, Any]:
    # model_dump_json prints microseconds; the store prints milliseconds. Compare instants.
    from datetime import datetime

    event = dict(event)
    event["timestamp"] = datetime.fromisoformat(event["timestamp"]).timestamp()
    if "http" in event and "duration_ms" in event["http"]:
        event["http"] = dict(event["http"], duration_ms=round(event["http"]["duration_ms"], 9))
    return event


# --- the real server ---------------------------------------------------------------------


@pytest.fixture(params=["driver", "InsertClient"])
def inserter(
    request: pytest.FixtureRequest, ch_client: Client, endpoints: Endpoints
) -> Iterator[Client]:
    """The client a batch is inserted with: clickhouse-driver's own, or the workers'
    (storage.native), whose columnar inserts encode columns their own way."""
    if request.param == "driver":
        yield ch_client
        return
    client = InsertClient.from_url(endpoints.clickhouse_url)
    assert isinstance(client, InsertClient)
    yield client
    client.disconnect()


def test_migrations_are_recorded_and_idempotent(ch_client: Client, ch_caps: Capabilities) -> None:
    name = unique("ept")
    try:
        first = migrate(ch_client, ch_caps, MigrationOptions(name))
        assert first == [m.version for m in MIGRATIONS]
        assert migrate(ch_client, ch_caps, MigrationOptions(name)) == []
        assert applied_versions(ch_client, name) == set(first)
    finally:
        ch_client.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_retention_is_not_enforced_on_a_server_without_ttl(
    ch_client: Client, ch_caps: Capabilities, endpoints: Endpoints
) -> None:
    # 18.16 has no table TTL: CREATE TABLE leaves it out, and migrate used to say nothing.
    if ch_caps.ttl:
        pytest.skip(f"ClickHouse {ch_caps.version} has table TTL")
    name = unique("ept")
    env = {
        **os.environ,
        "EVENTPIPE_CLICKHOUSE_URL": endpoints.clickhouse_url,
        "EVENTPIPE_CLICKHOUSE_DATABASE": name,
        "EVENTPIPE_RETENTION_DAYS": "30",
        "COLUMNS": "200",
    }
    try:
        for _ in range(2):  # creating the table, then on an existing one
            run = subprocess.run(
                [sys.executable, "-m", "eventpipe", "migrate"],
                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
            warnings = [line for line in run.stderr.splitlines() if "RETENTION_DAYS" in line]
            assert warnings == [
                f"warning: EVENTPIPE_RETENTION_DAYS=30 is not enforced: ClickHouse "
                f"{ch_caps.version} has no table TTL (20.1.0 and later have); every event is kept"
            ], run.stderr
        create = ch_client.execute(f"SHOW CREATE TABLE `{name}`.events")[0][0]
        assert "TTL" not in create
    finally:
        ch_client.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_table_columns_equal_the_insert_column_list(
    ch_client: Client, ch_caps: Capabilities, ch_database: str
) -> None:
    rows = ch_client.execute(f"DESCRIBE TABLE `{ch_database}`.events")
    stored = [(r[0], r[1]) for r in rows if r[2] not in ("ALIAS", "MATERIALIZED")]
    assert [name for name, _ in stored] == list(INSERT_COLUMNS)
    assert [t for _, t in stored] == [c.render_type(ch_caps) for c in EVENT_COLUMNS]
    aliases = {r[0]: r[1] for r in rows if r[2] == "ALIAS"}
    assert set(aliases) == {"timestamp"}


def test_batch_round_trips_through_a_columnar_insert(inserter: Client, ch_database: str) -> None:
    raw = sample_events(3_000)
    found = insert_and_read(inserter, ch_database, [decode_wire(orjson.dumps(e)) for e in raw])
    stored = {event_id: normalise_ts(e) for event_id, e in found.items()}
    want = {k: normalise_ts(v) for k, v in expected(raw).items()}
    assert len(stored) == len(raw)
    assert stored == want


def test_what_json_allows_is_stored_exactly(
    inserter: Client, ch_client: Client, ch_database: str
) -> None:
    # An integer past 64 bits in data (orjson cannot write it), data nested 150 levels,
    # the largest http.bytes, a NUL in a message: valid events, so they must be storable.
    deep: Any = 1
    for _ in range(150):
        deep = {"d": deep}
    data = {"big": 123456789012345678901234567890, "neg": -(2**70), "deep": deep}
    lines = [
        msgspec.json.encode({"component": "a", "message": "m", "data": data}),
        msgspec.json.encode({"component": "a", "message": "a\u0000b"}),
        msgspec.json.encode(
            {
                "component": "a",
                "kind": "access",
                "http": {"method": "GET", "path": "/", "status": 200, "bytes": 2**63 - 1},
            }
        ),
    ]
    events = []
    for line in lines:
        event = decode_wire(line)
        event.event_id = uuid.uuid4()
        event.timestamp = 1_700_000_000_000
        events.append(event)
    stored = insert_and_read(inserter, ch_database, events)
    first, second, third = (stored[str(e.event_id)] for e in events)
    assert first["data"] == data  # exact: not rounded through a float
    assert second["message"] == "a\x00b"
    assert third["http"]["bytes"] == 2**63 - 1
    keys, values = ch_client.execute(
        f"SELECT data_keys, data_values FROM `{ch_database}`.events WHERE data != ''"
    )[0]
    assert keys[:2] == ["big", "neg"] and values[:2] == [str(data["big"]), str(data["neg"])]
    assert keys[2] == "deep" + ".d" * 150


def test_both_clients_store_the_same_rows(
    ch_client: Client, endpoints: Endpoints, ch_caps: Capabilities
) -> None:
    # Every stored column, compared raw: the workers' client against the driver's own.
    events = [decode_wire(orjson.dumps(e)) for e in sample_events(2_000)]
    columns = columns_for(events)
    ours = InsertClient.from_url(endpoints.clickhouse_url)
    names = [unique("ept"), unique("ept")]
    try:
        for name, client in zip(names, (ch_client, ours), strict=True):
            migrate(ch_client, ch_caps, MigrationOptions(name))
            sql = f"INSERT INTO `{name}`.events ({', '.join(INSERT_COLUMNS)}) VALUES"
            client.execute(sql, [list(c) for c in columns], columnar=True, types_check=False)
        theirs_rows, mine_rows = (
            ch_client.execute(
                f"SELECT {', '.join(INSERT_COLUMNS)} FROM `{name}`.events ORDER BY event_id"
            )
            for name in names
        )
        assert len(mine_rows) == len(events)
        assert mine_rows == theirs_rows
    finally:
        ours.disconnect()
        for name in names:
            ch_client.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_redelivered_rows_collapse_on_merge(ch_client: Client, ch_database: str) -> None:
    events = [decode_wire(orjson.dumps(e)) for e in sample_events(50)]
    sql = f"INSERT INTO `{ch_database}`.events ({', '.join(INSERT_COLUMNS)}) VALUES"
    ch_client.execute(sql, columns_for(events), columnar=True)
    ch_client.execute(sql, columns_for(events), columnar=True)
    assert ch_client.execute(f"SELECT count() FROM `{ch_database}`.events")[0][0] == 100
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    assert ch_client.execute(f"SELECT count() FROM `{ch_database}`.events")[0][0] == 50


# --- chdb, the current engine --------------------------------------------------------------


def test_same_migrations_run_on_the_current_engine(chdb: ChdbExecutor) -> None:
    (version,) = chdb.execute("SELECT version()")[0]
    caps = Capabilities.for_version(version)
    assert caps.datetime64 and caps.skip_indexes
    db = unique("chdb")
    assert migrate(chdb, caps, MigrationOptions(db, retention_days=400)) == [1, 2, 3]
    assert migrate(chdb, caps, MigrationOptions(db, retention_days=400)) == []
    rows = chdb.execute(f"DESCRIBE TABLE {db}.events")
    stored = [(r[0], r[1]) for r in rows if r[2] not in ("ALIAS", "MATERIALIZED")]
    assert [n for n, _ in stored] == list(INSERT_COLUMNS)
    assert [t for _, t in stored] == [c.render_type(caps) for c in EVENT_COLUMNS]
    create = chdb.execute(f"SHOW CREATE TABLE {db}.events")[0][0]
    assert "TTL" in create and "bloom_filter" in create and "LowCardinality" in create


def test_migrate_brings_the_ttl_in_line_with_retention_days(chdb: ChdbExecutor) -> None:
    # The TTL used to be set at CREATE TABLE only: a changed EVENTPIPE_RETENTION_DAYS did
    # nothing to an existing table.
    (version,) = chdb.execute("SELECT version()")[0]
    caps = Capabilities.for_version(version)
    db = unique("chdb")
    reports: list[RetentionReport] = []

    def migrate_with(days: int) -> str:
        migrate(chdb, caps, MigrationOptions(db, retention_days=days), on_retention=reports.append)
        return str(chdb.execute(f"SHOW CREATE TABLE {db}.events")[0][0])

    assert "toIntervalDay(30)" in migrate_with(30)
    assert "toIntervalDay(7)" in migrate_with(7)
    assert "TTL" not in migrate_with(0)
    assert "TTL" not in migrate_with(0)
    assert "toIntervalDay(30)" in migrate_with(30)
    assert [(r.action, r.table_days) for r in reports] == [
        ("kept", 30), ("set", 30), ("removed", 7), ("kept", 0), ("set", 0)
    ]  # fmt: skip
    (engine_full,) = chdb.execute(
        f"SELECT engine_full FROM system.tables WHERE database = '{db}' AND name = 'events'"
    )[0]
    assert table_retention_days(engine_full) == 30


def test_batch_round_trips_on_the_current_engine(chdb: ChdbExecutor) -> None:
    _, db = _migrated(chdb)
    raw = sample_events(300)
    values = _values(columns_for([decode_wire(orjson.dumps(e)) for e in raw]))
    chdb.execute(f"INSERT INTO {db}.events ({', '.join(INSERT_COLUMNS)}) VALUES {values}")
    got = chdb.execute(f"SELECT {', '.join(SELECT_COLUMNS)} FROM {db}.events")
    stored = {
        e["event_id"]: normalise_ts(e)
        for e in (row_to_event(dict(zip(SELECT_COLUMNS, r, strict=True))) for r in got)
    }
    assert stored == {k: normalise_ts(v) for k, v in expected(raw).items()}
    (ts_type,) = chdb.execute(f"SELECT toTypeName(timestamp) FROM {db}.events LIMIT 1")[0]
    assert ts_type == "DateTime64(3, 'UTC')"


def test_a_batch_over_many_days_is_accepted_on_the_current_engine(chdb: ChdbExecutor) -> None:
    # The table has a partition per day; the current engine refuses an insert touching
    # more than 100 unless told otherwise — every retry of such a batch would fail too.
    caps, db = _migrated(chdb)
    raw = sample_events(120)
    for i, event in enumerate(raw):
        event["timestamp"] = 1_600_000_000_000 + i * 86_400_000  # 120 days
    values = _values(columns_for([decode_wire(orjson.dumps(e)) for e in raw]))
    insert = f"INSERT INTO {db}.events ({', '.join(INSERT_COLUMNS)})"
    with pytest.raises(Exception, match=r"(?i)too many partitions"):
        chdb.execute(f"{insert} VALUES {values}")
    settings = insert_settings(caps, "t:1:0-119")
    clause = ", ".join(f"{name} = {_literal(value)}" for name, value in settings.items())
    chdb.execute(f"{insert} SETTINGS {clause} VALUES {values}")
    assert chdb.execute(f"SELECT count() FROM {db}.events")[0][0] == 120


def _migrated(chdb: ChdbExecutor) -> tuple[Capabilities, str]:
    """The engine's capabilities, and a new database on it with every migration applied."""
    (version,) = chdb.execute("SELECT version()")[0]
    caps = Capabilities.for_version(version)
    db = unique("chdb")
    migrate(chdb, caps, MigrationOptions(db))
    return caps, db


def _values(columns: list[Any]) -> str:
    """Insert columns as the rows of a VALUES clause: chdb has no native protocol, so the
    same columns go as one multi-row statement."""
    rows = zip(*columns, strict=True)
    return ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)


def _literal(value: Any) -> str:
    return str(escape_param(value, _Context()))
