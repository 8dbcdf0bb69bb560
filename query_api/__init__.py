"""The read API: FastAPI over ClickHouse, built by :func:`create_app` from :class:`ApiSettings`.

Layout: ``dsl`` (the query language: parse → check), ``predicates`` (the typed filter tree),
``sql`` (predicates → parameterized ClickHouse SQL), ``repository`` (the interface) with
``clickhouse_repository`` and ``memory`` (its in-memory twin), ``params``/``routes``/``app``
(HTTP), ``auth`` (tokens), ``metrics``.
"""

from query_api.app import create_app
from query_api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
