"""Request parameters → typed values: the filter, the page, the caller's scope.

FastAPI dependencies only; the rules live in pure modules (:mod:`query_api.filters`,
:mod:`query_api.dsl`, :mod:`query_api.timeparse`). Every refusal is a 400 naming the
parameter. The replaced systems' names are accepted beside ours: ``service`` (component),
``email`` (user), ``timestamp_start``/``timestamp_end`` (since/until), ``code``
(http.status) and ``method`` (http.method). A list parameter may repeat or hold
comma-separated values; any other parameter given twice is refused, and so is a parameter
the route does not take.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from events.model import COMPONENT_PATTERN, KINDS, SEVERITIES
from events.rules import normalise_severity
from query_api.auth import TokenTable
from query_api.cursor import Key, decode_cursor
from query_api.dsl import check, parse
from query_api.errors import BadRequest
from query_api.filters import EventFilter, Scope
from query_api.predicates import Predicate
from query_api.repository import EventsRepository
from query_api.settings import ApiSettings
from query_api.timeparse import parse_time

__all__ = [
    "FILTER_NAMES",
    "PAGE_NAMES",
    "FilterParams",
    "PageParams",
    "Repo",
    "Where",
    "WhereScope",
    "event_filter",
    "known_parameters",
]

_MAX_VALUES: Final = 100
_COMPONENT: Final = re.compile(COMPONENT_PATTERN)
_METHOD: Final = re.compile(r"[A-Za-z]{1,16}")
_STATUS: Final = re.compile(r"[0-9]{1,3}")  # not str.isdigit: '²' is a digit int() refuses
_bearer = HTTPBearer(auto_error=False, description="A token from the API's token table.")

_TIME = "A date (`2018-1-1`, whole UTC day), a date-time (naive = UTC) or epoch ms."
_Q_EXAMPLES = [
    "((email eq 'diego@chefhero.com') AND (createdAt gte '2018-1-1') AND (message ct 'buyer'))",
    "(severity gte 'ERROR') AND NOT (component in ('test', 'ci'))",
    "(data.amount gt 100) OR (http.status gte 500)",
]


def _list(description: str, alias: str | None = None) -> Any:
    return Field(default_factory=list, alias=alias, description=description)


def _time_field(description: str) -> Any:
    return Field(default=None, max_length=64, description=description)


class FilterParams(BaseModel):
    """The filter parameters as sent: validated into an :class:`EventFilter` next."""

    model_config = ConfigDict(populate_by_name=True)

    component: list[str] = _list("Component(s) to read.")
    service: list[str] = _list("Alias of `component`.")
    severity: list[str] = _list("DEBUG, INFO, WARNING (WARN), ERROR, CRITICAL (FATAL); any case.")
    kind: list[str] = _list("log, error, event, access.")
    environment: list[str] = _list("Environment(s), exact.")
    user: list[str] = _list("User(s), exact.")
    email: list[str] = _list("Alias of `user`.")
    since: str | None = _time_field(f"Inclusive lower bound. {_TIME}")
    timestamp_start: str | None = _time_field("Alias of `since`.")
    until: str | None = _time_field(f"Exclusive bound; a date includes that whole day. {_TIME}")
    timestamp_end: str | None = _time_field("Alias of `until`.")
    http_status: list[str] = _list("HTTP status(es) of access events.", "http.status")
    code: list[str] = _list("Alias of `http.status`.")
    http_method: list[str] = _list("HTTP method(s), any case.", "http.method")
    method: list[str] = _list("Alias of `http.method`.")
    q: str | None = Field(
        default=None, description="The query language (see docs/api.md).", examples=_Q_EXAMPLES
    )


#: Names of the filter's parameters, aliases included.
FILTER_NAMES: Final = frozenset(f.alias or name for name, f in FilterParams.model_fields.items())
#: Parameters that take one value: a repeat would silently replace the first (``q=A&q=B``).
_SINGLE: Final = (
    *(
        f.alias or name
        for name, f in FilterParams.model_fields.items()
        if f.annotation != list[str]
    ),
    "limit",
    "cursor",
    "interval",
    "group_by",
)


def known_parameters(*names: Iterable[str]) -> Callable[[Request], None]:
    """A route's guard on its query string: 400 for a parameter it does not take (a typo
    such as ``severty=ERROR`` would otherwise widen the read to every event), and for a
    one-value parameter given more than once."""
    known = frozenset(name for group in names for name in group)

    def check(request: Request) -> None:
        given = request.query_params
        unknown = sorted(set(given) - known)
        if unknown:
            shown = ", ".join(repr(name[:64]) for name in unknown[:5])
            raise BadRequest(
                f"unknown parameter {shown}; this route takes: {', '.join(sorted(known))}"
                if known
                else f"unknown parameter {shown}; this route takes none"
            )
        repeated = [name for name in _SINGLE if len(given.getlist(name)) > 1]
        if repeated:
            raise BadRequest(f"{', '.join(repeated)}: give each of these once")

    return check


def _values(name: str, *given: list[str]) -> list[str]:
    values = [p.strip() for v in given for item in v for p in item.split(",") if p.strip()]
    if len(values) > _MAX_VALUES:
        raise BadRequest(f"{name}: at most {_MAX_VALUES} values")
    return values


def _checked(
    name: str, values: list[str], ok: re.Pattern[str] | tuple[str, ...]
) -> tuple[str, ...]:
    for value in values:
        if (ok.fullmatch(value) is None) if isinstance(ok, re.Pattern) else value not in ok:
            raise BadRequest(f"{name}: {value!r} is not a valid value")
    return tuple(values)


def _statuses(values: list[str]) -> tuple[int, ...]:
    if not all(_STATUS.fullmatch(v) for v in values):
        raise BadRequest("http.status (code): values are HTTP status numbers")
    return tuple(int(v) for v in values)


def _time(name: str, ours: str | None, theirs: str | None, *, until: bool) -> int | None:
    if ours is not None and theirs is not None:
        raise BadRequest(f"give {name} or its alias, not both")
    text = ours if ours is not None else theirs
    if text is None:
        return None
    try:
        span = parse_time(text)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None
    return span.end_ms if until and span.date_only else span.start_ms


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _query(text: str | None, settings: ApiSettings) -> Predicate | None:
    if text is None or not text.strip():
        return None
    if len(text) > settings.api_max_query_length:
        raise BadRequest(f"q: longer than {settings.api_max_query_length} characters")
    return check(parse(text))


def event_filter(request: Request, params: Annotated[FilterParams, Query()]) -> EventFilter:
    """The filter of ``/v1/events``, ``/v1/stats`` and ``/v1/stats/timeseries``."""
    p = params
    severities = [str(normalise_severity(s)) for s in _values("severity", p.severity)]
    methods = [m.upper() for m in _values("http.method", p.http_method, p.method)]
    return EventFilter(
        components=_checked("component", _values("component", p.component, p.service), _COMPONENT),
        severities=_checked("severity", severities, SEVERITIES),
        kinds=_checked("kind", _values("kind", p.kind), KINDS),
        environments=tuple(_values("environment", p.environment)),
        users=tuple(_values("user", p.user, p.email)),
        http_statuses=_statuses(_values("http.status", p.http_status, p.code)),
        http_methods=_checked("http.method", methods, _METHOD),
        since_ms=_time("since", p.since, p.timestamp_start, until=False),
        until_ms=_time("until", p.until, p.timestamp_end, until=True),
        query=_query(p.q, _settings(request)),
    )


def token_scope(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Scope:
    """The caller's scope; 401 without a known bearer token."""
    tokens: TokenTable = request.app.state.tokens
    return tokens.scope_of(credentials.credentials if credentials else None)


