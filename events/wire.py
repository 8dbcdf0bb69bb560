"""The fast path: the same contract as :class:`~events.model.Event`, at msgspec speed.

Why: the stream processors and the producer handle every event, and the pydantic model
costs ~15 µs per event on our 2-core machines against ~4 µs for a typed msgspec decode
(``bench/`` has the figures). The model remains *the* contract; this module is an
optimisation of its common case and never a second opinion:

* :class:`WireEvent` is a msgspec struct with the model's fields, types and limits, but
  stricter — no coercions, no unknown fields;
* what it accepts is then settled by the same rule functions the model calls
  (:mod:`events.rules`);
* anything it does not accept — invalid input, unknown top-level fields, lax-but-valid
  forms — is handed to the model, which either accepts it (the result is converted) or
  raises :class:`~events.errors.InvalidEvent` with the reason. Reason codes therefore come
  from one place.

A property test (``tests/unit/events/test_wire_equivalence.py``) checks on generated
input that both paths accept the same events with equal values and reject the same ones
with the same reason.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any, Final, Literal
from uuid import UUID

import msgspec
from msgspec import Meta
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from events.codec import decode, invalid_from_validation
from events.errors import InvalidEvent
from events.limits import (
    MAX_EVENT_BYTES,
    MAX_HTTP_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_SHORT_CHARS,
    MAX_TEXT_CHARS,
    MAX_TIMESTAMP_MS,
)
from events.model import SEVERITIES, Event
from events.rules import (
    COMMON_SEVERITY_FORMS,
    check_kind_requirements,
    finite_float,
    normalise_severity,
    timestamp_ms,
)

__all__ = [
    "ENCODE_ERRORS",
    "WIRE_ENCODER",
    "WireEvent",
    "WireHttp",
    "decode_wire",
    "decode_wire_record",
    "encode_wire",
    "encode_wire_lines",
    "unencodable",
    "validate_wire",
    "validate_wire_many",
]

# msgspec matches patterns with re.search; \Z (not $) so a trailing newline cannot pass.
_COMPONENT = r"^[a-z0-9][a-z0-9_.-]{0,63}\Z"
_METHOD = r"^[A-Za-z]{1,16}\Z"
_SEVERITIES: Final = frozenset(SEVERITIES)

ShortText = Annotated[str, Meta(max_length=MAX_SHORT_CHARS)]
LongText = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]
# The event's optional texts, where the model reads "" as absent: the fast path leaves that
# rare case to the model rather than test six fields for "" on every event.
_Short = Annotated[str, Meta(min_length=1, max_length=MAX_SHORT_CHARS)]
_Long = Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS)]


class WireHttp(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """HTTP facts; see :class:`events.model.Http`."""

    method: Annotated[str, Meta(min_length=1, max_length=16)]  # pattern: see _settle
    path: Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS)]
    status: Annotated[int, Meta(ge=100, le=599)]
    ip: ShortText | None = None
    bytes: Annotated[int, Meta(ge=0, le=MAX_HTTP_BYTES)] | None = None
    duration_ms: Annotated[float, Meta(ge=0, le=sys.float_info.max)] | None = None  # finite
    user_agent: LongText | None = None


class WireEvent(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """A validated event in normal form; the fields and meaning of :class:`Event`.

    After :func:`decode_wire` / :func:`validate_wire`, ``timestamp`` is epoch milliseconds
    (or ``None``) and ``severity`` is set. Mutable only so that the decoder
    can settle it; treat it as a value.
    """

    component: Annotated[str, Meta(min_length=1, max_length=64)]  # pattern: see _settle
    event_id: UUID | None = None
    # Any on the way in (epoch ms or RFC 3339 text); settled to epoch milliseconds, the
    # fast path's normal form (the model's is the equal UTC datetime).
    timestamp: Any = None
    environment: _Short | None = None
    kind: Literal["log", "error", "event", "access"] = "log"
    severity: str | None = None
    message: Annotated[str, Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)] | None = None
    user: _Short | None = None
    function: _Long | None = None
    reason: _Long | None = None
    trace_id: _Short | None = None
    data: dict[str, Any] | None = None
    http: WireHttp | None = None

    @classmethod
    def from_event(cls, event: Event) -> WireEvent:
        """Convert a model instance (already valid and settled)."""
        http = event.http
        return cls(
            component=event.component,
            event_id=event.event_id,
            timestamp=event.timestamp_ms,
            environment=event.environment,
            kind=event.kind,
            severity=event.severity,
            message=event.message,
            user=event.user,
            function=event.function,
            reason=event.reason,
            trace_id=event.trace_id,
            data=event.data,
            http=None if http is None else WireHttp(**http.model_dump()),
        )

    def to_event(self) -> Event:
        """The model instance of this event."""
        return Event.model_validate(msgspec.to_builtins(self))


class _Defer(Exception):
    """Not the common case: let the model decide."""


_DEFER = (msgspec.ValidationError, msgspec.DecodeError, PydanticCustomError, _Defer)
# msgspec nests as deep as Python's recursion limit, and raises UnicodeDecodeError (not
# DecodeError) for a string that is not UTF-8: the model's verdict on those is bad_json.
_DEFER_DECODE = (*_DEFER, RecursionError, UnicodeDecodeError)
# float_hook: a number of `data` past the float range (1e400) is no infinity but refused,
# and the model names it (rules.finite_float; ~0.15 µs per float of `data`).
_DECODER: Final = msgspec.json.Decoder(WireEvent, float_hook=finite_float)
_RECORD_DECODER: Final = msgspec.json.Decoder(list[WireEvent], float_hook=finite_float)
_ENCODER: Final = msgspec.json.Encoder()
_COMPONENT_RE: Final = re.compile(_COMPONENT)
_METHOD_RE: Final = re.compile(_METHOD)
# Components and HTTP methods already checked against their patterns. A service fleet has
# few of each, and msgspec would run Python's re for every event (~1.3 µs here for a
# component, ~1 µs for a method): a set lookup instead. Bounded, so a flood of distinct
# values costs regex checks, never memory.
_CHECKED_COMPONENTS: set[str] = set()
_CHECKED_METHODS: set[str] = set()
_CHECKED_LIMIT: Final = 10_000


def _check(pattern: re.Pattern[str], checked: set[str], value: str) -> None:
    if pattern.match(value) is None:
        raise _Defer  # the model names the field and the rule
    if len(checked) < _CHECKED_LIMIT:
        checked.add(value)


def _settle(ev: WireEvent) -> WireEvent:
    # The model's after-validator, on the struct: see Event._normalise. Every event passes
    # here (producers and workers alike), so the rules' common cases are inlined; empty
    # optional texts never get here (their types need one character).
    if ev.component not in _CHECKED_COMPONENTS:
        _check(_COMPONENT_RE, _CHECKED_COMPONENTS, ev.component)
    kind = ev.kind
    severity = ev.severity
    if severity is None:
        ev.severity = "ERROR" if kind == "error" else "INFO"  # rules.default_severity
    else:
        normal = COMMON_SEVERITY_FORMS.get(severity)
        if normal is None:
            other = normalise_severity(severity)
            if other not in _SEVERITIES:
                raise _Defer
            normal = str(other)
        ev.severity = normal
    ts = ev.timestamp
    if ts is not None and not (ts.__class__ is int and 0 <= ts <= MAX_TIMESTAMP_MS):
        ev.timestamp = timestamp_ms(ts)  # the common case, epoch ms in range, is settled
    http = ev.http
    if kind == "access" or http is not None or ev.message is None:
        if http is not None:
            method = http.method
            if method not in _CHECKED_METHODS:
                _check(_METHOD_RE, _CHECKED_METHODS, method)
            if not method.isupper():
                http.method = method.upper()
        check_kind_requirements(kind, ev.message, http)
    return ev


# The model's JSON parser refuses nesting past 200 levels (pydantic-core's recursion limit;
# arrays and objects count a little differently); msgspec's own limit is Python's, ~1000.
# `data` this deep is left to the model, which gives its exact verdict.
_DEEP_DATA: Final = 190
# A line shorter than this cannot hold `data` _DEEP_DATA levels deep (two brackets a level).
_DEEP_LINE: Final = 2 * _DEEP_DATA
_CONTAINERS: Final = frozenset((dict, list))


def _nests_too_deep(data: dict[str, Any] | None) -> bool:
    """Whether ``data`` nests past :data:`_DEEP_DATA` (then the model gives the verdict)."""
    return (
        data is not None
        and not _CONTAINERS.isdisjoint(map(type, data.values()))  # nested at all
        and _deeper_than(data, _DEEP_DATA)
    )


def _deeper_than(node: dict[str, Any], limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels in ``node`` (itself level 1)."""
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            return True
        for child in node.values() if node.__class__ is dict else node:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, level + 1))
    return False


