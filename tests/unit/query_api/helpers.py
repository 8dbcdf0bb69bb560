"""Shared test values: tokens, auth headers, and an event in the API's JSON shape."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

TOKENS = ["all=*", "pay=payments", "two=payments,orders"]
ALL = {"Authorization": "Bearer all"}
PAY = {"Authorization": "Bearer pay"}
#: ``async with client(events, **settings) as http`` (the fixture in conftest.py).
Client = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def event(**fields: Any) -> dict[str, Any]:
    """A valid event as the API returns it; ``fields`` override the defaults."""
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "timestamp": "2018-01-02T10:00:00.000Z",
        "component": "payments",
        "kind": "log",
        "severity": "INFO",
        "message": "m",
    }
    return base | fields
