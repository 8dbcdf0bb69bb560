"""Settings building blocks shared by every service's ``settings.py``.

Each service composes the blocks it needs into one frozen ``BaseSettings`` class built by
``Settings.load()``. Every knob is an environment variable with the ``EVENTPIPE_`` prefix
(field ``kafka_bootstrap`` ↔ ``EVENTPIPE_KAFKA_BOOTSTRAP``); an optional ``.env`` file is
read too. Nothing else in eventpipe reads ``os.environ``. ``docs/configuration.md`` is
generated from these classes (``eventpipe config-docs``) and a test fails when it drifts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.topics import DEFAULT_INGEST_TOPIC

__all__ = [
    "BaseServiceSettings",
    "ClickHouseConnection",
    "KafkaConnection",
    "LogSettings",
    "PostgresConnection",
]


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVENTPIPE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )


class LogSettings(BaseServiceSettings):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of the structured logs."
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="json for machines (one object per line), console for people."
    )
    log_library_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="Minimum level of the libraries' own logs (faust, mode, aiokafka, uvicorn).",
    )


class KafkaConnection(BaseServiceSettings):
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", description="Kafka bootstrap servers, comma separated."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="Kafka security protocol."
    )
    kafka_sasl_mechanism: str | None = Field(
        default=None, description="SASL mechanism (PLAIN, SCRAM-SHA-256, ...) when SASL is used."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    topic: str = Field(
        default=DEFAULT_INGEST_TOPIC,
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="Ingest topic; dead letters go to <topic>.dlq.",
    )

    def librdkafka_security(self) -> dict[str, str]:
        """confluent-kafka configuration for the connection and its security."""
        conf = {
            "bootstrap.servers": self.kafka_bootstrap,
            "security.protocol": self.kafka_security_protocol,
        }
        if self.kafka_sasl_mechanism:
            conf["sasl.mechanism"] = self.kafka_sasl_mechanism
        if self.kafka_sasl_username:
            conf["sasl.username"] = self.kafka_sasl_username
        if self.kafka_sasl_password:
            conf["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        return conf


class ClickHouseConnection(BaseServiceSettings):
    clickhouse_url: str = Field(
        default="clickhouse://default@127.0.0.1:19000/default",
        description="Native-protocol URL of the ClickHouse server (user, host, port).",
    )
    clickhouse_password: SecretStr = Field(
        default=SecretStr(""), description="Password of the ClickHouse user."
    )
    clickhouse_database: str = Field(
        default="eventpipe",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="Database holding the events table.",
    )
    clickhouse_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a connection."
    )
    clickhouse_timeout: float = Field(
        default=60.0, gt=0, description="Seconds to wait for one query or insert."
    )
    retention_days: int = Field(
        default=0,
        ge=0,
        description="Delete events older than this many days (TTL; servers >= 20.1). 0 keeps all.",
    )


class PostgresConnection(BaseServiceSettings):
    postgres_dsn: SecretStr = Field(
        default=SecretStr("postgresql://eventpipe@127.0.0.1:15432/eventpipe"),
        description="libpq URL of the PostgreSQL database holding the outbox table.",
    )
