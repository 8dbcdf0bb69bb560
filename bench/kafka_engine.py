"""The Kafka-engine peer: ClickHouse consuming the topic itself (what a user might pick).

ClickHouse 18.16's Kafka engine cannot read a nested object into a String column with
JSONEachRow, so (as in shared/MEASURED.md) the queue table has one ``raw String`` column in
TabSeparated format — one row per NDJSON line — and a materialized view extracts the fields
with ``visitParamExtract*`` into a copy of the events table. It does less than we do: no
validation, no normal forms, no dead letters, and ``data`` is kept only as raw JSON (18.16
SQL cannot flatten nested objects), so its ``data_keys``/``data_values`` stay empty.
"""

from __future__ import annotations

from typing import Any

from clickhouse_driver import Client
from confluent_kafka import Consumer, TopicPartition

from storage.schema import KIND_ENUM, SEVERITY_ENUM

__all__ = ["create_kafka_engine", "drop_kafka_engine", "start_group_at_beginning"]


def _s(field: str, src: str = "raw") -> str:
    return f"visitParamExtractString({src}, '{field}')"


def _mv_select(topic: str) -> str:
    http = "visitParamExtractRaw(raw, 'http')"
    return f"""
    SELECT
        toUUID({_s("event_id")}) AS event_id,
        visitParamExtractInt(raw, 'timestamp') AS ts_ms,
        {_s("component")} AS component,
        {_s("environment")} AS environment,
        CAST(if({_s("kind")} = '', 'log', {_s("kind")}) AS {KIND_ENUM}) AS kind,
        CAST(if({_s("severity")} = '', 'INFO', {_s("severity")}) AS {SEVERITY_ENUM}) AS severity,
        {_s("message")} AS message,
        {_s("user")} AS user,
        {_s("function")} AS function,
        {_s("reason")} AS reason,
        {_s("trace_id")} AS trace_id,
        visitParamExtractRaw(raw, 'data') AS data,
        {_s("method", http)} AS http_method,
        {_s("path", http)} AS http_path,
        toUInt16(visitParamExtractUInt({http}, 'status')) AS http_status,
        {_s("ip", http)} AS http_ip,
        emptyArrayString() AS data_keys,
        emptyArrayString() AS data_values,
        if(visitParamHas({http}, 'bytes'), visitParamExtractUInt({http}, 'bytes'), NULL)
            AS http_bytes,
        if(visitParamHas({http}, 'duration_ms'),
           visitParamExtractFloat({http}, 'duration_ms'), NULL) AS http_duration_ms,
        {_s("user_agent", http)} AS http_user_agent,
        '{topic}' AS src_topic,
        toInt32(0) AS src_partition,
        toInt64(0) AS src_offset,
        toUInt32(0) AS src_line,
        toInt64(toUInt32(now())) * 1000 AS ingested_ms
    FROM {{queue}}
    """


def create_kafka_engine(
    client: Client, *, database: str, bootstrap: str, topic: str, group: str, consumers: int
) -> None:
    """Queue table + materialized view into ``database.events`` (already migrated)."""
    queue = f"`{database}`.kafka_queue"
    client.execute(
        f"CREATE TABLE {queue} (raw String) ENGINE = Kafka "
        f"SETTINGS kafka_broker_list = '{bootstrap}', kafka_topic_list = '{topic}', "
        f"kafka_group_name = '{group}', kafka_format = 'TabSeparated', "
        f"kafka_num_consumers = {consumers}"
    )
    client.execute(
        f"CREATE MATERIALIZED VIEW `{database}`.kafka_mv TO `{database}`.events AS "
        + _mv_select(topic).format(queue=queue)
    )


def drop_kafka_engine(client: Client, database: str) -> None:
    client.execute(f"DROP TABLE IF EXISTS `{database}`.kafka_mv")
    client.execute(f"DROP TABLE IF EXISTS `{database}`.kafka_queue")


def start_group_at_beginning(conf: dict[str, Any], topic: str, group: str) -> None:
    """Commit offset 0 everywhere for ``group``: the old engine cannot be told 'earliest'."""
    consumer = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.commit(
            offsets=[TopicPartition(topic, p, 0) for p in partitions], asynchronous=False
        )
    finally:
        consumer.close()
