"""A stdlib ``logging.LogRecord`` as an event (pure; used by the logging handler).

* level → severity (custom levels round down to the nearest standard one);
* the formatted message (cut to the contract's limit), ``funcName`` → ``function``;
* ``exc_info`` → kind ``error`` with ``data.exception`` (type, message, traceback);
* ``extra`` fields: ``user``, ``trace_id``, ``reason`` and ``environment`` become the event
  fields of that name (they are filterable in the read API); a ``data`` mapping is merged
  into ``data``; every other one goes under ``data`` by its name, made JSON-safe (unknown
  objects become their ``str``, or their ``repr`` when ``str`` fails; NaN and infinities
  their text);
* ``data.logger``, ``data.file``, ``data.line`` say where the record came from;
* a message that does not format with its args (``log.info("%d", "x")``) is shipped as
  written, with ``data.args`` and ``data.format_error``.

A record the contract still refuses (an ``extra`` user over 256 characters, text that is
not Unicode, an event over 128 KiB) is shipped by the handler as :func:`fallback_event`:
never lost, and saying why.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from events.errors import InvalidEvent
from events.limits import MAX_MESSAGE_CHARS
from producers.shapes import exception_data

__all__ = ["EVENT_EXTRAS", "fallback_event", "record_event", "scrubbed", "severity_of"]

#: ``extra`` names that become top-level event fields rather than ``data`` entries.
EVENT_EXTRAS: Final = frozenset({"user", "trace_id", "reason", "environment"})
_STANDARD: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_MAX_DEPTH: Final = 16
# A fallback event's texts, cut so that even 4-byte characters stay far below 128 KiB.
_FALLBACK_CHARS: Final = MAX_MESSAGE_CHARS // 4


def severity_of(levelno: int) -> str:
    """The event severity of a logging level."""
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


def record_event(component: str, record: logging.LogRecord) -> dict[str, Any]:
    """The event of one log record (validated later, by the producer)."""
    data: dict[str, Any] = {
        "logger": record.name,
        "file": record.pathname,
        "line": record.lineno,
    }
    try:
        message = record.getMessage()
    except Exception as exc:  # args that do not fit the format: ship it as written
        message = _text(record.msg)
        data["args"] = _text(record.args, repr)
        data["format_error"] = f"{type(exc).__name__}: {_text(exc)}"
    event: dict[str, Any] = {
        "component": component,
        "timestamp": int(record.created * 1000),
        "severity": severity_of(record.levelno),
        "message": message[:MAX_MESSAGE_CHARS],
        "function": record.funcName,
        "data": data,
    }
    for key, value in record.__dict__.items():
        if key in _STANDARD:
            continue
        if key in EVENT_EXTRAS and isinstance(value, str):
            event[key] = value
        elif key == "data" and isinstance(value, Mapping):
            data.update(_jsonable(value, 0))
        else:  # makeRecord(extra=...) may even put a key that is not a str here
            data[key if isinstance(key, str) else _text(key)] = _jsonable(value, 0)
    if record.exc_info and record.exc_info[1] is not None:
        event["kind"] = "error"
        data["exception"] = exception_data(record.exc_info[1])
    if record.stack_info:
        data["stack"] = record.stack_info
    return event


def fallback_event(event: dict[str, Any], reason: InvalidEvent) -> dict[str, Any]:
    """What to ship for a record whose ``event`` the contract refused for ``reason``: its
    time, severity, kind, message and origin, in valid Unicode and far under the size
    limit, and ``data.unshipped`` saying what was left out and why."""
    data = event.get("data") or {}
    kept: dict[str, Any] = {key: data[key] for key in ("logger", "file", "line") if key in data}
    exception = data.get("exception")
    if isinstance(exception, dict):
        kept["exception"] = {k: str(v)[-_FALLBACK_CHARS:] for k, v in exception.items()}
    where = f"{reason.field}: " if reason.field else ""
    kept["unshipped"] = f"the record's other fields are left out: {where}{reason.message}"
    shipped = {
        "component": event["component"],
        "timestamp": event["timestamp"],
        "severity": event["severity"],
        "kind": event.get("kind", "log"),
        "message": str(event.get("message") or "-")[:_FALLBACK_CHARS] or "-",
        "data": kept,
    }
    clean: dict[str, Any] = scrubbed(shipped)
    return clean


def scrubbed(value: Any) -> Any:
    """``value`` with every text made valid Unicode: a lone surrogate (a file name decoded
    with ``surrogateescape``, say) is written as its escape, ``\\udcff``."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode()
        return value
    if isinstance(value, dict):
        return {scrubbed(k): scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    return value


def _jsonable(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN: not null
    if depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            return {_text(k): _jsonable(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [_jsonable(v, depth + 1) for v in value]
    return _text(value)


def _text(value: object, show: Callable[[object], str] = str) -> str:
    """``show(value)``, or ``repr`` when that fails: logging never raises for an odd value."""
    try:
        return str(show(value))
    except Exception:
        return object.__repr__(value)
