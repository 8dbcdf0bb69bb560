"""The contract's rules that a type schema cannot say, as plain functions.

Both decoders call these — the pydantic model (:mod:`events.model`, the contract) and the
msgspec fast path (:mod:`events.wire`) — so there is one definition of each rule. Errors are
:class:`pydantic_core.PydanticCustomError` so the model reports them as ordinary validation
errors; the fast path treats any of them as "not the common case" and defers to the model.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic_core import PydanticCustomError

from events.limits import MAX_TIMESTAMP_MS

__all__ = [
    "COMMON_SEVERITY_FORMS",
    "EPOCH",
    "OPTIONAL_TEXT_FIELDS",
    "SEVERITY_FORMS",
    "check_finite_numbers",
    "check_kind_requirements",
    "datetime_from_ms",
    "default_severity",
    "finite_float",
    "normalise_severity",
    "parse_timestamp",
    "timestamp_ms",
]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)

#: Optional text fields whose empty string means "absent".
OPTIONAL_TEXT_FIELDS: Final = ("environment", "user", "function", "reason", "trace_id")

_CANONICAL: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Every accepted upper-cased spelling → its normal form.
SEVERITY_FORMS: Final[dict[str, str]] = {
    **{name: name for name in _CANONICAL},
    "WARN": "WARNING",
    "FATAL": "CRITICAL",
}
#: The spellings seen in practice (as is, lower case, capitalised) → their normal form,
#: looked up before paying for str.upper().
COMMON_SEVERITY_FORMS: Final[dict[str, str]] = {
    form: normal
    for spelling, normal in SEVERITY_FORMS.items()
    for form in (spelling, spelling.lower(), spelling.capitalize())
}


def normalise_severity(value: object) -> object:
    """Upper-case a severity string and resolve aliases; other values pass through."""
    if isinstance(value, str):
        normal = COMMON_SEVERITY_FORMS.get(value)
        if normal is not None:
            return normal
        upper = value.upper()
        return SEVERITY_FORMS.get(upper, upper)
    return value


def default_severity(kind: str) -> str:
    """The severity of an event that carried none."""
    return "ERROR" if kind == "error" else "INFO"


def timestamp_ms(value: object) -> int:
    """An event time as epoch milliseconds, the normal form every path agrees on.

    Accepts epoch milliseconds (an ``int``, never a ``bool``), an ISO 8601 / RFC 3339
    string *with* an offset (``Z`` or ``±hh:mm``), or an aware ``datetime``. Sub-millisecond
    digits are truncated. Raises :class:`PydanticCustomError` for anything else.
    """
    if type(value) is int:
        ms = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "timestamp_format", "timestamp is not an RFC 3339 date-time"
            ) from None
        ms = _aware_ms(parsed)
    elif isinstance(value, datetime):
        ms = _aware_ms(value)
    else:
        raise PydanticCustomError(
            "timestamp_type",
            "timestamp must be an RFC 3339 string with offset or epoch milliseconds",
        )
    if not 0 <= ms <= MAX_TIMESTAMP_MS:
        raise PydanticCustomError("timestamp_range", "timestamp must be within 1970..2106")
    return ms


def _aware_ms(ts: datetime) -> int:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise PydanticCustomError("timestamp_offset", "timestamp needs an offset (Z or ±hh:mm)")
    return (ts - EPOCH) // _ONE_MS


def datetime_from_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return EPOCH + timedelta(milliseconds=ms)


def parse_timestamp(value: object) -> datetime | None:
    """The model's normal form of an event time: aware UTC datetime, millisecond precision."""
    if value is None:
        return None
    return datetime_from_ms(timestamp_ms(value))


def check_kind_requirements(kind: str, message: str | None, http: Any) -> None:
    """``message`` is required unless the event is an ``access`` event, which needs ``http``."""
    if kind == "access":
        if http is None:
            raise PydanticCustomError(
                "eventpipe_missing", "access events need http", {"field": "http"}
            )
    elif message is None:
        raise PydanticCustomError("eventpipe_missing", "message is required", {"field": "message"})


_INF: Final = float("inf")
_OUT_OF_RANGE: Final = "number out of range: JSON numbers in data must fit a 64-bit float"


def finite_float(text: str) -> float:
    """A JSON number literal of ``data`` as a float; ``ValueError`` when it overflows one
    (``1e400``), where parsers return an infinity that no JSON can carry on to readers."""
    value = float(text)  # never nan: JSON has no such literal
    if value - value:  # nan for an infinity, 0.0 for any finite value
        raise ValueError(_OUT_OF_RANGE)
    return value


def check_finite_numbers(data: dict[str, Any]) -> None:
    """Refuse a number of JSON ``data`` that parsed as an infinity (a literal past the
    64-bit float range), naming its path as :func:`storage.rows.flatten_data` does
    (``data.a.0.b``). Only for JSON input: from Python, ``nan`` and ``±inf`` are written
    as ``null`` like every JSON encoder does (docs/producers.md)."""
    stack: list[tuple[str, Any]] = [("data", data)]
    while stack:
        path, node = stack.pop()
        for key, value in node.items() if node.__class__ is dict else enumerate(node):
            cls = value.__class__
            if cls is float and (value == _INF or value == -_INF):
                raise PydanticCustomError(
                    "eventpipe_invalid", _OUT_OF_RANGE, {"field": f"{path}.{key}"}
                )
            if cls is dict or cls is list:
                stack.append((f"{path}.{key}", value))
