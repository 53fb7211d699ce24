"""Deadlines typed the way cadres type them."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dates import DateProblem, Problem, parse_date

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
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
    ],
)
def test_understood(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "随便",
        "下周八",
        "x" * 100,
        "12345",
        "三百天后",
        "九九十天后",
        "十十月一日",
        "9" * 5000,
        "9" * 5000 + "天后",
        "٢٠٢٦-١٢-٠١",
    ],
)
def test_not_understood(text):
    assert parse_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "problem", "year", "month", "day"),
    [
        ("9999999天后", Problem.TOO_FAR, None, None, None),
        ("9999999999999天后", Problem.TOO_FAR, None, None, None),  # past timedelta's own limit
        ("9999999周后", Problem.TOO_FAR, None, None, None),
        ("99999999999个月后", Problem.TOO_FAR, None, None, None),
        ("10000-01-01", Problem.TOO_FAR, None, None, None),
        ("99999年1月1日", Problem.TOO_FAR, None, None, None),
        ("0000-01-01", Problem.TOO_EARLY, None, None, None),
        ("2026-13-01", Problem.NO_MONTH, None, 13, None),
        ("2026-00-10", Problem.NO_MONTH, None, 0, None),
        ("13月1日", Problem.NO_MONTH, None, 13, None),
        ("0月5日", Problem.NO_MONTH, None, 0, None),
        ("十三月一日", Problem.NO_MONTH, None, 13, None),
        ("１３月１日", Problem.NO_MONTH, None, 13, None),
        ("99999999999999999月1日", Problem.NO_MONTH, None, 99999999999999999, None),
        ("2月30日", Problem.NO_DAY, None, 2, 30),
        ("4月31日", Problem.NO_DAY, None, 4, 31),
        ("12月0日", Problem.NO_DAY, None, 12, 0),
        ("２月３０日", Problem.NO_DAY, None, 2, 30),
        ("2026-12-32", Problem.NO_DAY, None, 12, 32),
        ("2026-02-29", Problem.NO_DAY, 2026, 2, 29),
        ("2月29日", Problem.NO_DAY, 2027, 2, 29),  # 2026's has passed, 2027 has none
    ],
)
def test_dates_that_do_not_exist_say_why(text, problem, year, month, day):
    with pytest.raises(DateProblem) as raised:
        parse_date(text, TODAY)
    assert (raised.value.problem, raised.value.year, raised.value.month, raised.value.day) == (
        problem,
        year,
        month,
        day,
    )


@pytest.mark.parametrize(
    ("text", "today", "passed"),
    [
        ("12月1日", date(2026, 12, 2), date(2026, 12, 1)),
        ("十二月一日", date(2026, 12, 2), date(2026, 12, 1)),
        ("12/1", date(2026, 12, 2), date(2026, 12, 1)),
        ("11月2日", date(2026, 12, 2), date(2026, 11, 2)),  # 30 days ago
        ("12月25日", date(2027, 1, 10), date(2026, 12, 25)),  # last year's
        ("2月29日", date(2028, 3, 10), date(2028, 2, 29)),
    ],
)
def test_a_month_and_day_just_passed_is_reported_not_moved_a_year_on(text, today, passed):
    with pytest.raises(DateProblem) as raised:
        parse_date(text, today)
    assert (raised.value.problem, raised.value.passed) == (Problem.PASSED, passed)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("11月1日", date(2026, 12, 2), date(2027, 11, 1)),  # 31 days ago: next year's
        ("12月2日", date(2026, 12, 2), date(2026, 12, 2)),  # today (the deadline step refuses it as not after today)
        ("12月3日", date(2026, 12, 2), date(2026, 12, 3)),
        ("1月5日", date(2026, 12, 2), date(2027, 1, 5)),
        ("2月29日", date(2027, 3, 5), date(2028, 2, 29)),  # 2027 had none to pass
    ],
)
def test_a_month_and_day_otherwise_means_the_next_one(text, today, expected):
    assert parse_date(text, today) == expected


def test_the_29th_of_february_in_a_leap_year():
    assert parse_date("2028-02-29", TODAY) == date(2028, 2, 29)
    assert parse_date("2月29日", date(2027, 12, 1)) == date(2028, 2, 29)


NUMBERS = st.integers(0, 10**20).map(str)
# Date-shaped text with any numbers in it (the overflows and impossible dates live there), and any text at all.
DATE_LIKE = st.one_of(
    st.builds("{}{}后".format, NUMBERS, st.sampled_from(["天", "日", "周", "星期", "个月", "月", "天以"])),
    st.builds("{}-{}-{}".format, NUMBERS, NUMBERS, NUMBERS),
    st.builds("{}年{}月{}日".format, NUMBERS, NUMBERS, NUMBERS),
    st.builds("{}月{}日".format, NUMBERS, NUMBERS),
    st.builds("{}/{}".format, NUMBERS, NUMBERS),
    st.text(
        alphabet="0123456789０１２３４５６７８９零〇一二两三四五六七八九十年月日号天周个星期后以下本这-/.", max_size=24
    ),
    st.text(max_size=24),
)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, database=None)
@given(text=DATE_LIKE, today=st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_any_text_is_a_date_none_or_a_date_problem(text, today):
    """Nothing else may escape: the deadline step would answer with the generic apology."""
    try:
        parse_date(text, today)
    except DateProblem:
        pass
