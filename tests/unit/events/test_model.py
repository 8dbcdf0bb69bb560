"""Every rule of the brief's event table, through the canonical decoder."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import orjson
import pytest

from events import Event, InvalidEvent, decode, encode
from events.limits import MAX_EVENT_BYTES, MAX_MESSAGE_CHARS, MAX_SHORT_CHARS


def line(**fields: object) -> bytes:
    base: dict[str, object] = {"component": "payments", "message": "hello"}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def reject(raw: bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as info:
        decode(raw)
    return info.value


def test_minimal_event_gets_defaults() -> None:
    event = decode(line())
    assert event.component == "payments"
    assert event.kind == "log"
    assert event.severity == "INFO"
    assert event.event_id is None
    assert event.timestamp is None
    assert event.data is None


@pytest.mark.parametrize("missing", ["component", "message"])
def test_required_fields(missing: str) -> None:
    error = reject(line(**{missing: ...}))
    assert (error.code, error.field) == ("missing_field", missing)


def test_message_is_optional_for_access_but_http_is_required() -> None:
    ok = decode(
        line(kind="access", message=..., http={"method": "get", "path": "/", "status": 200})
    )
    assert ok.message is None
    assert ok.http is not None and ok.http.method == "GET"
    error = reject(line(kind="access", message=...))
    assert (error.code, error.field) == ("missing_field", "http")


@pytest.mark.parametrize("component", ["payments", "a", "orders-v2", "svc_1.eu", "0abc", "a" * 64])
def test_component_pattern_accepts(component: str) -> None:
    assert decode(line(component=component)).component == component


@pytest.mark.parametrize(
    "component", ["", "Payments", "-abc", ".abc", "a b", "a" * 65, "pay/ments", "payments\n", 7]
)
def test_component_pattern_rejects(component: object) -> None:
    error = reject(line(component=component))
    assert (error.code, error.field) == ("invalid_field", "component")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("debug", "DEBUG"),
        ("Info", "INFO"),
        ("WARNING", "WARNING"),
        ("warn", "WARNING"),
        ("WaRn", "WARNING"),
        ("error", "ERROR"),
        ("critical", "CRITICAL"),
        ("fatal", "CRITICAL"),
        ("FATAL", "CRITICAL"),
    ],
)
def test_severity_case_and_aliases(given: str, stored: str) -> None:
    assert decode(line(severity=given)).severity == stored


@pytest.mark.parametrize("severity", ["notice", "", "ERR", 3, None])
def test_severity_rejects_unknown(severity: object) -> None:
    if severity is None:  # explicit null means "not given": default applies
        assert decode(line(severity=None)).severity == "INFO"
        return
    error = reject(line(severity=severity))
    assert (error.code, error.field) == ("invalid_field", "severity")


@pytest.mark.parametrize(
    ("kind", "severity"), [("log", "INFO"), ("event", "INFO"), ("error", "ERROR")]
)
def test_severity_default_depends_on_kind(kind: str, severity: str) -> None:
    assert decode(line(kind=kind)).severity == severity


def test_kind_must_be_known() -> None:
    error = reject(line(kind="metric"))
    assert (error.code, error.field) == ("invalid_field", "kind")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-22T19:29:24.123+01:00", datetime(2026, 11, 22, 18, 29, 24, 123000, UTC)),
        ("2026-11-22T18:29:24Z", datetime(2026, 11, 22, 18, 29, 24, tzinfo=UTC)),
        ("2026-11-22T18:29:24.123456Z", datetime(2026, 11, 22, 18, 29, 24, 123000, UTC)),
        ("2026-11-22T23:59:59.999-05:30", datetime(2026, 11, 23, 5, 29, 59, 999000, UTC)),
        (1_700_000_000_123, datetime(2023, 11, 14, 22, 13, 20, 123000, UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1_000, datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)),  # ms, never guessed as seconds
    ],
)
def test_timestamp_forms(given: object, expected: datetime) -> None:
    event = decode(line(timestamp=given))
    assert event.timestamp == expected
    assert event.timestamp is not None and event.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    "given",
    [
        "2026-11-22T19:29:24",  # no offset
        "2026-11-22",  # a date is not a time
        "yesterday",
        -1,
        4_294_967_296_000,  # past 2106
        True,
        1.5e12,
        {"ms": 1},
    ],
)
def test_timestamp_rejects(given: object) -> None:
    error = reject(line(timestamp=given))
    assert (error.code, error.field) == ("invalid_field", "timestamp")


def test_missing_timestamp_stays_absent() -> None:
    assert decode(line()).timestamp is None


def test_event_id_must_be_uuid() -> None:
    assert decode(line(event_id="6f1c1d9e-5b6a-4f0e-9a51-8e0f3c7d2b41")).event_id == UUID(
        "6f1c1d9e-5b6a-4f0e-9a51-8e0f3c7d2b41"
    )
    error = reject(line(event_id="not-a-uuid"))
    assert (error.code, error.field) == ("invalid_field", "event_id")


@pytest.mark.parametrize("data", [[1, 2], "text", 3, True])
def test_data_must_be_an_object(data: object) -> None:
    error = reject(line(data=data))
    assert (error.code, error.field) == ("invalid_field", "data")


def test_data_keeps_nested_values() -> None:
    data = {"order": {"id": 7, "items": [{"sku": "a"}]}, "ok": True, "none": None}
    assert decode(line(data=data)).data == data


@pytest.mark.parametrize(
    ("http", "field"),
    [
        ({"path": "/", "status": 200}, "http.method"),
        ({"method": "GET", "status": 200}, "http.path"),
        ({"method": "GET", "path": "/"}, "http.status"),
        ({"method": "GET", "path": "/", "status": 99}, "http.status"),
        ({"method": "GET", "path": "/", "status": 600}, "http.status"),
        ({"method": "GET", "path": "/", "status": "200"}, "http.status"),
        ({"method": "GET", "path": "/", "status": 200, "bytes": -1}, "http.bytes"),
        ({"method": "GE T", "path": "/", "status": 200}, "http.method"),
        ({"method": "GET", "path": "/", "status": 200, "port": 1}, "http.port"),
    ],
)
def test_http_rules(http: dict[str, object], field: str) -> None:
    error = reject(line(kind="access", http=http))
    assert error.field == field


def test_message_length_limit() -> None:
    assert decode(line(message="x" * MAX_MESSAGE_CHARS)).message is not None
    error = reject(line(message="x" * (MAX_MESSAGE_CHARS + 1)))
    assert (error.code, error.field) == ("too_long", "message")


def test_short_field_limit() -> None:
    error = reject(line(user="u" * (MAX_SHORT_CHARS + 1)))
    assert (error.code, error.field) == ("too_long", "user")


def test_line_size_limit() -> None:
    raw = line(data={"blob": "x" * MAX_EVENT_BYTES})
    error = reject(raw)
    assert error.code == "too_large"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{", "bad_json"),
        (b"", "bad_json"),
        (b"\xff\xfe{}", "bad_json"),
        (b"[]", "not_object"),
        (b'"event"', "not_object"),
        (b"null", "not_object"),
    ],
)
def test_not_json_objects(raw: bytes, code: str) -> None:
    assert reject(raw).code == code


def test_unknown_top_level_fields_move_into_data() -> None:
    event = decode(line(region="eu-west-1", data={"order": 7}))
    assert event.data == {"order": 7, "region": "eu-west-1"}
    assert event.model_extra == {}


def test_unknown_field_clashing_with_data_is_rejected_not_overwritten() -> None:
    error = reject(line(order=8, data={"order": 7}))
    assert (error.code, error.field) == ("invalid_field", "order")


def test_empty_optional_strings_mean_absent() -> None:
    event = decode(line(user="", environment="", function="", reason="", trace_id=""))
    assert (event.user, event.environment, event.function, event.reason, event.trace_id) == (
        None,
        None,
        None,
        None,
        None,
    )


def test_empty_message_is_missing() -> None:
    assert reject(line(message="")).code == "missing_field"


def test_encode_decode_round_trip() -> None:
    event = decode(
        line(
            event_id="6f1c1d9e-5b6a-4f0e-9a51-8e0f3c7d2b41",
            timestamp="2026-01-02T03:04:05.678Z",
            severity="warn",
            user="a@b.c",
            data={"x": [1, {"y": None}]},
            kind="access",
            http={"method": "post", "path": "/x", "status": 201, "duration_ms": 1.5},
        )
    )
    assert decode(encode(event)) == event


def test_event_is_frozen() -> None:
    event = decode(line())
    with pytest.raises(ValueError, match="frozen"):
        event.component = "other"  # type: ignore[misc]


def test_invalid_event_is_a_value_error_with_parts() -> None:
    error = reject(line(component="Bad"))
    assert isinstance(error, ValueError)
    assert error.as_dict() == {
        "code": "invalid_field",
        "field": "component",
        "message": error.message,
    }


def test_model_constructed_in_python_is_settled() -> None:
    event = Event(component="x", message="m", severity="fatal", timestamp=1_000)  # type: ignore[arg-type]
    assert event.severity == "CRITICAL"
    assert event.timestamp_ms == 1_000
