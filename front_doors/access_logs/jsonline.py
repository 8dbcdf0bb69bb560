"""JSON access-log lines → access events. Pure.

Three shapes are understood:

* an eventpipe event with an ``http`` object: taken as it is (component and kind set by
  the receiver);
* a flat object as web servers write them (nginx ``log_format ... escape=json``, Caddy,
  Envoy): the first key found of each row below is used, numeric strings are accepted, and
  every other key is kept under ``data``;
* a log shipper's record of the raw line: an object with none of the method/path/request
  keys whose ``log`` (Fluent Bit's ``tail``) or ``message`` (Vector's file source) is a
  string is that line, read as any line is (Common/Combined or JSON); the record's other
  keys (``date``, ``host``, ...) are kept under ``data``, the line's own fields winning.

=================  ===========================================================
event field        keys looked for
=================  ===========================================================
``http.method``    method, request_method (or the first word of ``request``)
``http.path``      path, uri, request_uri, url (or the second word of ``request``)
``http.status``    status, status_code, code
``http.bytes``     bytes, body_bytes_sent, bytes_sent, size
``http.ip``        ip, remote_addr, client_ip, remote_ip, remote
``http.user_agent`` user_agent, http_user_agent, agent
``http.duration_ms`` duration_ms; request_time (seconds)
``user``           user, remote_user (unless ``-`` or empty)
``timestamp``      timestamp, @timestamp, time, time_iso8601 (RFC 3339 / epoch ms);
                   time_local (CLF time); msec, or a number ``date`` (epoch seconds)
``data.referer``   referer, http_referer
=================  ===========================================================

Caddy nests the request's facts in a ``request`` object: its ``method``, ``uri``,
``client_ip``/``remote_ip`` and ``headers.User-Agent`` count as top-level keys (the rest of
it stays under ``data.request``), and its ``ts`` (epoch seconds), ``duration`` (seconds)
and ``user_id`` are read as ``msec``, ``request_time`` and ``user``.
"""

from __future__ import annotations

import math
from typing import Any, Final

import orjson

from events.errors import InvalidEvent
from front_doors.access_logs.clf import clf_time_ms, parse_clf

__all__ = ["parse_json_line"]

_HTTP_KEYS: Final = {
    "method": ("method", "request_method"),
    "path": ("path", "uri", "request_uri", "url"),
    "status": ("status", "status_code", "code"),
    "bytes": ("bytes", "body_bytes_sent", "bytes_sent", "size"),
    "ip": ("ip", "remote_addr", "client_ip", "remote_ip", "remote"),
    "user_agent": ("user_agent", "http_user_agent", "agent"),
    "duration_ms": ("duration_ms",),
}
_INTEGERS: Final = frozenset({"status", "bytes"})
_USER_KEYS: Final = ("user", "remote_user")
_TIME_KEYS: Final = ("timestamp", "@timestamp", "time", "time_iso8601")
_REFERER_KEYS: Final = ("referer", "http_referer")
#: Where log shippers put the raw line they read: Fluent Bit (``tail``), Vector (``file``).
_LINE_KEYS: Final = ("log", "message")
#: Keys of a web server's own object: with any of them, ``message`` is not a shipped line.
_REQUEST_KEYS: Final = frozenset({*_HTTP_KEYS["method"], *_HTTP_KEYS["path"], "request"})


def parse_json_line(line: bytes, component: str) -> dict[str, Any]:
    """The access event of one JSON line; raises :class:`InvalidEvent` if it is not."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("bad_json", "", f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidEvent("not_object", "", "an access-log JSON line must be an object")
    if isinstance(value.get("http"), dict):
        return {**value, "component": component, "kind": value.get("kind", "access")}
    shipped = _shipped_line(value)
    if shipped is not None:
        return _from_shipped(value, shipped, component)
    return _from_flat(value, component)


def _shipped_line(fields: dict[str, Any]) -> str | None:
    """The key of the raw line in a shipper's record, or ``None`` (see the module doc)."""
    if not _REQUEST_KEYS.isdisjoint(fields):
        return None
    return next((key for key in _LINE_KEYS if isinstance(fields.get(key), str)), None)


def _from_shipped(fields: dict[str, Any], key: str, component: str) -> dict[str, Any]:
    text = fields[key].rstrip("\r\n")
    if text.lstrip()[:1] == "{":  # each level of shipping escapes it again: a few at most
        event = parse_json_line(text.encode(), component)
    else:
        event = parse_clf(text, component)
    extra = {name: v for name, v in fields.items() if name != key}
    data = event.get("data")
    if extra and (data is None or isinstance(data, dict)):
        event["data"] = {**extra, **(data or {})}
    return event


