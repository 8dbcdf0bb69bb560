"""HTTP contract of the read API, over the in-memory twin."""

from __future__ import annotations

from typing import Any

from tests.unit.query_api.helpers import ALL, PAY, Client, event

BRIEF = "((email eq 'diego@chefhero.com') AND (createdAt gte '2018-1-1') AND (message ct 'buyer'))"


async def test_brief_query_finds_exactly_the_matching_event(client: Client) -> None:
    hit = event(user="diego@chefhero.com", message="A Buyer paid")
    misses = [
        event(user="diego@chefhero.com", message="buyer", timestamp="2017-12-31T23:59:59.999Z"),
        event(user="other@chefhero.com", message="buyer"),
        event(user="diego@chefhero.com", message="seller"),
    ]
    async with client([hit, *misses]) as http:
        response = await http.get("/v1/events", params={"q": BRIEF}, headers=ALL)
    assert response.status_code == 200
    assert [e["event_id"] for e in response.json()["items"]] == [hit["event_id"]]


async def test_malformed_query_is_400_naming_position_and_expectation(client: Client) -> None:
    async with client([]) as http:
        response = await http.get("/v1/events", params={"q": "(user eq 'x'"}, headers=ALL)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_query"
    assert body["position"] == 12 and "')'" in body["expected"]
    assert body["found"] == "end of query"


async def test_auth_401_403_and_silent_limiting(client: Client) -> None:
    events = [event(component="payments"), event(component="orders")]
    async with client(events) as http:
        assert (await http.get("/v1/events")).status_code == 401
        assert (await http.get("/v1/events")).headers["www-authenticate"] == "Bearer"
        bad = {"Authorization": "Bearer nope"}
        assert (await http.get("/v1/stats", headers=bad)).status_code == 401
        basic = {"Authorization": "Basic YWxsOg=="}
        assert (await http.get("/v1/events", headers=basic)).status_code == 401
        forbidden = await http.get("/v1/events", params={"service": "orders"}, headers=PAY)
        assert forbidden.status_code == 403
        assert (
            await http.get("/v1/stats", params={"component": "orders"}, headers=PAY)
        ).status_code == 403
        limited = (await http.get("/v1/events", headers=PAY)).json()["items"]
        assert [e["component"] for e in limited] == ["payments"]
        stats = (await http.get("/v1/stats", headers=PAY)).json()
        assert stats["by_component"] == {"payments": 1}
        q = {"q": "component eq 'orders'"}
        assert (await http.get("/v1/events", params=q, headers=PAY)).json()["items"] == []
        other = events[1]["event_id"]
        assert (await http.get(f"/v1/events/{other}", headers=PAY)).status_code == 404
        assert (await http.get(f"/v1/events/{other}", headers=ALL)).status_code == 200
        series = (await http.get("/v1/stats/timeseries", headers=PAY)).json()
        assert sum(b["count"] for b in series["buckets"]) == 1


async def test_aliases_select_the_same_events(client: Client) -> None:
    access = {"method": "POST", "path": "/x", "status": 503}
    events = [
        event(component="orders", user="a@b.c", kind="access", http=access, message=None),
        event(component="payments", user="x@y.z", timestamp="2018-01-05T00:00:00Z"),
    ]
    pairs = [
        ({"component": "orders"}, {"service": "orders"}),
        ({"user": "a@b.c"}, {"email": "a@b.c"}),
        ({"since": "2018-1-3"}, {"timestamp_start": "2018-1-3"}),
        ({"until": "2018-1-4"}, {"timestamp_end": "2018-1-4"}),
        ({"http.status": "503"}, {"code": "503"}),
        ({"http.method": "post"}, {"method": "POST"}),
    ]
    async with client(events) as http:
        for ours, theirs in pairs:
            a = (await http.get("/v1/events", params=ours, headers=ALL)).json()["items"]
            b = (await http.get("/v1/events", params=theirs, headers=ALL)).json()["items"]
            assert a == b and len(a) == 1, (ours, theirs)
        both = {"since": "2018-1-1", "timestamp_start": "2018-1-1"}
        assert (await http.get("/v1/events", params=both, headers=ALL)).status_code == 400


async def test_date_only_until_includes_the_day_and_datetime_until_excludes(client: Client) -> None:
    last_ms = event(timestamp="2018-01-02T23:59:59.999Z")
    midnight = event(timestamp="2018-01-03T00:00:00.000Z")
    async with client([last_ms, midnight]) as http:

        async def ids(**params: str) -> list[str]:
            items = (await http.get("/v1/events", params=params, headers=ALL)).json()["items"]
            return [e["event_id"] for e in items]

        assert await ids(until="2018-1-2") == [last_ms["event_id"]]
        assert await ids(until="2018-01-03T00:00:00Z") == [last_ms["event_id"]]
        assert await ids(until="2018-01-03T00:00:00.001Z") == [
            midnight["event_id"],
            last_ms["event_id"],
        ]
        assert await ids(since="2018-01-03") == [midnight["event_id"]]


