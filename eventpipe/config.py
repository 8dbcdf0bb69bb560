"""Settings building blocks shared by every service's ``settings.py``.

Each service composes the blocks it needs into one frozen ``BaseSettings`` class built by
``Settings.load()``. Every knob is an environment variable with the ``EVENTPIPE_`` prefix
(field ``kafka_bootstrap`` ↔ ``EVENTPIPE_KAFKA_BOOTSTRAP``); an optional ``.env`` file is
read too. Nothing else in eventpipe reads ``os.environ``. ``docs/configuration.md`` is
generated from these classes (``eventpipe config-docs``) and a test fails when it drifts.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from events.topics import DEFAULT_INGEST_TOPIC

__all__ = [
    "BaseServiceSettings",
    "ClickHouseConnection",
    "InvalidSetting",
    "KafkaConnection",
    "LogSettings",
    "PostgresConnection",
    "settings_problem",
    "unparsed_setting",
]

_PREFIX = "EVENTPIPE_"
_SECRET_WORDS = ("password", "token", "dsn", "secret", "url")  # a URL may hold a password


class InvalidSetting(Exception):
    """A setting that passed its model but cannot be used, e.g. an unreadable token file:
    the message starts with the variable. The ``eventpipe`` command ends with exit status
    2, as for a value the model refused."""


def settings_problem(exc: ValidationError) -> str:
    """One message naming every wrong setting by its environment variable.

    ``loc`` is the field (``topic`` ↔ ``EVENTPIPE_TOPIC``) or, for a field read through an
    alias, the variable itself. Values of secrets are never repeated.
    """
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        variable = _variables(exc.title, name) if name.isupper() else _PREFIX + name.upper()
        message = error["msg"].removeprefix("Value error, ")
        text = f"{variable}: {message}"
        value = error.get("input")
        if (
            error["type"] != "missing"
            and isinstance(value, str | int | float)
            and not any(word in name.lower() for word in _SECRET_WORDS)
        ):
            text += f" (got {value!r})"
        lines.append(text)
    return "invalid setting " + "; ".join(lines)


def unparsed_setting(exc: SettingsError) -> str:
    """One message naming a JSON-valued variable whose value is not JSON.

    pydantic-settings parses a structured field (a ``dict``, a ``list``) as JSON before the
    model sees it, and raises :class:`SettingsError` naming only the field. The value is
    never repeated (a librdkafka configuration may hold a password); the JSON error only
    says where it broke.
    """
    found = re.search(r'field "([a-z0-9_]+)"', str(exc))
    variable = _PREFIX + found.group(1).upper() if found else "a setting"
    cause = exc.__cause__
    why = f": {cause}" if isinstance(cause, ValueError) else ""
    return f"invalid setting {variable}: expected JSON{why}"


def _variables(model: str, name: str) -> str:
    """``name`` and the other variables of its field: pydantic names the first of a field's
    aliases, whichever one the operator set (``LOG_EVENTS_PARTITION_QUANTITY``, ...)."""
    todo: list[type[BaseServiceSettings]] = [BaseServiceSettings]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__name__ != model:
            continue
        for field in cls.model_fields.values():
            choices = getattr(field.validation_alias, "choices", None) or ()
            if name in choices:
                return " / ".join(c for c in choices if isinstance(c, str))
    return name


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVENTPIPE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # Every knob is finite: an `inf` timeout waits forever, a `nan` bound never holds.
        allow_inf_nan=False,
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

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        servers = [server.strip() for server in value.split(",")]
        for server in servers:
            if not server or any(c.isspace() for c in server):
                raise ValueError("expected host:port[,host:port...]")
            port = server.rpartition(":")[2]
            if port.isdigit() and not 0 < int(port) < 65536:
                raise ValueError(f"port {port} of {server} is not in 1..65535")
        return ",".join(servers)

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
        default=60.0,
        gt=0,
        description="Seconds to wait for one query or insert.",
    )
    retention_days: int = Field(
        default=0,
        ge=0,
        description="Delete events older than this many days (TTL; servers >= 20.1). 0 keeps all.",
    )

    def clickhouse_address(self) -> str:
        """``host:port`` of the server, for messages: the URL may hold a password."""
        url = urlsplit(self.clickhouse_url)
        return f"{url.hostname}:{url.port or (9440 if url.scheme == 'clickhouses' else 9000)}"

    @field_validator("clickhouse_url")
    @classmethod
    def _native_url(cls, value: str) -> str:
        url = urlsplit(value)
        if url.scheme not in {"clickhouse", "clickhouses"}:
            raise ValueError(
                "expected clickhouse://user@host:port/database (the native protocol, "
                "clickhouses:// for TLS)"
            )
        try:
            url.port  # noqa: B018 (raises for a port out of range)
        except ValueError as exc:
            raise ValueError(f"bad port: {exc}") from None
        if not url.hostname:
            raise ValueError("the URL names no host")
        return value


class PostgresConnection(BaseServiceSettings):
    postgres_dsn: SecretStr = Field(
        default=SecretStr("postgresql://eventpipe@127.0.0.1:15432/eventpipe"),
        description="libpq URL of the PostgreSQL database holding the outbox table.",
    )
