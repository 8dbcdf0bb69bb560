"""One access-log line → one access event (as a dict, validated later). Pure.

A line starting with ``{`` is JSON (:mod:`~front_doors.access_logs.jsonline`); anything
else is Common or Combined Log Format (:mod:`~front_doors.access_logs.clf`). A trailing
``\\r`` is dropped (CRLF senders). Raises :class:`~events.errors.InvalidEvent` with the
contract's reason codes: ``bad_json``/``not_object`` for JSON that is not an object,
``invalid_field`` for text that is not a log line, not UTF-8, or has a bad field.
"""

from __future__ import annotations

from typing import Any

from events.errors import InvalidEvent
from front_doors.access_logs.clf import parse_clf
from front_doors.access_logs.jsonline import parse_json_line

__all__ = ["parse_line"]


def parse_line(line: bytes, component: str) -> dict[str, Any]:
    """The access event of ``line`` for ``component``; see the module docstring."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if line.lstrip()[:1] == b"{":
        return parse_json_line(line, component)
    try:
        text = line.decode()
    except UnicodeDecodeError as exc:
        raise InvalidEvent("invalid_field", "", f"the line is not UTF-8: {exc.reason}") from None
    return parse_clf(text, component)
