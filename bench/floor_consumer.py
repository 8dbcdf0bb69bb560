"""The floor peer: a bare confluent-kafka batch consumer doing columnar inserts.

What a team writes by hand without validation: ``consume(10000)`` → split lines →
``orjson.loads`` → the same columns (the table needs them: ``data`` flattened with the
same function) → one columnar insert → synchronous commit. No contract, no dead letters,
no retries. Run as ``python -m bench.floor_consumer BOOTSTRAP TOPIC CLICKHOUSE_URL DB GROUP``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson
from clickhouse_driver import Client
from confluent_kafka import Consumer

from storage.rows import flatten_data
from storage.schema import INSERT_COLUMNS

__all__ = ["columns_from_dicts", "main"]


def columns_from_dicts(
    rows: list[dict[str, Any]], topic: str, meta: list[tuple[int, int, int]]
) -> list[Any]:
    flat = [flatten_data(r.get("data")) for r in rows]
    http = [r.get("http") or {} for r in rows]
    now = int(time.time() * 1000)
    return [
        [r["event_id"] for r in rows],
        [r["timestamp"] for r in rows],
        [r["component"] for r in rows],
        [r.get("environment", "") for r in rows],
        [r.get("kind", "log") for r in rows],
        [r.get("severity", "INFO") for r in rows],
        [r.get("message", "") for r in rows],
        [r.get("user", "") for r in rows],
        [r.get("function", "") for r in rows],
        [r.get("reason", "") for r in rows],
        [r.get("trace_id", "") for r in rows],
        [orjson.dumps(r["data"]).decode() if "data" in r else "" for r in rows],
        [k for k, _ in flat],
        [v for _, v in flat],
        [h.get("method", "") for h in http],
        [h.get("path", "") for h in http],
        [h.get("status", 0) for h in http],
        [h.get("ip", "") for h in http],
        [h.get("bytes") for h in http],
        [h.get("duration_ms") for h in http],
        [h.get("user_agent", "") for h in http],
        [topic] * len(rows),
        [m[0] for m in meta],
        [m[1] for m in meta],
        [m[2] for m in meta],
        [now] * len(rows),
    ]


def _say(what: str, tps: list[Any]) -> None:
    sys.stdout.write(orjson.dumps({what: sorted(tp.partition for tp in tps)}).decode() + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    bootstrap, topic, url, database, group = argv
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    # Assignment changes on stdout, so the benchmark can tell when the group has settled.
    consumer.subscribe(
        [topic],
        on_assign=lambda _c, tps: _say("assigned", tps),
        on_revoke=lambda _c, tps: _say("revoked", tps),
    )
    client = Client.from_url(url)
    sql = f"INSERT INTO `{database}`.events ({', '.join(INSERT_COLUMNS)}) VALUES"
    while True:
        # Up to ~50,000 events per insert, like the workers' batches (records hold 1..1000).
        messages = []
        deadline = time.monotonic() + 1.0
        events = 0
        while events < 50_000 and time.monotonic() < deadline:
            got = consumer.consume(1_000, timeout=0.2)
            messages.extend(got)
            events += sum((m.value() or b"").count(b"\n") + 1 for m in got if not m.error())
        rows: list[dict[str, Any]] = []
        meta: list[tuple[int, int, int]] = []
        for msg in messages:
            value = msg.value()
            if msg.error() or value is None:
                continue
            partition, offset = msg.partition() or 0, msg.offset() or 0
            for number, line in enumerate(value.split(b"\n"), start=1):
                if line:
                    rows.append(orjson.loads(line))
                    meta.append((partition, offset, number))
        if rows:
            client.execute(
                sql, columns_from_dicts(rows, topic, meta), columnar=True, types_check=False
            )
        if messages:
            consumer.commit(asynchronous=False)


if __name__ == "__main__":
    main(sys.argv[1:])
