"""Bytes ⇄ events, and the NDJSON record form.

A Kafka record's value is one or more events of one component, one JSON object per line
(UTF-8, ``\\n`` separated; a trailing newline and blank lines are allowed and skipped). Each
line is decoded on its own: one bad line never sinks its neighbours.

* :func:`decode` — one line → :class:`~events.model.Event`, or :class:`InvalidEvent`.
* :func:`encode` — :class:`Event` → one line (no trailing newline).
* :func:`iter_lines` — a record → ``(line_number, line)`` pairs, 1-based, blanks skipped.
* :func:`pack_lines` — lines → records under the event and byte bounds.
* :func:`derive_event_id` — the stable id of an event that arrived without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID, uuid5

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from events.errors import InvalidEvent, ReasonCode
from events.limits import MAX_EVENT_BYTES, MAX_RECORD_BYTES, MAX_RECORD_EVENTS
from events.model import Event

__all__ = [
    "EVENT_ID_NAMESPACE",
    "decode",
    "derive_event_id",
    "encode",
    "invalid_from_validation",
    "iter_lines",
    "pack_lines",
]

#: Namespace of derived event ids: uuid5(namespace, "topic:partition:offset:line").
EVENT_ID_NAMESPACE = UUID("6f1c1d9e-5b6a-4f0e-9a51-8e0f3c7d2b41")

_VALIDATE_JSON = Event.model_validate_json
_LENGTH_ERRORS = frozenset({"string_too_long", "too_long"})


def decode(raw: bytes | bytearray | str) -> Event:
    """Validate one JSON line into an :class:`Event`.

    Pure and synchronous. Raises :class:`InvalidEvent` with a reason code, the offending
    field and a message; never anything else for any input.
    """
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(
            "too_large", "", f"event is {len(raw)} bytes, over the {MAX_EVENT_BYTES}-byte limit"
        )
    try:
        return _VALIDATE_JSON(raw)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def encode(event: Event) -> bytes:
    """Serialise an event as one compact JSON line (absent fields omitted)."""
    return event.model_dump_json(exclude_none=True).encode()


def invalid_from_validation(exc: ValidationError) -> InvalidEvent:
    """Map pydantic's first error onto the contract's reason codes."""
    error = exc.errors(include_url=False, include_input=False)[0]
    return InvalidEvent(_reason_code(error), _field_of(error), _message_of(error))


def _reason_code(error: ErrorDetails) -> ReasonCode:
    kind = error["type"]
    if kind == "json_invalid":
        return "bad_json"
    if kind in {"model_type", "model_attributes_type"} and not error["loc"]:
        return "not_object"
    if kind in {"missing", "eventpipe_missing"}:
        return "missing_field"
    if kind in _LENGTH_ERRORS:
        return "too_long"
    return "invalid_field"


def _field_of(error: ErrorDetails) -> str:
    ctx: dict[str, Any] = error.get("ctx") or {}
    if "field" in ctx:
        return str(ctx["field"])
    return ".".join(str(part) for part in error["loc"])


def _message_of(error: ErrorDetails) -> str:
    if error["type"] == "json_invalid":
        return "not valid JSON: " + str((error.get("ctx") or {}).get("error", "parse error"))
    if error["type"] in {"model_type", "model_attributes_type"} and not error["loc"]:
        return "an event must be a JSON object"
    return error["msg"]


def iter_lines(record: bytes) -> list[tuple[int, bytes]]:
    """``(line_number, line)`` for every non-blank line of a record (1-based).

    A one-line record (with or without its newline: what most other Kafka clients send)
    is not split; the stream processors call this once per record.
    """
    end = record.find(b"\n")
    if end == -1 or end == len(record) - 1:
        line = record if end == -1 else record[:end]
        return [(1, line)] if line.strip() else []
    return [(n, line) for n, line in enumerate(record.split(b"\n"), start=1) if line.strip()]


def pack_lines(
    lines: Iterable[bytes],
    *,
    max_events: int = MAX_RECORD_EVENTS,
    max_bytes: int = MAX_RECORD_BYTES,
) -> Iterator[bytes]:
    """Pack encoded events (one component's) into records of at most the given bounds.

    Every line, the last included, ends with ``\n`` (NDJSON proper), so line-oriented
    readers such as ClickHouse's Kafka engine or ``kcat`` never join two records' lines.
    A single line longer than ``max_bytes`` still becomes a record of its own: the limit on
    a line is :data:`~events.limits.MAX_EVENT_BYTES`, enforced by :func:`decode`.
    """
    if not 1 <= max_events <= MAX_RECORD_EVENTS:
        raise ValueError(f"max_events must be within 1..{MAX_RECORD_EVENTS}")
    if not 1 <= max_bytes <= MAX_RECORD_BYTES:
        raise ValueError(f"max_bytes must be within 1..{MAX_RECORD_BYTES}")
    batch: list[bytes] = []
    size = 0
    for line in lines:
        if batch and (len(batch) >= max_events or size + len(line) + 1 > max_bytes):
            yield b"\n".join(batch) + b"\n"
            batch, size = [], 0
        batch.append(line)
        size += len(line) + 1
    if batch:
        yield b"\n".join(batch) + b"\n"


def derive_event_id(topic: str, partition: int, offset: int, line: int) -> UUID:
    """The stable id of an event that arrived without ``event_id``.

    Redelivery of the same record maps to the same ids, so the store can drop the repeat.
    """
    return uuid5(EVENT_ID_NAMESPACE, f"{topic}:{partition}:{offset}:{line}")
