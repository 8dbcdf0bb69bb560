from __future__ import annotations

import pytest

from query_api.timeparse import Span, format_ms, parse_time

JAN_1_2018 = 1_514_764_800_000
YEAR_1 = -62_135_596_800_000
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2018-1-1", Span(JAN_1_2018, JAN_1_2018 + 86_400_000, True)),
        ("2018-01-01", Span(JAN_1_2018, JAN_1_2018 + 86_400_000, True)),
        ("2018-01-01T00:00", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2018-01-01 00:00:01.5", Span(JAN_1_2018 + 1500, JAN_1_2018 + 1501, False)),
        ("2018-01-01T02:00:00+02:00", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2017-12-31T23:00:00-0100", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        # "+02:00" unencoded in a URL: the + arrives as a space
        ("2018-01-01T02:00:00 02:00", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2018-01-01 02:30 0230", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2018-01-01T00:00:00.123456789Z", Span(JAN_1_2018 + 123, JAN_1_2018 + 124, False)),
        ("1514764800000", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("0001-01-01", Span(YEAR_1, YEAR_1 + 86_400_000, True)),
        ("253402300799999", Span(LAST_MS, LAST_MS + 1, False)),
        (
            "2018-01-01T00:00:00+23:59",
            Span(JAN_1_2018 - 86_340_000, JAN_1_2018 - 86_339_999, False),
        ),
    ],
)
def test_accepted_forms(text: str, span: Span) -> None:
    assert parse_time(text) == span


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "2018-02-30",
        "2018-1-1T25:00",
        "2018-1-1Z",
        "1" * 16,
        "2018-1-1T10:00+99:00",
        # not ASCII digits: int() refused some (an unreadable message), took others
        "\u00b2",
        "\u0661\u0665\u0661\u0664",
        "\u0662\u0660\u0661\u0668-1-1",
        # offset minutes past 59 were read as more hours
        "2018-01-01T10:00+00:99",
        # after 9999-12-31: no RFC 3339 form to answer with
        "253402300800000",
        "999999999999999",
    ],
)
def test_refused_forms(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text)


def test_format_ms() -> None:
    assert format_ms(JAN_1_2018 + 7) == "2018-01-01T00:00:00.007Z"


def test_format_ms_writes_four_digit_years_at_the_extremes() -> None:
    assert format_ms(YEAR_1) == "0001-01-01T00:00:00.000Z"
    assert format_ms(YEAR_1 + 999 * 365 * 86_400_000) == "0999-05-04T00:00:00.000Z"
    assert format_ms(LAST_MS) == "9999-12-31T23:59:59.999Z"
    assert format_ms(-1) == "1969-12-31T23:59:59.999Z"
