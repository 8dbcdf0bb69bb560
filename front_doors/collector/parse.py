"""A request body → the items it holds: one event, a JSON array, or NDJSON. Pure.

The form is chosen by ``Content-Type``:

* ``application/x-ndjson`` (also ``application/ndjson``, ``application/jsonl``,
  ``application/x-jsonlines``): one JSON object per line, blank lines skipped;
* ``application/json`` (or any ``+json`` type): one object, or an array of objects;
* anything else, or none: sniffed — a body that parses as one JSON document is read as
  such, otherwise it is read as NDJSON when it has several lines.

Every item is either the decoded object or the :class:`~events.errors.InvalidEvent` that
explains why it is not one (``bad_json``/``not_object``), so one bad item never sinks its
neighbours. A body that holds no item at all is a :class:`BadRequest`.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from events.errors import InvalidEvent
from front_doors.collector.errors import BadRequest, PayloadTooLarge

__all__ = ["Item", "media_type", "parse_items"]

#: One item of a request: the decoded object, or why it is not one.
Item = dict[str, Any] | InvalidEvent

_NDJSON_TYPES: Final = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    }
)
_NOT_OBJECT: Final = InvalidEvent("not_object", "", "an event must be a JSON object")


def media_type(content_type: str | None) -> str:
    """``"application/json; charset=utf-8"`` → ``"application/json"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_items(body: bytes, content_type: str | None, max_events: int) -> list[Item]:
    """The items of ``body``; see the module docstring.

    Raises :class:`BadRequest` for an empty body or one that is neither JSON nor NDJSON,
    :class:`PayloadTooLarge` for more than ``max_events`` items.
    """
    if not body.strip():
        raise BadRequest("the body is empty: send one event, a JSON array or NDJSON")
    kind = media_type(content_type)
    if kind in _NDJSON_TYPES:
        return _ndjson(body, max_events)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _has_several_lines(body):  # NDJSON sent as application/json or untyped
            return _ndjson(body, max_events)
        raise BadRequest(f"the body is not valid JSON: {exc}", code="bad_json") from None
    return _document(document, max_events)


def _document(document: object, max_events: int) -> list[Item]:
    if isinstance(document, dict):
        return [document]
    if not isinstance(document, list):
        raise BadRequest("the body must be an event (a JSON object), an array of them, or NDJSON")
    if not document:
        raise BadRequest("the array is empty: send at least one event")
    _check_count(len(document), max_events)
    return [item if isinstance(item, dict) else _NOT_OBJECT for item in document]


def _ndjson(body: bytes, max_events: int) -> list[Item]:
    lines = [line for line in body.split(b"\n") if line.strip()]
    if not lines:
        raise BadRequest("the body holds no line: send one JSON object per line")
    _check_count(len(lines), max_events)
    return [_line(line) for line in lines]


def _line(line: bytes) -> Item:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return InvalidEvent("bad_json", "", f"not valid JSON: {exc}")
    return value if isinstance(value, dict) else _NOT_OBJECT


def _has_several_lines(body: bytes) -> bool:
    return body.strip().count(b"\n") >= 1


def _check_count(count: int, max_events: int) -> None:
    if count > max_events:
        raise PayloadTooLarge(
            f"{count:,} events in one request, over the limit of {max_events:,}",
            max_events=max_events,
        )