def scoped_filter(
    scope: Annotated[Scope, Depends(token_scope)],
    where: Annotated[EventFilter, Depends(event_filter)],
) -> EventFilter:
    """The request's filter within the caller's scope (403 when it names another component)."""
    return where.within(scope)


def scope_only(scope: Annotated[Scope, Depends(token_scope)]) -> EventFilter:
    """No filter, only the caller's scope (for reads by id)."""
    return EventFilter().within(scope)


#: The page's parameters (:func:`page_query`).
PAGE_NAMES: Final = ("limit", "cursor")


@dataclass(frozen=True)
class PageQuery:
    limit: int
    after: Key | None


def page_query(
    limit: Annotated[int, Query(ge=1, le=1000, description="Events per page.")] = 100,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the "
                                        "previous page.")] = None,
) -> PageQuery:  # fmt: skip
    return PageQuery(limit, None if cursor is None else decode_cursor(cursor))


def repository(request: Request) -> EventsRepository:
    repo: EventsRepository = request.app.state.repository
    return repo


Where = Annotated[EventFilter, Depends(scoped_filter)]
WhereScope = Annotated[EventFilter, Depends(scope_only)]
PageParams = Annotated[PageQuery, Depends(page_query)]
Repo = Annotated[EventsRepository, Depends(repository)]
