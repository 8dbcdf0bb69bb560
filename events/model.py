"""The event: the wire contract every producer, processor and reader shares.

One pydantic model validates JSON straight from bytes (pydantic-core parses and checks in
Rust); the few rules a schema cannot say (severity aliases, defaults that depend on ``kind``,
unknown top-level fields kept under ``data``) run in one after-validator.

Normal forms, so that a stored event reads back equal to what was validated:

* ``timestamp`` is UTC with millisecond precision (epoch-millisecond integers are accepted);
* ``severity`` is upper case, ``WARN`` → ``WARNING``, ``FATAL`` → ``CRITICAL``; it defaults to
  ``INFO``, or ``ERROR`` for ``kind == "error"``;
* an empty optional string is absent (``None``);
* unknown top-level fields move into ``data`` under their own name (a clash with a key
  already in ``data`` is rejected rather than overwritten).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from events.limits import MAX_HTTP_BYTES, MAX_MESSAGE_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS
from events.rules import (
    OPTIONAL_TEXT_FIELDS,
    SEVERITY_FORMS,
    check_finite_numbers,
    check_kind_requirements,
    default_severity,
    normalise_severity,
    parse_timestamp,
    timestamp_ms,
)

__all__ = [
    "COMPONENT_PATTERN",
    "KINDS",
    "SEVERITIES",
    "SEVERITY_ALIASES",
    "Event",
    "Http",
    "Kind",
    "Severity",
]

Severity = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Kind = Literal["log", "error", "event", "access"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
KINDS: tuple[Kind, ...] = get_args(Kind)
SEVERITY_ALIASES: dict[str, str] = {k: v for k, v in SEVERITY_FORMS.items() if k != v}
COMPONENT_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"

ShortText = Annotated[str, Field(max_length=MAX_SHORT_CHARS)]
LongText = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "integer", "minimum": 0, "description": "epoch milliseconds"},
            ]
        }
    ),
]


class Http(BaseModel):
    """The HTTP facts of an ``access`` event (optional on other kinds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Annotated[str, Field(pattern=r"^[A-Za-z]{1,16}$")]
    path: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    status: Annotated[StrictInt, Field(ge=100, le=599)]
    ip: ShortText | None = None
    bytes: Annotated[StrictInt, Field(ge=0, le=MAX_HTTP_BYTES)] | None = None
    duration_ms: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    user_agent: LongText | None = None

    @model_validator(mode="after")
    def _normalise(self) -> Http:
        if not self.method.isupper():
            self.__dict__["method"] = self.method.upper()
        return self


class Event(BaseModel):
    """One event, validated and in normal form. See the module docstring."""

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        json_schema_extra={"additionalProperties": True},
    )

    event_id: UUID | None = Field(
        default=None, description="Idempotency key; derived from the source when absent."
    )
    timestamp: Timestamp | None = Field(
        default=None,
        description="RFC 3339 with offset, or epoch milliseconds; stored in UTC, millisecond "
        "precision. Defaults to the Kafka record time.",
    )
    component: Annotated[str, Field(pattern=COMPONENT_PATTERN)] = Field(
        description="The emitting service; also the Kafka message key."
    )
    environment: ShortText | None = None
    kind: Kind = "log"
    severity: Annotated[Severity | None, BeforeValidator(normalise_severity)] = Field(
        default=None,
        description="Case-insensitive; WARN and FATAL are aliases. Default INFO, or ERROR for "
        "kind error.",
    )
    message: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)] | None = Field(
        default=None, description="Human text; required except for kind access."
    )
    user: ShortText | None = None
    function: LongText | None = None
    reason: LongText | None = None
    trace_id: ShortText | None = None
    data: dict[str, Any] | None = Field(
        default=None, description="Free JSON object; scalar leaves filterable as data.<path>."
    )
    http: Http | None = None

    @model_validator(mode="after")
    def _normalise(self, info: ValidationInfo) -> Event:
        # Frozen model: this validator is the one place that settles normal forms, and it
        # writes the instance dict directly (it runs for every event).
        fields = self.__dict__
        for name in _EMPTY_MEANS_ABSENT:
            if fields[name] == "":
                fields[name] = None
        if fields["severity"] is None:
            fields["severity"] = default_severity(fields["kind"])
        check_kind_requirements(fields["kind"], fields["message"], fields["http"])
        if self.__pydantic_extra__:
            self._move_extra_into_data()
        if info.mode == "json" and fields["data"]:
            check_finite_numbers(fields["data"])
        return self

    def _move_extra_into_data(self) -> None:
        extra = self.__pydantic_extra__ or {}
        data = dict(self.data or {})
        for key, value in extra.items():
            if key in data:
                raise PydanticCustomError(
                    "eventpipe_invalid",
                    "unknown top-level field {key} clashes with data.{key}",
                    {"field": key, "key": key},
                )
            data[key] = value
        self.__dict__["data"] = data
        object.__setattr__(self, "__pydantic_extra__", {})

    @property
    def timestamp_ms(self) -> int | None:
        """Event time as epoch milliseconds (``None`` when the event carried none)."""
        return None if self.timestamp is None else timestamp_ms(self.timestamp)


_EMPTY_MEANS_ABSENT = (*OPTIONAL_TEXT_FIELDS, "message")
