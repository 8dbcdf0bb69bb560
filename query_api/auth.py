"""Bearer tokens and the components each may read (the shared format of
:mod:`eventpipe.tokens`: ``TOKEN=component,...`` or ``TOKEN=*``, hashed entries allowed,
compared in constant time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from eventpipe.tokens import MissingToken, TokenEntry, UnknownToken, parse_entries
from eventpipe.tokens import TokenTable as _Table
from query_api.errors import Unauthorized
from query_api.filters import Scope
from query_api.settings import ApiSettings

__all__ = ["TokenTable", "parse_entries"]

_EVERYTHING: Final = Scope(None)


class TokenTable:
    """Who may read what. Built once at start-up from the settings."""

    def __init__(
        self,
        entries: Iterable[TokenEntry] = (),
        *,
        allow_anonymous: bool = False,
        table: _Table | None = None,
    ) -> None:
        self._table = (
            table if table is not None else _Table(entries, allow_anonymous=allow_anonymous)
        )

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> TokenTable:
        """Read the token file and the inline tokens. Blocking (reads a file)."""
        return cls(
            table=_Table.load(
                settings.api_tokens_file,
                settings.api_tokens,
                inline_name="EVENTPIPE_API_TOKENS",
                allow_anonymous=settings.api_allow_anonymous,
            )
        )

    def __len__(self) -> int:
        return len(self._table)

    def scope_of(self, token: str | None) -> Scope:
        """The scope of ``token``; :class:`Unauthorized` when missing or unknown."""
        try:
            components = self._table.components_of(token)
        except MissingToken:
            raise Unauthorized("send Authorization: Bearer <token>") from None
        except UnknownToken:
            raise Unauthorized("unknown token") from None
        return _EVERYTHING if components is None else Scope(components)
