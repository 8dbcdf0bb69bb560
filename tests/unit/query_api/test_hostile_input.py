"""Odd and hostile request parameters: each is a 400 naming the problem, never a 500."""

from __future__ import annotations

import base64

import pytest

from tests.unit.query_api.helpers import ALL, Client, event


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"code": "\u00b2"}, "http.status"),  # '²'.isdigit() but int('²') fails: was a 500
        ({"http.status": "\u0665\u0660\u0660"}, "http.status"),  # Arabic-Indic 500
        ({"since": "\u00b2"}, "not a time"),  # was "invalid literal for int()"
        ({"until": "253402300800000"}, "not a time"),  # after 9999-12-31
        ({"cursor": _cursor(b"[1, 1, 7]")}, "cursor"),  # was a 500
        ({"q": "createdAt gte '\u00b2'"}, "not a time"),
    ],
)
async def test_odd_values_are_400_naming_the_problem(
    client: Client, params: dict[str, str], says: str
) -> None:
    async with client([event()]) as http:
        response = await http.get("/v1/events", params=params, headers=ALL)
    assert response.status_code == 400, response.text
    assert says in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "name", "values"),
    [
        ("/v1/events", "since", ["2018-01-01", "2019-01-01"]),
        ("/v1/events", "timestamp_end", ["2018-01-01", "2019-01-01"]),
        ("/v1/events", "q", ["user eq 'a'", "user eq 'b'"]),
        ("/v1/events", "limit", ["1", "2"]),
        ("/v1/events", "cursor", ["a", "b"]),
        ("/v1/stats", "until", ["2018-01-01", "2018-01-01"]),
        ("/v1/stats/timeseries", "interval", ["1h", "1d"]),
        ("/v1/stats/timeseries", "group_by", ["kind", "severity"]),
    ],
)
async def test_a_single_valued_parameter_given_twice_is_400(
    client: Client, path: str, name: str, values: list[str]
) -> None:
    # The last value used to win silently: `q=A&q=B` answered B alone.
    async with client([event()]) as http:
        response = await http.get(path, params={name: values}, headers=ALL)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
    assert name in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "params", "unknown"),
    [
        ("/v1/events", {"severty": "ERROR"}, "severty"),  # a typo used to read every event
        ("/v1/events", {"component": "payments", "http_status": "500"}, "http_status"),
        ("/v1/stats", {"limit": "5"}, "limit"),  # a page size on a route without pages
        ("/v1/stats", {"interval": "1h"}, "interval"),
        ("/v1/stats/timeseries", {"cursor": "x"}, "cursor"),
        ("/v1/events/00000000-0000-0000-0000-000000000001", {"component": "x"}, "component"),
    ],
)
async def test_a_parameter_the_route_does_not_take_is_400(
    client: Client, path: str, params: dict[str, str], unknown: str
) -> None:
    async with client([event(severity="INFO")]) as http:
        response = await http.get(path, params=params, headers=ALL)
    assert response.status_code == 400, response.text
    assert f"unknown parameter '{unknown}'" in response.json()["message"]


async def test_every_documented_parameter_and_alias_is_taken(client: Client) -> None:
    every = {
        "component": "payments", "service": "payments", "severity": "INFO", "kind": "log",
        "environment": "production", "user": "a", "email": "b", "since": "2018-01-01",
        "until": "2030-01-01", "http.status": "200", "code": "200", "http.method": "GET",
        "method": "GET", "q": "user eq 'a'", "limit": "5",
    }  # fmt: skip
    async with client([event()]) as http:
        assert (await http.get("/v1/events", params=every, headers=ALL)).status_code == 200
        del every["limit"]
        assert (await http.get("/v1/stats", params=every, headers=ALL)).status_code == 200
        # 365 days x 4 kinds: within api_max_buckets (10,000 values: buckets x groups)
        every |= {"interval": "1d", "group_by": "kind", "until": "2019-01-01"}
        got = await http.get("/v1/stats/timeseries", params=every, headers=ALL)
        assert got.status_code == 200, got.text


async def test_list_parameters_may_still_repeat(client: Client) -> None:
    events = [event(severity="ERROR"), event(severity="INFO"), event(severity="DEBUG")]
    async with client(events) as http:
        params = {"severity": ["error", "info"]}
        response = await http.get("/v1/events", params=params, headers=ALL)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2


async def test_timeseries_at_year_1_answers_rfc_3339_times(client: Client) -> None:
    async with client([]) as http:
        params = {"since": "0001-01-01", "until": "0001-01-01", "interval": "1h"}
        response = await http.get("/v1/stats/timeseries", params=params, headers=ALL)
    assert response.status_code == 200
    starts = [b["start"] for b in response.json()["buckets"]]
    assert starts[0] == "0001-01-01T00:00:00.000Z" and starts[-1] == "0001-01-01T23:00:00.000Z"
    assert len(starts) == 24
