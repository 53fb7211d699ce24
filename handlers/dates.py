"""Dates the way people type them in chat: 2026-12-01, 12月1日, 下周一, 7天后, 月底 …

`parse_date` answers None for text that is not a date at all, and raises `DateProblem` for text that clearly
means a date which cannot be used (13月, 2月30日, 9999999天后): the person then learns what is wrong with it
rather than being told the bot did not understand. No input makes it raise anything else; the handler relies on
that, since any other exception would reach the person as the generic apology.
"""

from __future__ import annotations

import calendar
import re
from datetime import MAXYEAR, MINYEAR, date, timedelta
from enum import StrEnum

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
# Longer text is not a date we understand. Also keeps int() far from its 4,300-digit limit.
MAX_LENGTH = 20
# A month and day without a year that fell this many days ago or fewer is most likely a slip (or a date
# carried over from a form), not next year's: it is reported as passed rather than moved a year on.
RECENTLY_PASSED_DAYS = 30


class Problem(StrEnum):
    TOO_FAR = "too_far"  # later than any date there is (9999999天后, year 10000)
    TOO_EARLY = "too_early"  # earlier than any date there is (year 0)
    NO_MONTH = "no_month"  # 0月, 13月
    NO_DAY = "no_day"  # 2月30日, 4月31日, 0日; 2月29日 in a year without one
    PASSED = "passed"  # 12月1日 typed on 12月2日: this year's has just passed (`passed`: that date)


class DateProblem(ValueError):
    """Text that reads as a date, but not one that exists or can be meant. For NO_DAY `year` is set only when
    the problem depends on it (29 February)."""

    def __init__(
        self,
        problem: Problem,
        *,
        year: int | None = None,
        month: int | None = None,
        day: int | None = None,
        passed: date | None = None,
    ) -> None:
        super().__init__(problem.value)
        self.problem, self.year, self.month, self.day, self.passed = problem, year, month, day, passed


def _number(text: str) -> int | None:
    """Arabic numerals, or Chinese ones up to 99 (十, 十五, 二十, 二十八); None for anything else (九九十)."""
    if text.isascii() and text.isdigit():
        return int(text)
    if len(text) == 1:
        return DIGITS.get(text, 10 if text == "十" else None)
    tens, ten, ones = text.partition("十")
    if not ten or len(tens) > 1 or len(ones) > 1:
        return None
    tens_value = DIGITS.get(tens) if tens else 1
    ones_value = DIGITS.get(ones) if ones else 0
    if not tens_value or ones_value is None:  # 零十 and 十X with X not a digit
        return None
    return tens_value * 10 + ones_value


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > MAXYEAR:
        raise DateProblem(Problem.TOO_FAR)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _add_days(day: date, days: int) -> date:
    if days > (date.max - day).days:
        raise DateProblem(Problem.TOO_FAR)
    return day + timedelta(days=days)


NUM = r"([0-9]+|[零〇一二两三四五六七八九十]+)"


def parse_date(text: str, today: date) -> date | None:
    """The date meant by `text`, relative to `today`; None when it is not a date we understand.

    Raises DateProblem when it is a date that does not exist."""
    raw = re.sub(r"\s+", "", text.strip()).replace("号", "日").rstrip("前").rstrip("之")
    raw = raw.translate(str.maketrans("０１２３４５６７８９／－．", "0123456789/-."))
    if not raw or len(raw) > MAX_LENGTH:
        return None
    words = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
    if raw in words:
        return today + timedelta(days=words[raw])
    if raw in ("月底", "本月底", "这个月底", "月末"):
        return _month_end(today.year, today.month)
    if raw in ("下月底", "下个月底", "下月末"):
        following = _add_months(today.replace(day=1), 1)
        return _month_end(following.year, following.month)
    if raw in ("年底", "年末", "今年底"):
        return date(today.year, 12, 31)
    # [0-9], not \d: \d also matches other scripts' digits, which the rest of the bot never shows.
    match = re.fullmatch(r"([0-9]{4,})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?", raw)
    if match:
        return _existing_date(int(match[1]), int(match[2]), int(match[3]))
    match = re.fullmatch(rf"{NUM}月{NUM}日?", raw) or re.fullmatch(r"([0-9]{1,2})[-/.]([0-9]{1,2})", raw)
    if match:
        month, day = _number(match[1]), _number(match[2])
        if month is None or day is None:
            return None
        return _next_month_day(month, day, today)
    match = re.fullmatch(rf"{NUM}(个)?(天|日|周|星期|个月|月)(以)?后", raw)
    if match:
        amount = _number(match[1])
        unit = match[3]
        if amount is None:
            return None
        if unit in ("天", "日"):
            return _add_days(today, amount)
        if unit in ("周", "星期"):
            return _add_days(today, amount * 7)
        return _add_months(today, amount)
    match = re.fullmatch(r"(下下|下|本|这)?(个)?(周|星期|礼拜)([一二三四五六日天末])", raw)
    if match:
        target = WEEKDAY[match[4]]
        monday = today - timedelta(days=today.weekday())
        weeks = {"下下": 2, "下": 1, "本": 0, "这": 0}.get(match[1] or "", None)
        if weeks is None:  # a bare 周三: the next one to come
            ahead = (target - today.weekday()) % 7
            return today + timedelta(days=ahead or 7)
        return monday + timedelta(weeks=weeks, days=target)
    return None


def _check_month_day(month: int, day: int) -> None:
    """Raise unless some year has this month and day (2000 is a leap year: 2月29日 passes here)."""
    if not 1 <= month <= 12:
        raise DateProblem(Problem.NO_MONTH, month=month)
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise DateProblem(Problem.NO_DAY, month=month, day=day)


def _existing_date(year: int, month: int, day: int) -> date:
    if year > MAXYEAR:
        raise DateProblem(Problem.TOO_FAR)
    if year < MINYEAR:
        raise DateProblem(Problem.TOO_EARLY)
    _check_month_day(month, day)
    if day > calendar.monthrange(year, month)[1]:  # 2月29日 outside a leap year
        raise DateProblem(Problem.NO_DAY, year=year, month=month, day=day)
    return date(year, month, day)


def _next_month_day(month: int, day: int, today: date) -> date:
    """A month and day without a year: the next one to come, unless the last one passed at most
    RECENTLY_PASSED_DAYS ago (12月1日 on 12月2日, also 12月25日 on 1月10日)."""
    _check_month_day(month, day)
    not_yet = (month, day) >= (today.month, today.day)
    last_year = today.year - 1 if not_yet else today.year
    if day <= calendar.monthrange(last_year, month)[1]:  # 2月29日 has no last one in most years
        last = date(last_year, month, day)
        if (today - last).days <= RECENTLY_PASSED_DAYS:
            raise DateProblem(Problem.PASSED, passed=last)
    return _existing_date(today.year if not_yet else today.year + 1, month, day)
