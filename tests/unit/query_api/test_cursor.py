from __future__ import annotations

import base64

import pytest

from query_api.cursor import Key, decode_cursor, encode_cursor
from query_api.errors import InvalidCursor

KEY = Key(1_700_000_000_123, "1f4e804b-ebec-44f5-b2ac-48f54cf62c46")


def test_round_trip_and_url_safety() -> None:
    text = encode_cursor(KEY)
    assert decode_cursor(text) == KEY
    assert all(c.isalnum() or c in "-_" for c in text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage!",
        base64.urlsafe_b64encode(b'[2, 1, "1f4e804b-ebec-44f5-b2ac-48f54cf62c46"]').decode(),
        base64.urlsafe_b64encode(b'[1, "1", "1f4e804b-ebec-44f5-b2ac-48f54cf62c46"]').decode(),
        base64.urlsafe_b64encode(b'[1, 1, "x\' OR 1=1 --"]').decode(),
        base64.urlsafe_b64encode(b"{}").decode(),
        # well-formed JSON whose event id is not text (was a 500)
        base64.urlsafe_b64encode(b"[1, 1, 7]").decode(),
        base64.urlsafe_b64encode(b'[1, 1, ["1f4e804b-ebec-44f5-b2ac-48f54cf62c46"]]').decode(),
        base64.urlsafe_b64encode(b'[1, 1, {"a": 1}]').decode(),
        base64.urlsafe_b64encode(b"[1, 1, true]").decode(),
    ],
)
def test_foreign_cursors_are_refused(text: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(text)
