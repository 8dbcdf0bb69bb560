from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import SecretStr

from eventpipe.tokens import hashed_form
from query_api.auth import TokenTable, parse_entries
from query_api.errors import Unauthorized
from query_api.filters import Scope
from query_api.settings import ApiSettings
from tests.unit.query_api.helpers import Client, event


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


@pytest.mark.parametrize("token", ["pässwort", "tökén-ü", "密码", "tab\there"])
def test_a_token_http_cannot_carry_is_refused_at_load_naming_its_entry(
    tmp_path: Path, token: str
) -> None:
    # HTTP hands the API header bytes decoded as Latin-1, the file is read as UTF-8:
    # such a token used to load fine and then never match.
    path = tmp_path / "tokens"
    path.write_text(f"ops = *\n{token} = payments\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokens entry 2: a token must be printable ASCII"):
        TokenTable.from_settings(ApiSettings(api_tokens_file=path))
    with pytest.raises(ValueError, match="printable ASCII"):
        hashed_form(token)


async def test_non_ascii_bytes_presented_are_an_unknown_token(client: Client) -> None:
    async with client([event()]) as http:
        for raw in ("pässwort".encode(), "pässwort".encode("latin-1")):  # UTF-8, Latin-1
            response = await http.get("/v1/events", headers={"Authorization": b"Bearer " + raw})
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "unauthorized"
