"""The replaced services' payloads, mapped onto the contract. Pure.

=================  ==========================================================================
route              payload → event
=================  ==========================================================================
``POST /logs``     ``severity``, ``service`` → ``component``, ``message``, optional
                   ``timestamp``; kind ``log``
``POST /event``    ``email`` → ``user``, ``environment``, ``component``, ``message``,
                   ``data``; kind ``event``
=================  ==========================================================================

Other keys pass through (the contract keeps unknown top-level fields under ``data``). A
rejection names the field as the caller sent it (``service``, ``email``), not ours. A
payload holding both spellings of a field (``service`` and ``component``) is rejected
(``invalid_field``, naming theirs): keeping one would silently drop the other.

The old services were lax about time, so their ``timestamp`` is read leniently: an ISO
8601 date-time *without* an offset is taken as UTC, and a number below 10^11 is epoch
*seconds* (10^11 ms is 1973, 10^11 s is the year 5138), anything larger epoch
milliseconds. ``/v1/events`` keeps the contract's strict rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from events.errors import InvalidEvent

__all__ = ["LEGACY_EVENT", "LEGACY_LOG", "Legacy", "legacy_timestamp"]

_SECONDS_BELOW: Final = 10**11


class Legacy:
    """One replaced payload shape: field renames (theirs → ours) and a default kind."""

    def __init__(self, renames: Mapping[str, str], kind: str) -> None:
        self.renames = dict(renames)
        self._back = {ours: theirs for theirs, ours in renames.items()}
        self.kind = kind

    def to_event(self, payload: dict[str, Any]) -> dict[str, Any] | InvalidEvent:
        """The contract-shaped event of one payload (validated later, by the producer), or
        why it cannot be one: both spellings of a renamed field."""
        for theirs, ours in self.renames.items():
            if theirs in payload and ours in payload:
                return InvalidEvent(
                    "invalid_field",
                    theirs,
                    f"{theirs} and {ours} are the same field here: send one of them",
                )
        event = {self.renames.get(key, key): value for key, value in payload.items()}
        event.setdefault("kind", self.kind)
        if "timestamp" in event:
            event["timestamp"] = legacy_timestamp(event["timestamp"])
        return event

    def their_reason(self, reason: InvalidEvent) -> InvalidEvent:
        """``reason`` with the field named as the caller spelled it."""
        head, _, rest = reason.field.partition(".")
        theirs = self._back.get(head)
        if theirs is None:
            return reason
        field = theirs + ("." + rest if rest else "")
        return InvalidEvent(reason.code, field, reason.message.replace(head, theirs, 1))


LEGACY_LOG: Final = Legacy({"service": "component"}, "log")
LEGACY_EVENT: Final = Legacy({"email": "user"}, "event")


def legacy_timestamp(value: object) -> object:
    """A lax timestamp in the contract's form (see the module docstring).

    Values it cannot read pass through unchanged, for the contract to reject with its reason.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            try:
                return _from_number(int(text))
            except ValueError:  # "²" is a digit int() cannot read; so are 5,000 of them
                return value
        return _from_text(text)
    return value


def _from_number(value: float) -> object:
    if value != value or value in (float("inf"), float("-inf")):  # NaN / infinities
        return value
    return int(value * 1000) if abs(value) < _SECONDS_BELOW else int(value)


def _from_text(text: str) -> object:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()
