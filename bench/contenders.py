"""The contenders of the ingest benchmarks: our workers and the two peers.

Each contender starts consuming one topic into one database (a fresh migrated copy of our
schema) and is stopped by :meth:`Contender.stop`. The harness times them identically.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from clickhouse_driver import Client

from bench.kafka_engine import create_kafka_engine, drop_kafka_engine, start_group_at_beginning

__all__ = ["BareConsumers", "Contender", "KafkaEngine", "Workers"]


@dataclass
class Contender:
    name: str
    processes: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(
        self, *, bootstrap: str, clickhouse_url: str, topic: str, database: str, group: str
    ) -> None:
        raise NotImplementedError

    def stop(self) -> None:
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
        for _ in range(self.processes):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "eventpipe", "worker", "--web-port", "0"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )


class BareConsumers(Contender):
    """The floor: :mod:`bench.floor_consumer` processes in one consumer group."""

    def __init__(self, processes: int) -> None:
        super().__init__("bare confluent-kafka consumer", processes)

    def start(
        self, *, bootstrap: str, clickhouse_url: str, topic: str, database: str, group: str
    ) -> None:
        for _ in range(self.processes):
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.floor_consumer",
                        bootstrap,
                        topic,
                        clickhouse_url,
                        database,
                        group,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
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
