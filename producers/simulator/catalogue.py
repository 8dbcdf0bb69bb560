"""What simulated services say: a weighted catalogue per service.

A :class:`Service` weighs its kinds of event (log, business event, access, error), and for
each kind its messages, functions and the ``data`` it attaches; access events come from
weighted endpoints with weighted statuses. ``payments``, ``orders`` and ``users`` are
built in; any other name gets :func:`generic`. Pure data: :mod:`.generate` draws from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["BUILT_IN", "DataField", "Endpoint", "Line", "Service", "generic", "service"]

#: A ``data`` field: ``(name, kind, argument)``; kinds: ``int`` (1..argument),
#: ``money`` (0.5..argument, cents), ``choice`` (one of argument, a "|"-separated list).
DataField = tuple[str, str, int | str]


@dataclass(frozen=True)
class Line:
    """One message a service emits, with its weight and severity weights."""

    message: str
    weight: float = 1.0
    severities: tuple[tuple[str, float], ...] = (("INFO", 1.0),)
    function: str | None = None
    reason: str | None = None
    data: tuple[DataField, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """An HTTP route and the statuses it answers with, weighted."""

    method: str
    path: str  # "{id}" becomes a number
    weight: float = 1.0
    statuses: tuple[tuple[int, float], ...] = ((200, 97.0), (404, 2.0), (500, 1.0))


@dataclass(frozen=True)
class Service:
    name: str
    kinds: tuple[tuple[str, float], ...]  # kind → weight: log, event, access, error
    lines: dict[str, tuple[Line, ...]] = field(default_factory=dict)  # kind → its lines
    endpoints: tuple[Endpoint, ...] = ()


_LOG_LEVELS: Final = (("DEBUG", 15.0), ("INFO", 65.0), ("WARNING", 15.0), ("ERROR", 5.0))
_ERROR_LEVELS: Final = (("ERROR", 85.0), ("CRITICAL", 15.0))
_WARN: Final = (("WARNING", 1.0),)
_CURRENCY: Final = ("currency", "choice", "EUR|EUR|EUR|USD|USD|GBP")
_AMOUNT: Final = ("amount", "money", 500)
_ORDER: Final = ("order_id", "int", 9_999_999)

PAYMENTS: Final = Service(
    "payments",
    kinds=(("event", 40), ("log", 30), ("access", 20), ("error", 10)),
    lines={
        "event": (
            Line("payment authorised", 10, function="authorise", data=(_ORDER, _AMOUNT, _CURRENCY)),
            Line("payment captured", 8, function="capture", data=(_ORDER, _AMOUNT, _CURRENCY)),
            Line("refund issued", 2, function="refund", data=(_ORDER, _AMOUNT, _CURRENCY)),
            Line("card declined", 3, _WARN, "authorise", "insufficient funds", (_ORDER, _AMOUNT)),
            Line("chargeback opened", 0.5, _WARN, "disputes.open", data=(_ORDER, _AMOUNT)),
        ),
        "log": (
            Line(
                "charging card",
                6,
                _LOG_LEVELS,
                "authorise",
                data=(("provider", "choice", "stripe|adyen|braintree"),),
            ),
            Line("3-D Secure challenge started", 2, _LOG_LEVELS, "authorise"),
            Line(
                "retrying provider call",
                1,
                _LOG_LEVELS,
                "providers.call",
                data=(("attempt", "int", 5),),
            ),
            Line(
                "settlement batch closed",
                0.5,
                _LOG_LEVELS,
                "settle",
                data=(("payments", "int", 5000),),
            ),
        ),
        "error": (
            Line(
                "provider timeout",
                5,
                _ERROR_LEVELS,
                "providers.call",
                "PSP did not answer within 2 s",
            ),
            Line(
                "ledger write conflict",
                2,
                _ERROR_LEVELS,
                "ledger.append",
                "concurrent update of the same account",
                (_ORDER,),
            ),
            Line(
                "card network unavailable", 1, _ERROR_LEVELS, "authorise", "upstream returned 503"
            ),
        ),
    },
    endpoints=(
        Endpoint("POST", "/v1/payments", 5, ((201, 85), (402, 8), (400, 4), (500, 2), (503, 1))),
        Endpoint("GET", "/v1/payments/{id}", 3, ((200, 95), (404, 5))),
        Endpoint("POST", "/v1/refunds", 1, ((201, 90), (409, 8), (500, 2))),
    ),
)

ORDERS: Final = Service(
    "orders",
    kinds=(("event", 35), ("log", 30), ("access", 30), ("error", 5)),
    lines={
        "event": (
            Line(
                "order placed",
                10,
                function="checkout",
                data=(_ORDER, ("items", "int", 12), ("total", "money", 900), _CURRENCY),
            ),
            Line(
                "order shipped",
                6,
                function="fulfilment.ship",
                data=(_ORDER, ("warehouse", "choice", "ams-1|fra-2|dub-1")),
            ),
            Line("order cancelled", 2, _WARN, "checkout.cancel", "customer request", (_ORDER,)),
        ),
        "log": (
            Line(
                "reserving stock",
                5,
                _LOG_LEVELS,
                "inventory.reserve",
                data=(("sku", "int", 99999), ("quantity", "int", 5)),
            ),
            Line(
                "computing shipping quote",
                3,
                _LOG_LEVELS,
                "shipping.quote",
                data=(("carrier", "choice", "dhl|ups|postnl"),),
            ),
            Line("cart abandoned", 1, _LOG_LEVELS, "carts.expire"),
        ),
        "error": (
            Line(
                "inventory service unavailable",
                3,
                _ERROR_LEVELS,
                "inventory.reserve",
                "connection refused",
            ),
            Line(
                "address validation failed",
                2,
                _ERROR_LEVELS,
                "checkout",
                "postcode does not match city",
                (_ORDER,),
            ),
        ),
    },
    endpoints=(
        Endpoint("GET", "/v1/orders", 4),
        Endpoint("POST", "/v1/orders", 3, ((201, 90), (400, 6), (409, 2), (500, 2))),
        Endpoint("GET", "/v1/orders/{id}", 4, ((200, 93), (404, 6), (500, 1))),
        Endpoint("PATCH", "/v1/orders/{id}", 1, ((200, 90), (409, 8), (500, 2))),
    ),
)

USERS: Final = Service(
    "users",
    kinds=(("event", 30), ("log", 30), ("access", 35), ("error", 5)),
    lines={
        "event": (
            Line(
                "user logged in",
                10,
                function="sessions.create",
                data=(("method", "choice", "password|password|sso|magic-link"),),
            ),
            Line(
                "user signed up",
                3,
                function="accounts.create",
                data=(
                    ("plan", "choice", "free|free|free|pro|team"),
                    ("country", "choice", "NL|DE|FR|US|GB|ES"),
                ),
            ),
            Line("password changed", 1, function="accounts.password"),
            Line("login failed", 2, _WARN, "sessions.create", "wrong password"),
        ),
        "log": (
            Line("session refreshed", 6, _LOG_LEVELS, "sessions.refresh"),
            Line(
                "sending verification e-mail",
                2,
                _LOG_LEVELS,
                "mail.send",
                data=(("template", "choice", "verify|welcome|reset"),),
            ),
        ),
        "error": (
            Line(
                "directory lookup timed out",
                3,
                _ERROR_LEVELS,
                "ldap.search",
                "LDAP server did not answer in 5 s",
            ),
            Line("e-mail bounced", 2, _ERROR_LEVELS, "mail.send", "mailbox unavailable"),
        ),
    },
    endpoints=(
        Endpoint("POST", "/v1/sessions", 5, ((200, 85), (401, 12), (429, 2), (500, 1))),
        Endpoint("GET", "/v1/users/{id}", 4, ((200, 96), (404, 3), (500, 1))),
        Endpoint("POST", "/v1/users", 1, ((201, 92), (409, 6), (500, 2))),
    ),
)

BUILT_IN: Final = {s.name: s for s in (PAYMENTS, ORDERS, USERS)}


def generic(name: str) -> Service:
    """The catalogue of a service we know nothing about: plain logs, requests, errors."""
    return Service(
        name,
        kinds=(("log", 50), ("access", 35), ("event", 10), ("error", 5)),
        lines={
            "log": (
                Line("request handled", 5, _LOG_LEVELS, "handle"),
                Line("cache miss", 2, _LOG_LEVELS, "cache.get", data=(("key", "int", 100000),)),
            ),
            "event": (
                Line(
                    f"{name} job finished", 1, function="jobs.run", data=(("items", "int", 1000),)
                ),
            ),
            "error": (
                Line("dependency unavailable", 1, _ERROR_LEVELS, "client.call", "connection reset"),
            ),
        },
        endpoints=(Endpoint("GET", f"/v1/{name}", 3), Endpoint("GET", f"/v1/{name}/{{id}}", 2)),
    )


def service(name: str) -> Service:
    """The built-in catalogue of ``name``, or :func:`generic`."""
    return BUILT_IN.get(name) or generic(name)