def decode_wire(line: bytes | memoryview) -> WireEvent:
    """Validate one JSON line; same result as :func:`events.decode`, faster.

    Pure and synchronous. Raises :class:`InvalidEvent` exactly when :func:`events.decode`
    does, with the same reason.
    """
    if len(line) <= MAX_EVENT_BYTES:
        try:
            event = _settle(_DECODER.decode(line))
            if len(line) < _DEEP_LINE:
                return event
            if _nests_too_deep(event.data):
                raise _Defer
            return event
        except _DEFER_DECODE:
            pass
    return WireEvent.from_event(decode(bytes(line)))


_DATA: Final = attrgetter("data")


def _lines_fit(record: bytes) -> bool:
    """Whether no line of ``record`` is longer than :data:`MAX_EVENT_BYTES` (a few C-level
    searches, one per window of that size: never a scan line by line)."""
    start, end = 0, len(record)
    while end - start > MAX_EVENT_BYTES:
        newline = record.rfind(b"\n", start, start + MAX_EVENT_BYTES + 1)
        if newline < 0:
            return False  # the line beginning at `start` is too long
        start = newline + 1
    return True


def decode_wire_record(record: bytes) -> list[WireEvent] | None:
    """Every line of an NDJSON record, decoded in one call: the common case, fast.

    Returns the events, in line order, only when each line is an event the fast path
    settles by itself and no line is blank; they equal :func:`decode_wire` of each line,
    and line *n* is ``events[n - 1]``. Otherwise returns ``None``: decode the lines one by
    one with :func:`decode_wire`, which gives each its own verdict. Pure and synchronous.

    Why: a record packs hundreds of events, and msgspec decodes them in C in one call (as
    one JSON array, a comma after each newline). Per line, the Python around the decode
    (splitting, the call, the checks) cost about as much as the settling itself (``bench/``
    has the figures).
    """
    if not _lines_fit(record):
        return None
    # One JSON array, a comma after each newline: msgspec's decode_lines reads whitespace-
    # separated values, so two events on one line would pass. Here they lack a comma; a
    # newline kept in a string, or a blank line, is malformed; and as many elements as
    # lines means each comma separates events, one per line. Built in one bytearray (two
    # copies of the record, not four): the comma after a final newline becomes the "]".
    array = bytearray(b"[")
    array += record.replace(b"\n", b"\n,")
    if record[-1:] == b"\n":
        array[-1] = 0x5D  # "]"
    else:
        array.append(0x5D)
    try:
        events = _RECORD_DECODER.decode(array)
        for event in events:
            _settle(event)
    except _DEFER_DECODE:
        return None
    # Lines: the newlines, plus a last line without one (len(array) - len(record) - 1 either
    # way, and faster than counting).
    if len(events) != len(array) - len(record) - 1:
        return None  # a value spanning lines (a comma inside it), or a record of one blank line
    if len(record) >= _DEEP_LINE and not _CONTAINERS.isdisjoint(
        map(type, chain.from_iterable(map(dict.values, filter(None, map(_DATA, events)))))
    ):
        # Some `data` nests: the depth check of decode_wire, line by line.
        for line, event in zip(record.split(b"\n"), events, strict=False):
            if len(line) >= _DEEP_LINE and _nests_too_deep(event.data):
                return None
    return events


