"""Drive the real pipeline from tests: produce records, run worker processes, read rows."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import orjson
from clickhouse_driver import Client
from confluent_kafka import Producer

from eventpipe.kafka import PARTITIONER
from events import decode
from events.codec import pack_lines
from storage.rows import SELECT_COLUMNS, row_to_event

__all__ = [
    "WorkerProcess",
    "expected_events",
    "produce",
    "raw_row_count",
    "stored_events",
    "wait_for_rows",
]


def produce(
    conf: dict[str, Any], topic: str, lines: Sequence[tuple[str, bytes]], *, per_record: int
) -> list[tuple[int, int, int]]:
    """Publish ``(component, line)`` pairs, ``per_record`` lines per record, in order.

    Returns ``(partition, offset, lines_in_record)`` of every record, in send order.
    """
    producer = Producer(
        {
            **conf,
            "partitioner": PARTITIONER,
            "linger.ms": 5,
            "compression.type": "lz4",
            # A line past the broker's 1 MB limit still goes when it compresses under it.
            "message.max.bytes": 16_000_000,
        }
    )
    placed: list[tuple[int, int, int]] = []
    by_component: dict[str, list[bytes]] = {}
    for component, line in lines:
        by_component.setdefault(component, []).append(line)
    for component, group in by_component.items():
        for value in pack_lines(group, max_events=per_record):
            count = value.count(b"\n")

            def on_delivery(err: Any, msg: Any, count: int = count) -> None:
                assert err is None, err
                placed.append((msg.partition(), msg.offset(), count))

            producer.produce(topic, key=component.encode(), value=value, on_delivery=on_delivery)
            producer.poll(0)
    assert producer.flush(30) == 0
    return placed


def expected_events(raw: Sequence[bytes]) -> dict[str, dict[str, Any]]:
    """The normal form the store must give back for each valid line, by event id."""
    out: dict[str, dict[str, Any]] = {}
    for line in raw:
        # msgspec, not orjson: an integer in data past 64 bits stays exact.
        event = msgspec.json.decode(decode(line).model_dump_json(exclude_none=True))
        out[event["event_id"]] = comparable(event)
    return out


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """Compare instants, not spellings of them."""
    event = dict(event)
    event["timestamp"] = datetime.fromisoformat(event["timestamp"]).timestamp()
    return event


def stored_events(client: Client, database: str) -> dict[str, dict[str, Any]]:
    """What a reader sees: each event once (the read path deduplicates by event id)."""
    rows, types = client.execute(
        f"SELECT {', '.join(SELECT_COLUMNS)} FROM `{database}`.events "
        "ORDER BY event_id, ingested_ms LIMIT 1 BY event_id",
        with_column_types=True,
    )
    names = [t[0] for t in types]
    events = (row_to_event(dict(zip(names, row, strict=True))) for row in rows)
    return {e["event_id"]: comparable(e) for e in events}


def raw_row_count(client: Client, database: str) -> int:
    return int(client.execute(f"SELECT count() FROM `{database}`.events")[0][0])


def distinct_count(client: Client, database: str) -> int:
    return int(client.execute(f"SELECT uniqExact(event_id) FROM `{database}`.events")[0][0])


def wait_for_rows(client: Client, database: str, n: int, *, timeout: float = 120.0) -> int:
    """Poll until ``n`` distinct events are readable; return how many there are then."""
    deadline = time.monotonic() + timeout
    while True:
        count = distinct_count(client, database)
        if count >= n:
            return count
        if time.monotonic() > deadline:
            raise AssertionError(f"only {count} of {n} events readable after {timeout:.0f}s")
        time.sleep(0.25)


class WorkerProcess:
    """One ``eventpipe worker`` subprocess with its settings given as environment."""

    def __init__(self, env: dict[str, str], *, web_port: int = 0) -> None:
        self._env = {**os.environ, "EVENTPIPE_LOG_FORMAT": "json", **env}
        self._web_port = web_port
        self._log = Path(tempfile.mkstemp(prefix="worker-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self._log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "eventpipe", "worker", "--web-port", str(self._web_port)],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def wait_assigned(self, timeout: float = 60) -> None:
        """Block until this worker logged a partition assignment (it is in the group)."""
        deadline = time.monotonic() + timeout
        while "partitions assigned" not in self.log():
            assert self.alive(), f"worker exited:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, "worker never joined the group"
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.alive():
            self.kill()


def make_lines(n: int, *, seed: int = 1, components: int = 6) -> list[tuple[str, bytes]]:
    """``n`` valid, varied events as ``(component, JSON line)``; every contract field used."""
    import random
    import uuid

    rng = random.Random(seed)
    base = 1_795_000_000_000
    out = []
    for i in range(n):
        component = f"svc-{i % components}"
        kind = ("log", "event", "error", "access")[i % 4]
        event: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "timestamp": base + i * 37
            if i % 3
            else f"2026-11-22T10:{i % 60:02d}:00.{i % 1000:03d}+02:00",
            "component": component,
            "kind": kind,
            "severity": ("debug", "Info", "warn", "ERROR", "fatal")[i % 5],
            "message": None if kind == "access" else f"message {i} ünïcode",
            "user": f"user{i % 50}@example.com" if i % 2 else None,
            "environment": "production",
            "trace_id": f"{rng.getrandbits(64):016x}",
            "data": {"i": i, "nested": {"even": i % 2 == 0, "tags": ["a", str(i)]}}
            if i % 5
            else None,
        }
        if kind == "access":
            event["http"] = {
                "method": "get",
                "path": f"/p/{i}",
                "status": 200 + i % 300,
                "bytes": i,
            }
        out.append((component, orjson.dumps({k: v for k, v in event.items() if v is not None})))
    return out
