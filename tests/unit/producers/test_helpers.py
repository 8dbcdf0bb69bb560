"""log / error / event / access and bind(): the events they shape."""

from __future__ import annotations

from producers import MemoryKafka
from producers.shapes import MAX_TRACEBACK_CHARS, exception_data
from tests.unit.producers.conftest import Factory, delivered


def boom() -> None:
    raise ValueError("bad input")


def test_log_event_and_access(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer()
    producer.log("payments", "charging", severity="debug", user="a@b.c", function="charge")
    producer.event("payments", "payment authorised", data={"amount": 9.95})
    producer.access("payments", "post", "/v1/pay", 201, bytes=512, duration_ms=3.5, ip="10.0.0.1")
    producer.flush()
    log, business, access = delivered(kafka)
    assert (log.kind, log.severity, log.user, log.function) == ("log", "DEBUG", "a@b.c", "charge")
    assert (business.kind, business.data) == ("event", {"amount": 9.95})
    assert access.kind == "access" and access.http is not None
    assert access.http.model_dump(exclude_none=True) == {
        "method": "POST",
        "path": "/v1/pay",
        "status": 201,
        "bytes": 512,
        "duration_ms": 3.5,
        "ip": "10.0.0.1",
    }


def test_error_captures_the_exception_into_data(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer()
    try:
        boom()
    except ValueError as exc:
        producer.error("orders", "could not save", exc=exc, reason="db down", data={"id": 7})
    producer.flush()
    (event,) = delivered(kafka)
    assert (event.kind, event.severity, event.reason) == ("error", "ERROR", "db down")
    assert event.data is not None and event.data["id"] == 7
    exception = event.data["exception"]
    assert exception["type"] == "ValueError" and exception["message"] == "bad input"
    assert "in boom" in exception["traceback"] and "ValueError: bad input" in exception["traceback"]


def test_bind_fixes_the_component_and_defaults(make_producer: Factory, kafka: MemoryKafka) -> None:
    producer = make_producer()
    api = producer.bind("api", environment="production", user="system")
    api.error("boom", function="startup", reason="testing", user="admin")
    api.log("started")
    api.bind(trace_id="t-1").event("deployed")
    api.access("GET", "/healthz", 200, duration_ms=0.5)
    api.emit({"message": "raw", "kind": "log"})
    producer.flush()
    error, log, deployed, access, raw = delivered(kafka)
    assert {e.component for e in (error, log, deployed, access, raw)} == {"api"}
    assert (error.message, error.function, error.reason) == ("boom", "startup", "testing")
    assert (error.kind, error.user) == ("error", "admin")
    assert (log.user, log.environment) == ("system", "production")
    assert deployed.trace_id == "t-1" and deployed.kind == "event"
    assert access.http is not None and access.http.duration_ms == 0.5
    assert raw.message == "raw"


def test_a_bound_severity_is_the_default_of_log_and_event(
    make_producer: Factory, kafka: MemoryKafka
) -> None:
    # The helpers' own default (INFO) used to override it: every audit event went out INFO.
    producer = make_producer()
    audit = producer.bind("audit", severity="WARNING")
    audit.event("role granted")
    audit.log("checked")
    audit.log("said so", severity="DEBUG")
    audit.error("denied")
    audit.emit({"message": "raw"})
    producer.flush()
    assert [(e.message, e.severity) for e in delivered(kafka)] == [
        ("role granted", "WARNING"),
        ("checked", "WARNING"),
        ("said so", "DEBUG"),
        ("denied", "ERROR"),
        ("raw", "WARNING"),
    ]


def test_long_tracebacks_are_cut_to_their_innermost_part() -> None:
    def deep(n: int) -> None:
        if n == 0:
            raise RuntimeError("innermost")
        deep(n - 1)

    try:
        deep(400)
    except RuntimeError as exc:
        data = exception_data(exc)
    assert len(data["traceback"]) <= MAX_TRACEBACK_CHARS
    assert data["traceback"].endswith("RuntimeError: innermost\n")
