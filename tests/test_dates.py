"""Deadlines typed the way cadres type them."""

from datetime import date

import pytest

from handlers.dates import parse_date

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01", date(2026, 12, 1)),
    ("2026/12/1", date(2026, 12, 1)),
    ("2026年12月1日", date(2026, 12, 1)),
    ("２０２６－１２－０１", date(2026, 12, 1)),
    ("12月1日", date(2026, 12, 1)),
    ("12月1号", date(2026, 12, 1)),
    ("十二月一日", date(2026, 12, 1)),
    ("1月5日", date(2027, 1, 5)),  # already past this year: next year
    ("下周一", date(2026, 11, 30)),
    ("下星期五", date(2026, 12, 4)),
    ("本周五", date(2026, 11, 27)),
    ("周一", date(2026, 11, 30)),
    ("7天后", date(2026, 12, 2)),
    ("七天后", date(2026, 12, 2)),
    ("十五天以后", date(2026, 12, 10)),
    ("两周后", date(2026, 12, 9)),
    ("1个月后", date(2026, 12, 25)),
    ("月底", date(2026, 11, 30)),
    ("下月底", date(2026, 12, 31)),
    ("年底", date(2026, 12, 31)),
    ("明天", date(2026, 11, 26)),
    (" 12 月 10 日 ", date(2026, 12, 10)),
])
def test_understood(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "随便", "2026-13-01", "2月30日", "下周八", "x" * 100, "12345", "三百天后"])
def test_not_understood(text):
    assert parse_date(text, TODAY) is None