def _from_flat(fields: dict[str, Any], component: str) -> dict[str, Any]:
    rest = dict(fields)
    if isinstance(rest.get("request"), dict):
        _flatten_caddy(rest)
    http = {name: _take(rest, keys, name) for name, keys in _HTTP_KEYS.items()}
    _split_request(rest, http)
    seconds = rest.pop("request_time", None)
    if http["duration_ms"] is None and seconds is not None:
        http["duration_ms"] = _number(seconds, "request_time", scale=1000)
    event: dict[str, Any] = {
        "component": component,
        "kind": "access",
        "http": {k: v for k, v in http.items() if v is not None},
    }
    user = _take(rest, _USER_KEYS, "user")
    if user not in (None, "", "-"):
        event["user"] = user
    timestamp = _timestamp(rest)
    if timestamp is not None:
        event["timestamp"] = timestamp
    referer = _take(rest, _REFERER_KEYS, "referer")
    if referer not in (None, "", "-"):
        rest["referer"] = referer
    if rest:
        event["data"] = rest
    return event


def _take(fields: dict[str, Any], keys: tuple[str, ...], name: str) -> Any:
    for key in keys:
        if key in fields:
            value = fields.pop(key)
            if name in _INTEGERS and isinstance(value, str) and value.isdigit():
                return _integer(value)
            return value
    return None


def _integer(text: str) -> int | str:
    """A numeric string's value; as it is when ``int`` cannot read it ("²", or past 4,300
    digits), for the contract to reject with its reason."""
    try:
        return int(text)
    except ValueError:
        return text


def _flatten_caddy(fields: dict[str, Any]) -> None:
    """Caddy's line in the flat shape, in place (see the module docstring); keys already
    at the top level win."""
    request = dict(fields["request"])
    for key in ("method", "uri", "client_ip", "remote_ip"):
        if key in request and key not in fields:
            fields[key] = request.pop(key)
    headers = request.get("headers")
    agents = headers.get("User-Agent") if isinstance(headers, dict) else None
    if isinstance(agents, list) and agents:
        fields.setdefault("user_agent", agents[0])
    fields["request"] = request
    for theirs, ours in (("ts", "msec"), ("duration", "request_time")):
        # Only numbers: a custom time or duration format stays under data as it is.
        if isinstance(fields.get(theirs), int | float) and ours not in fields:
            fields[ours] = fields.pop(theirs)
    if fields.get("user_id"):
        fields.setdefault("user", fields.pop("user_id"))


def _split_request(fields: dict[str, Any], http: dict[str, Any]) -> None:
    """Method and path from an nginx-style ``request`` line (anything else in ``request``,
    such as Caddy's object, stays under ``data``)."""
    request = fields.get("request")
    if not isinstance(request, str):
        return
    del fields["request"]
    parts = request.split(" ")
    if len(parts) >= 2:
        http["method"] = http["method"] or parts[0]
        http["path"] = http["path"] or parts[1]


# Year 10000: past any time the contract accepts, far below a float's overflow.
_MAX_EPOCH_SECONDS = 253_402_300_800


def _timestamp(fields: dict[str, Any]) -> Any:
    for key in _TIME_KEYS:
        if key in fields:
            return fields.pop(key)
    if "time_local" in fields:
        return clf_time_ms(str(fields.pop("time_local")))
    # Fluent Bit's `date` (its tcp output's time key) counts only as a number: as text it
    # may be any of its formats, and stays under data.
    found = "msec" if "msec" in fields else "date" if _is_number(fields.get("date")) else None
    if found is not None:
        seconds = _number(fields.pop(found), found)
        if not 0 <= seconds < _MAX_EPOCH_SECONDS:
            raise InvalidEvent("invalid_field", found, f"{found} must be epoch seconds")
        return int(seconds * 1000)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any, field: str, *, scale: float = 1.0) -> float:
    """``value`` (a number or numeric text) times ``scale``; finite, or InvalidEvent."""
    try:
        number = float(value) * scale  # scaled first: 1e308 s is no finite millisecond count
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or isinstance(value, bool):
        raise InvalidEvent("invalid_field", field, f"{field} must be a finite number")
    return number