def validate_wire(fields: Mapping[str, Any]) -> WireEvent:
    """Validate an event given as Python values (what producers hold).

    Raises :class:`InvalidEvent` naming the field, exactly like the model would.
    """
    try:
        return _settle(msgspec.convert(fields, WireEvent))
    except _DEFER:
        pass
    try:
        return WireEvent.from_event(Event.model_validate(fields))
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


_WIRE_LIST: Final = list[WireEvent]


def validate_wire_many(items: Sequence[Mapping[str, Any]]) -> list[WireEvent]:
    """:func:`validate_wire` of each item, in one pass where all are plain events.

    One ``msgspec.convert`` of the whole list saves ~0.7 µs per event (the per-call
    overhead); anything unusual goes through :func:`validate_wire` item by item, so
    results and errors are exactly its own (the first invalid item raises).
    """
    try:
        wires = msgspec.convert(items, _WIRE_LIST)
    except _DEFER:
        return [validate_wire(item) for item in items]
    for index, wire in enumerate(wires):
        try:
            _settle(wire)
        except _DEFER:
            wires[index] = validate_wire(items[index])
    return wires


#: What the contract's encoder raises for an event it cannot write as a JSON line: a
#: ``data`` value JSON cannot carry, text holding a lone surrogate (not Unicode, so not
#: UTF-8), or ``data`` nested deeper than the encoder recurses. See :func:`unencodable`.
ENCODE_ERRORS: Final = (TypeError, msgspec.EncodeError, UnicodeEncodeError, RecursionError)


