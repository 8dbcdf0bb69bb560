"""Access-log lines → access events: Common, Combined, JSON; reasons for the rest."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.errors import InvalidEvent
from events.wire import validate_wire
from front_doors.access_logs.clf import clf_time_ms
from front_doors.access_logs.parse import parse_line

COMBINED = (
    b'127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
    b'"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'
)


def test_a_combined_line_becomes_an_access_event_of_the_component() -> None:
    event = parse_line(COMBINED, "web")
    assert event == {
        "component": "web",
        "kind": "access",
        "timestamp": 971_211_336_000,  # 2000-10-10T20:55:36Z
        "user": "frank",
        "http": {
            "method": "GET",
            "path": "/apache_pb.gif",
            "status": 200,
            "ip": "127.0.0.1",
            "bytes": 2326,
            "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
        },
        "data": {"protocol": "HTTP/1.0", "referer": "http://www.example.com/start.html"},
    }
    validate_wire(event)  # and the contract takes it


def test_a_common_line_with_dashes_and_crlf() -> None:
    line = b'10.1.2.3 - - [01/Jan/2024:00:00:00 +0000] "POST /api/orders HTTP/1.1" 204 -\r'
    event = parse_line(line, "shop")
    assert "user" not in event
    assert event["http"] == {
        "method": "POST",
        "path": "/api/orders",
        "status": 204,
        "ip": "10.1.2.3",
        "bytes": 0,
    }
    assert event["timestamp"] == 1_704_067_200_000


def test_escaped_quotes_and_trailing_fields_are_fine() -> None:
    line = (
        b'::1 - - [01/Jan/2024:00:00:00 +0100] "GET /q?a=\\"b\\" HTTP/2.0" 404 12 "-" '
        b'"curl/8" 0.004 "10.0.0.1"'
    )
    event = parse_line(line, "web")
    assert event["http"]["path"] == '/q?a=\\"b\\"'
    assert event["http"]["user_agent"] == "curl/8"
    assert event["timestamp"] == 1_704_063_600_000
    assert "referer" not in event["data"]


def test_nginx_json_lines_are_mapped() -> None:
    line = (
        b'{"time_local":"01/Jan/2024:00:00:01 +0000","remote_addr":"1.2.3.4","remote_user":"-",'
        b'"request":"GET /x?y=1 HTTP/1.1","status":"503","body_bytes_sent":"0",'
        b'"request_time":"0.250","http_referer":"https://a/","http_user_agent":"ua","upstream":"b"}'
    )
    event = parse_line(line, "edge")
    assert event["http"] == {
        "method": "GET",
        "path": "/x?y=1",
        "status": 503,
        "bytes": 0,
        "ip": "1.2.3.4",
        "user_agent": "ua",
        "duration_ms": 250.0,
    }
    assert (event["timestamp"], "user" in event) == (1_704_067_201_000, False)
    assert event["data"] == {"upstream": "b", "referer": "https://a/"}
    validate_wire(event)


def test_a_shippers_record_of_a_line_is_that_line() -> None:
    # Fluent Bit's tcp output (json_lines) of a `tail`ed line: the line under `log`, the
    # time as epoch seconds under `date`; the record's other keys are kept under data.
    record = {"date": 1.5, "log": COMBINED.decode() + "\n", "host": "web-1"}
    event = parse_line(json.dumps(record).encode(), "web")
    plain = parse_line(COMBINED, "web")
    assert (event["http"], event["timestamp"]) == (plain["http"], plain["timestamp"])
    assert event["data"] == {"date": 1.5, "host": "web-1", **plain["data"]}
    # A JSON line shipped by Vector (json codec: under `message`), shipped again.
    inner = json.dumps({"message": '{"method":"GET","path":"/j","status":200,"msec":2}'})
    event = parse_line(json.dumps({"log": inner}).encode(), "web")
    assert (event["http"]["path"], event["timestamp"]) == ("/j", 2000)
    validate_wire(event)


def test_a_web_servers_own_message_key_is_not_taken_for_a_shipped_line() -> None:
    line = b'{"method":"GET","path":"/m","status":"200","message":"hello","date":"Mon"}'
    event = parse_line(line, "web")
    assert event["http"] == {"method": "GET", "path": "/m", "status": 200}
    assert event["data"] == {"message": "hello", "date": "Mon"}  # a text date is not a time
    assert "timestamp" not in event


def test_caddy_json_lines_are_mapped() -> None:
    # Caddy v2's access log as it writes it: the request's facts in a nested object, time
    # and duration in seconds.
    line = (
        b'{"level":"info","ts":1704067201.5,"logger":"http.log.access","msg":"handled request",'
        b'"request":{"remote_ip":"10.0.0.9","remote_port":"50000","client_ip":"1.2.3.4",'
        b'"proto":"HTTP/2.0","method":"GET","host":"shop","uri":"/x?y=1",'
        b'"headers":{"User-Agent":["curl/8.4"],"Accept":["*/*"]}},"bytes_read":0,'
        b'"user_id":"alice","duration":0.25,"size":612,"status":404,'
        b'"resp_headers":{"Server":["Caddy"]}}'
    )
    event = parse_line(line, "edge")
    assert event["http"] == {
        "method": "GET",
        "path": "/x?y=1",
        "status": 404,
        "bytes": 612,
        "ip": "1.2.3.4",
        "user_agent": "curl/8.4",
        "duration_ms": 250.0,
    }
    assert (event["timestamp"], event["user"]) == (1_704_067_201_500, "alice")
    validate_wire(event)


def test_an_eventpipe_shaped_json_line_is_kept_with_our_component() -> None:
    line = b'{"component":"other","http":{"method":"GET","path":"/","status":200},"user":"u"}'
    event = parse_line(line, "web")
    assert (event["component"], event["kind"], event["user"]) == ("web", "access", "u")


@pytest.mark.parametrize(
    ("line", "code", "field"),
    [
        (b"hello world", "invalid_field", ""),
        (b'{"broken', "bad_json", ""),
        (b"{}garbage", "bad_json", ""),
        (b"\xff\xfe not utf-8", "invalid_field", ""),
        (
            b'1.2.3.4 - - [99/Foo/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1',
            "invalid_field",
            "timestamp",
        ),
        (b'{"msec": "soon", "status": 200}', "invalid_field", "msec"),
        (b'{"msec": 1.8e305, "method": "GET", "path": "/"}', "invalid_field", "msec"),
        (b'{"msec": -1, "method": "GET", "path": "/"}', "invalid_field", "msec"),
    ],
)
def test_lines_that_are_not_access_logs_say_why(line: bytes, code: str, field: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_line(line, "web")
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_request_line_of_dash_is_rejected_by_the_contract() -> None:
    line = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "-" 408 0'
    with pytest.raises(InvalidEvent) as caught:
        validate_wire(parse_line(line, "web"))
    assert caught.value.field.startswith("http")


@pytest.mark.parametrize(
    "text",
    [
        "01/Jan/1970:00:00:00 +0000",
        "29/Feb/2024:23:59:59 -0130",
        "31/Dec/2099:12:00:00 +1400",
        "01/Mar/2000:00:00:00 +0000",
    ],
)
def test_log_times_agree_with_the_standard_library(text: str) -> None:
    expected = datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp() * 1000
    assert clf_time_ms(text) == expected


_JSON_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_ACCESS_KEYS = st.sampled_from(
    [
        "method",
        "path",
        "request",
        "status",
        "bytes",
        "ip",
        "user_agent",
        "remote_user",
        "time_local",
        "msec",
        "request_time",
        "timestamp",
        "http",
        "duration_ms",
    ]
)


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_say_why(line: bytes) -> None:
    with contextlib.suppress(InvalidEvent):
        parse_line(line, "web")


@given(st.dictionaries(_ACCESS_KEYS, _JSON_VALUES | st.just("1.5") | st.just("inf"), max_size=8))
def test_any_json_object_parses_or_says_why(fields: dict[str, object]) -> None:
    line = json.dumps(fields).encode()
    try:
        event = parse_line(line, "web")
    except InvalidEvent:
        return
    with contextlib.suppress(InvalidEvent):
        validate_wire(event)  # the contract decides the rest, with its own reasons


@given(
    st.text(alphabet='abcGET/ -"[]:+0123456789\\', max_size=120),
)
def test_near_miss_log_lines_parse_or_say_why(text: str) -> None:
    line = f'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "{text}'.encode()
    with contextlib.suppress(InvalidEvent):
        parse_line(line, "web")
