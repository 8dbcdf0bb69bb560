from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import SecretStr

from query_api.auth import TokenTable, parse_entries
from query_api.errors import Unauthorized
from query_api.filters import Scope
from query_api.settings import ApiSettings


def test_file_and_inline_tokens_with_hashed_entries(tmp_path: Path) -> None:
    hashed = hashlib.sha256(b"s3cret").hexdigest()
    path = tmp_path / "tokens"
    path.write_text(f"# readers\nops-token = *\n\nsha256:{hashed} = payments, orders  # team\n")
    settings = ApiSettings(api_tokens_file=path, api_tokens=SecretStr("inline=search;x=auth"))
    table = TokenTable.from_settings(settings)
    assert len(table) == 4
    assert table.scope_of("ops-token") == Scope(None)
    assert table.scope_of("s3cret") == Scope(frozenset({"payments", "orders"}))
    assert table.scope_of("inline") == Scope(frozenset({"search"}))
    with pytest.raises(Unauthorized):
        table.scope_of(f"sha256:{hashed}")  # the hash itself is not a token


def test_missing_and_unknown_tokens() -> None:
    table = TokenTable(parse_entries(["a=*"], "t"))
    for token in (None, "", "b", "a "):
        with pytest.raises(Unauthorized):
            table.scope_of(token)
    assert TokenTable([], allow_anonymous=True).scope_of(None) == Scope(None)


@pytest.mark.parametrize("line", ["token", "=payments", "t=", "t=Bad Name", "t=a,,b;"])
def test_bad_entries_name_the_line(line: str) -> None:
    with pytest.raises(ValueError, match="entry 1"):
        parse_entries([line], "tokens")