async def test_pages_walk_every_event_once_newest_first(client: Client) -> None:
    events = [event(timestamp=f"2018-01-02T10:00:{i % 7:02d}.000Z") for i in range(23)]
    async with client(events) as http:
        seen: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 5}
        while True:
            body = (await http.get("/v1/events", params=params, headers=ALL)).json()
            seen += body["items"]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
    assert sorted(e["event_id"] for e in seen) == sorted(e["event_id"] for e in events)
    stamps = [e["timestamp"] for e in seen]
    assert stamps == sorted(stamps, reverse=True)


async def test_parameter_validation_is_400(client: Client) -> None:
    async with client([]) as http:
        for params in (
            {"limit": "0"},
            {"limit": "1001"},
            {"limit": "x"},
            {"cursor": "nope"},
            {"severity": "LOUD"},
            {"kind": "metric"},
            {"component": "Bad Name"},
            {"code": "abc"},
            {"method": "G3T"},
            {"since": "yesterday"},
            {"q": "x" * 5000},
        ):
            response = await http.get("/v1/events", params=params, headers=ALL)
            assert response.status_code == 400, params
            assert response.json()["error"] in {"bad_request", "invalid_request", "invalid_cursor"}
        series = await http.get("/v1/stats/timeseries", params={"interval": "2m"}, headers=ALL)
        assert series.status_code == 400
        assert (
            await http.get("/v1/events", params={"limit": "1000"}, headers=ALL)
        ).status_code == 200


async def test_stats_and_timeseries(client: Client) -> None:
    events = [
        event(severity="ERROR", kind="error", timestamp="2018-01-02T10:10:00Z"),
        event(severity="CRITICAL", component="orders", timestamp="2018-01-02T12:30:00Z"),
        event(severity="INFO", timestamp="2018-01-02T12:59:59.999Z"),
        event(severity="DEBUG", timestamp="2018-01-02T13:00:00Z"),
    ]
    async with client(events) as http:
        stats = (await http.get("/v1/stats", headers=ALL)).json()
        series = (
            await http.get(
                "/v1/stats/timeseries",
                params={"interval": "1h", "group_by": "severity", "since": "2018-01-02T09:30"},
                headers=ALL,
            )
        ).json()
    assert stats["total"] == 4 and stats["error_rate"] == 0.5
    assert stats["first"] == "2018-01-02T10:10:00.000Z"
    assert stats["last"] == "2018-01-02T13:00:00.000Z"
    assert stats["by_component"] == {"payments": 3, "orders": 1}
    assert [(b["start"][11:16], b["count"]) for b in series["buckets"]] == [
        ("09:00", 0),
        ("10:00", 1),
        ("11:00", 0),
        ("12:00", 2),
        ("13:00", 1),
    ]
    assert series["buckets"][3]["groups"] == {
        "DEBUG": 0,
        "INFO": 1,
        "WARNING": 0,
        "ERROR": 0,
        "CRITICAL": 1,
    }


async def test_event_by_id_and_operations_endpoints(client: Client) -> None:
    one = event(data={"a": [1, {"b": None}]}, http={"method": "GET", "path": "/", "status": 200})
    async with client([one]) as http:
        got = await http.get(f"/v1/events/{one['event_id']}", headers=ALL)
        assert got.json() == one
        assert (await http.get("/v1/events/not-a-uuid", headers=ALL)).status_code == 400
        missing = "00000000-0000-0000-0000-000000000000"
        assert (await http.get(f"/v1/events/{missing}", headers=ALL)).json()["error"] == "not_found"
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert (
            'eventpipe_api_requests_total{method="GET",route="/v1/events/{event_id}",status="200"}'
            in metrics
        )
        for method in ("BREW", "X-1", "PROPFIND"):  # any token is a valid HTTP method
            await http.request(method, "/v1/events", headers=ALL)
        metrics = (await http.get("/metrics")).text
        assert 'method="OTHER",route="/v1/events"' in metrics
        assert "BREW" not in metrics and "PROPFIND" not in metrics
        spec = (await http.get("/openapi.json")).json()
        assert set(spec["paths"]) >= {
            "/v1/events",
            "/v1/events/{event_id}",
            "/v1/stats",
            "/v1/stats/timeseries",
            "/healthz",
            "/readyz",
            "/metrics",
        }
        assert "HTTPBearer" in spec["components"]["securitySchemes"]
        assert spec["components"]["schemas"]["EventPage"]["examples"]
        assert (await http.get("/docs")).status_code == 200


async def test_an_offset_whose_plus_the_url_turned_into_a_space_is_read(client: Client) -> None:
    # `since=2018-01-02T11:00:00+01:00` typed into a URL arrives as "...11:00:00 01:00"
    # (a + in a query string is a space): that was a 400 "not a time" for a valid time.
    at_10z = event(timestamp="2018-01-02T10:00:00.000Z")
    async with client([at_10z]) as http:
        for url in (
            "/v1/events?since=2018-01-02T11:00:00+01:00",
            "/v1/events?q=createdAt+gte+'2018-01-02T11:00:00+01:00'",
        ):
            response = await http.get(url, headers=ALL)
            assert response.status_code == 200, response.text
            assert [e["event_id"] for e in response.json()["items"]] == [at_10z["event_id"]]
        response = await http.get("/v1/events?until=2018-01-02T11:00:00+01:00", headers=ALL)
        assert response.json()["items"] == []
