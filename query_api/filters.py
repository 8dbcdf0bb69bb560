"""What a read asks for, as one typed value, and the token scope applied to it.

:class:`EventFilter` is built from the request's parameters (:mod:`query_api.params`) and
turned into one predicate tree by :meth:`EventFilter.predicate`. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from query_api.errors import Forbidden
from query_api.fields import COMPONENT, FIELDS, HTTP_METHOD, HTTP_STATUS, KIND, SEVERITY
from query_api.predicates import TRUE, AllOf, OneOf, Predicate, TimeRange, on_present

__all__ = ["EventFilter", "Scope"]


@dataclass(frozen=True)
class Scope:
    """The components a token may read; ``None`` means all of them (``*``)."""

    components: frozenset[str] | None

    def allows(self, component: str) -> bool:
        return self.components is None or component in self.components


@dataclass(frozen=True)
class EventFilter:
    """Values within one list are alternatives (OR); different fields all apply (AND).

    ``since_ms`` is inclusive and ``until_ms`` exclusive (a date-only ``until`` has already
    become the start of the next day). ``query`` is the checked ``q`` predicate.
    """

    components: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    http_statuses: tuple[int, ...] = ()
    http_methods: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    query: Predicate | None = None

    def within(self, scope: Scope) -> EventFilter:
        """This filter limited to ``scope``; :class:`Forbidden` if it names another component."""
        if scope.components is None:
            return self
        outside = sorted(c for c in self.components if not scope.allows(c))
        if outside:
            raise Forbidden(f"this token may not read component(s): {', '.join(outside)}")
        if self.components:
            return self
        return replace(self, components=tuple(sorted(scope.components)) or ("",))

    def predicate(self) -> Predicate:
        """The whole filter as one predicate (``TRUE`` when nothing is asked)."""
        parts: list[Predicate] = []
        for column, values in (
            (COMPONENT, self.components),
            (SEVERITY, self.severities),
            (KIND, self.kinds),
            (FIELDS["environment"], self.environments),
            (FIELDS["user"], self.users),
            (HTTP_STATUS, self.http_statuses),
            (HTTP_METHOD, self.http_methods),
        ):
            if values:
                parts.append(on_present(column, OneOf(column, values)))
        if self.since_ms is not None or self.until_ms is not None:
            parts.append(TimeRange(self.since_ms, self.until_ms))
        if self.query is not None:
            parts.append(self.query)
        return AllOf(tuple(parts)) if parts else TRUE
