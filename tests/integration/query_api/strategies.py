"""Hypothesis strategies: events in the API's JSON shape, filters as request parameters.

Values are drawn from small pools so that filters match some events and miss others, and
timestamps collide (ties are ordered by event id). Text uses characters whose case folding
ClickHouse and Python agree on, plus quotes, backslashes and ``%`` for escaping hazards.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from query_api.timeparse import format_ms

BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HOUR = 3_600_000
COMPONENTS = ["payments", "orders", "search"]
USERS = ["diego@chefhero.com", "ann@x.io", "Bob"]
WORDS = ["buyer", "Buyer", "SELLER", "café", "CAFÉ", "o'hara", "100%", "a\\b", "x"]
ALPHABET = "abcXYZé É ü'\\%_-."

texts = st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, min_size=1, max_size=8))
stamps = st.one_of(
    st.sampled_from([BASE_MS, BASE_MS + HOUR, BASE_MS + 26 * HOUR]),
    st.integers(BASE_MS - HOUR, BASE_MS + 50 * HOUR),
)
scalars = st.one_of(
    st.integers(-100, 100),
    st.integers(-10_000, 10_000).map(lambda n: n / 100),
    texts,
    st.booleans(),
    st.none(),
)
data = st.dictionaries(
    st.sampled_from(["a", "n", "x", "region"]),
    st.one_of(scalars,
              st.dictionaries(st.sampled_from(["y", "z"]), scalars, min_size=1, max_size=2),
              st.lists(scalars, min_size=1, max_size=2)),
    min_size=1,
    max_size=3,
)  # fmt: skip
https = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST"]),
        "path": st.sampled_from(["/", "/api/items", "/o'k"]),
        "status": st.sampled_from([200, 404, 500, 503]),
    },
    optional={
        "bytes": st.integers(0, 5000),
        "duration_ms": st.integers(0, 100_000).map(lambda n: n / 100),
        "ip": st.just("10.0.0.1"),
    },
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["log", "error", "event", "access"]))
    event: dict[str, Any] = {
        "event_id": str(draw(st.uuids())),
        "timestamp": format_ms(draw(stamps)),
        "component": draw(st.sampled_from(COMPONENTS)),
        "kind": kind,
        "severity": draw(st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])),
    }
    optional = {
        "message": texts.map(lambda t: f"the {t}"),
        "environment": st.sampled_from(["production", "staging"]),
        "user": st.sampled_from(USERS),
        "trace_id": st.sampled_from(["t1", "t2"]),
        "data": data,
        "http": https,
    }
    for name, strategy in optional.items():
        needed = (name == "message" and kind != "access") or (name == "http" and kind == "access")
        if needed or draw(st.booleans()):
            event[name] = draw(strategy)
    return event


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_TIMES = st.one_of(
    stamps.map(format_ms),
    stamps.map(lambda ms: format_ms(ms)[:10]),
    stamps.map(lambda ms: format_ms(ms)[:16]),
)
_CLAUSES = st.one_of(
    st.builds(lambda f, op, v: f"({f} {op} {_quote(v)})",
              st.sampled_from(["message", "user", "email", "data", "data.a", "data.region",
                               "data.x.y", "http.path", "environment", "trace_id"]),
              st.sampled_from(["eq", "ne", "ct", "gt", "lte"]), texts),
    st.builds(lambda f, op, v: f"({f} {op} {v})",
              st.sampled_from(["data.n", "data.a", "http.status", "code", "http.bytes",
                               "http.duration_ms", "data.x.0"]),
              st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
              st.sampled_from(["0", "1", "-5", "12.5", "404", "500", "2500"])),
    st.builds(lambda op, v: f"(createdAt {op} {_quote(v)})",
              st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), _TIMES),
    st.builds(lambda op, v: f"(severity {op} {_quote(v)})",
              st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
              st.sampled_from(["debug", "INFO", "warn", "ERROR", "fatal"])),
    st.builds(lambda vs: f"(kind in ({', '.join(map(_quote, vs))}))",
              st.lists(st.sampled_from(["log", "error", "event", "access"]),
                       min_size=1, max_size=2)),
    st.builds(lambda f, vs: f"({f} in ({', '.join(map(_quote, vs))}))",
              st.sampled_from(["component", "service", "user", "data.a", "http.method", "method"]),
              st.lists(st.one_of(st.sampled_from(COMPONENTS + USERS + ["GET", "post"]), texts),
                       min_size=1, max_size=3)),
)  # fmt: skip
queries = st.recursive(
    _CLAUSES,
    lambda kids: st.one_of(
        st.lists(kids, min_size=2, max_size=3).map(lambda xs: "(" + " AND ".join(xs) + ")"),
        st.lists(kids, min_size=2, max_size=3).map(lambda xs: "(" + " OR ".join(xs) + ")"),
        kids.map(lambda x: f"NOT {x}"),
    ),
    max_leaves=5,
)


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    """Request parameters of ``/v1/events`` (and the stats routes)."""
    choices: dict[str, st.SearchStrategy[Any]] = {
        "component": st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=2),
        "severity": st.lists(st.sampled_from(["info", "WARN", "ERROR", "critical"]),
                             min_size=1, max_size=2),
        "kind": st.lists(st.sampled_from(["log", "error", "access"]), min_size=1, max_size=2),
        "user": st.lists(st.sampled_from(USERS), min_size=1, max_size=2),
        "environment": st.sampled_from(["production", "staging"]),
        "since": _TIMES,
        "until": _TIMES,
        "code": st.sampled_from(["404", "500,503"]),
        "method": st.sampled_from(["get", "POST"]),
        "q": queries,
    }  # fmt: skip
    picked = draw(st.lists(st.sampled_from(sorted(choices)), max_size=3, unique=True))
    return {name: draw(choices[name]) for name in picked}
