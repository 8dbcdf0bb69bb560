"""SQL for the read API: compiled predicates and the statements built on them. Pure."""

from query_api.sql.where import Binder, compile_where

__all__ = ["Binder", "compile_where"]
