"""The contenders of the ingest benchmarks: our workers and the two peers.

Each contender starts consuming one topic into one database (a fresh migrated copy of our
schema) and is stopped by :meth:`Contender.stop`. The harness times them identically.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clickhouse_driver import Client

from bench.kafka_engine import create_kafka_engine, drop_kafka_engine, start_group_at_beginning

__all__ = ["BareConsumers", "Contender", "KafkaEngine", "Workers", "peak_rss_mib"]


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident memory so far (``VmHWM``), in MiB; None when unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


@dataclass
class Contender:
    name: str
    processes: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: The largest peak RSS among the contender's processes, read as they stop (MiB).
    peak_rss: float | None = None

    def start(
        self, *, bootstrap: str, clickhouse_url: str, topic: str, database: str, group: str
    ) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        peaks = [peak_rss_mib(proc.pid) for proc in self.procs if proc.poll() is None]
        known = [peak for peak in peaks if peak is not None]
        if known:
            self.peak_rss = max(known)
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    logs: list[Path] = field(default_factory=list)

    def _log(self) -> Path:
        path = Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
        self.logs.append(path)
        return path

    def assignments(self) -> list[list[int] | None]:
        """Each process's current partitions (None before its first assignment)."""
        out: list[list[int] | None] = []
        for path in self.logs:
            current: list[int] | None = None
            for line in path.read_text(errors="replace").splitlines():
                if not line.startswith("{"):
                    continue
                record = json.loads(line)
                if record.get("event") == "partitions assigned" or "assigned" in record:
                    current = record.get("partitions", record.get("assigned"))
                elif record.get("event") == "partitions revoked" or "revoked" in record:
                    current = None
            out.append(current)
        return out

    def wait_stable(self, partitions: int, timeout: float = 120.0) -> None:
        """Block until the group's members hold every partition, unchanged for 2 s."""
        deadline, since, last = time.monotonic() + timeout, time.monotonic(), None
        while time.monotonic() < deadline:
            held = self.assignments()
            covered = all(h is not None for h in held) and sorted(
                p for h in held for p in (h or [])
            ) == list(range(partitions))
            if held != last:
                since, last = time.monotonic(), held
            elif covered and time.monotonic() - since >= 2.0:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name}: the group did not settle: {self.assignments()}")


class Workers(Contender):
    """``eventpipe worker`` processes in one consumer group."""

    def __init__(self, processes: int, **overrides: str) -> None:
        super().__init__("eventpipe workers", processes)
        self.overrides = overrides

    def start(
        self, *, bootstrap: str, clickhouse_url: str, topic: str, database: str, group: str
    ) -> None:
        env = {
            **os.environ,
            "EVENTPIPE_KAFKA_BOOTSTRAP": bootstrap,
            "EVENTPIPE_CLICKHOUSE_URL": clickhouse_url,
            "EVENTPIPE_CLICKHOUSE_DATABASE": database,
            "EVENTPIPE_TOPIC": topic,
            "EVENTPIPE_WORKER_GROUP": group,
            "EVENTPIPE_LOG_LEVEL": "WARNING",
            **self.overrides,
        }
        env["EVENTPIPE_LOG_LEVEL"] = "INFO"  # "partitions assigned" lines; libraries stay quiet
        for _ in range(self.processes):
            with self._log().open("wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "eventpipe", "worker", "--web-port", "0"],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )


class BareConsumers(Contender):
    """The floor: :mod:`bench.floor_consumer` processes in one consumer group."""

    def __init__(self, processes: int) -> None:
        super().__init__("bare confluent-kafka consumer", processes)

    def start(
        self, *, bootstrap: str, clickhouse_url: str, topic: str, database: str, group: str
    ) -> None:
        argv = [sys.executable, "-m", "bench.floor_consumer", bootstrap, topic, clickhouse_url]
        for _ in range(self.processes):
            with self._log().open("wb") as log:
                self.procs.append(
                    subprocess.Popen([*argv, database, group], stdout=log, stderr=subprocess.STDOUT)
                )


class KafkaEngine(Contender):
    """ClickHouse's Kafka table engine + a materialized view (no processes of ours)."""

    def __init__(self, consumers: int, client: Client, conf: dict[str, Any]) -> None:
        super().__init__("ClickHouse Kafka engine", consumers)
        self.client = client
        self.conf = conf
        self.database = ""

    def start(
        self, *, bootstrap: str, clickhouse_url: str, topic: str, database: str, group: str
    ) -> None:
        start_group_at_beginning(self.conf, topic, group)
        self.database = database
        create_kafka_engine(
            self.client, database=database, bootstrap=bootstrap, topic=topic, group=group,
            consumers=self.processes,
        )  # fmt: skip

    def stop(self) -> None:
        if self.database:
            drop_kafka_engine(self.client, self.database)
        super().stop()

    def wait_stable(self, partitions: int, timeout: float = 120.0) -> None:
        return None  # the engine's consumers are inside the server: nothing to watch