def unencodable(event: WireEvent, error: BaseException) -> InvalidEvent:
    """Why ``event`` could not be encoded (``error``, one of :data:`ENCODE_ERRORS`), naming
    the field. Only on the error path: it looks for the offending text."""
    if isinstance(error, RecursionError):
        return InvalidEvent("invalid_field", "data", "nested too deeply to encode as JSON")
    if isinstance(error, UnicodeEncodeError):
        field = _surrogate_field(msgspec.structs.asdict(event), "") or "data"
        return InvalidEvent(
            "invalid_field", field, f"not Unicode text (a lone surrogate): {error.reason}"
        )
    return InvalidEvent("invalid_field", "data", f"not JSON-encodable: {error}")


def _surrogate_field(value: object, path: str) -> str | None:
    """The dotted path of the first text under ``value`` UTF-8 cannot encode; a key that
    cannot be encoded names its mapping."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return path
        return None
    items: list[tuple[object, object]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(enumerate(value))
    elif isinstance(value, msgspec.Struct):
        items = list(msgspec.structs.asdict(value).items())
    for key, item in items:
        if isinstance(key, str) and _surrogate_field(key, path) is not None:
            return path
        found = _surrogate_field(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def encode_wire(event: WireEvent) -> bytes:
    """One compact JSON line; absent fields and the default kind are omitted."""
    return _ENCODER.encode(event)


#: The encoder behind :func:`encode_wire` and :func:`encode_wire_lines`, for code that
#: encodes one event at a time in a hot loop (the producer's line writer):
#: ``WIRE_ENCODER.encode_into(event, buffer, -1)`` appends the line of :func:`encode_wire`
#: to ``buffer`` without a copy, and without a Python wrapper around it (~0.2 µs a line).
WIRE_ENCODER: Final = _ENCODER


def encode_wire_lines(events: Sequence[WireEvent]) -> bytes:
    """The lines of :func:`encode_wire`, each ended by ``"\\n"``, in one call."""
    return _ENCODER.encode_lines(events)


def invalid_reason(line: bytes) -> InvalidEvent | None:
    """The reason a line is invalid, or ``None`` when it is a valid event (for tests/tools)."""
    try:
        decode_wire(line)
    except InvalidEvent as exc:
        return exc
    return None
