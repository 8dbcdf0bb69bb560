"""Drawing events from the catalogues: a seeded pool, cheap to replay at any rate.

Generating a realistic event in Python costs ~10 µs — more than producing it — so the
simulator samples ``size`` events once (seeded: the same seed, the same events, in the
same order) and then replays the pool. The producer stamps a fresh ``event_id`` and the
emit time on every event, so replayed events are distinct events.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final, TypeVar

from producers.simulator.catalogue import DataField, Endpoint, Line, Service

__all__ = ["EventPool", "make_event"]

T = TypeVar("T")

_FIRST: Final = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan")
_LAST: Final = ("smith", "jones", "garcia", "müller", "rossi", "dubois", "jansen", "nowak")
#: Simulated users with Zipf-like weights: a few are very active, most rarely seen.
USERS: Final = [f"{first}.{last}@example.com" for last in _LAST for first in _FIRST]
_USER_WEIGHTS: Final = [1.0 / (rank + 1) for rank in range(len(USERS))]
_AGENTS: Final = (
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    "okhttp/4.12.0",
    "python-httpx/0.27.0",
)
_USER_SHARE: Final = 0.7  # share of non-access events that name a user


def _pick(rng: random.Random, weighted: Sequence[tuple[T, float]]) -> T:
    items = [item for item, _ in weighted]
    return rng.choices(items, [weight for _, weight in weighted])[0]


def _data(rng: random.Random, fields: Sequence[DataField]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, kind, argument in fields:
        if kind == "int":
            data[name] = rng.randint(1, int(argument))
        elif kind == "money":
            data[name] = round(rng.uniform(0.5, float(argument)), 2)
        else:
            data[name] = rng.choice(str(argument).split("|"))
    return data


def _line_event(rng: random.Random, service: Service, kind: str) -> dict[str, Any]:
    line: Line = rng.choices(
        service.lines[kind], [candidate.weight for candidate in service.lines[kind]]
    )[0]
    event: dict[str, Any] = {
        "component": service.name,
        "kind": kind,
        "severity": _pick(rng, line.severities),
        "message": line.message,
        "trace_id": f"{rng.getrandbits(64):016x}",
    }
    if line.function:
        event["function"] = line.function
    if line.reason:
        event["reason"] = line.reason
    if rng.random() < _USER_SHARE:
        event["user"] = rng.choices(USERS, _USER_WEIGHTS)[0]
    if line.data:
        event["data"] = _data(rng, line.data)
    return event


def _access_event(rng: random.Random, service: Service) -> dict[str, Any]:
    endpoint: Endpoint = rng.choices(service.endpoints, [e.weight for e in service.endpoints])[0]
    status = _pick(rng, endpoint.statuses)
    severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
    return {
        "component": service.name,
        "kind": "access",
        "severity": severity,
        "user": rng.choices(USERS, _USER_WEIGHTS)[0],
        "http": {
            "method": endpoint.method,
            "path": endpoint.path.replace("{id}", str(rng.randint(1, 999_999))),
            "status": status,
            "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "bytes": rng.randint(80, 40_000),
            "duration_ms": round(rng.lognormvariate(3.0, 0.8), 3),
            "user_agent": rng.choice(_AGENTS),
        },
    }


def make_event(rng: random.Random, service: Service) -> dict[str, Any]:
    """One event of ``service``, drawn from its catalogue with ``rng``."""
    kind = _pick(rng, service.kinds)
    if kind == "access" and service.endpoints:
        return _access_event(rng, service)
    if kind not in service.lines:
        kind = next(iter(service.lines))
    return _line_event(rng, service, kind)


class EventPool:
    """``size`` events of ``services`` (equally likely), replayed in order."""

    def __init__(self, services: Sequence[Service], *, seed: int, size: int) -> None:
        rng = random.Random(seed)
        self.events = [make_event(rng, rng.choice(services)) for _ in range(size)]

    def __len__(self) -> int:
        return len(self.events)

    def counts(self, emitted: int, key: str) -> Counter[str]:
        """How many of the first ``emitted`` replayed events had each value of ``key``."""
        rounds, rest = divmod(emitted, len(self.events))
        whole = Counter(str(event.get(key)) for event in self.events)
        counts: Counter[str] = Counter({value: n * rounds for value, n in whole.items()})
        counts.update(str(event.get(key)) for event in self.events[:rest])
        return +counts
