"""Complaint time limits on the State Council's holiday schedule (chinese-calendar), holidays.yaml as an override,
and a year without a schedule: Monday–Friday, said in every time limit, the county told once (chat and log)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.complaints.categories import default_config
from handlers.complaints.workdays import WorkCalendar, load_calendar, official_covers
from storage.clock import SHANGHAI
from storage.models import Role
from tests.chat_driver import Person, register
from tests.complaints_support import complaint, file_complaint, notices_to

CALENDAR = default_config().calendar
# The first year the installed chinese-calendar has no schedule for (2027 with 1.11); it raises for it.
UNCOVERED = max(chinese_calendar.holidays).year + 1

# 调休: weekend days that are working days, from the State Council's notices for 2025 and 2026.
MAKE_UP_DAYS = [
    date(2025, 1, 26),
    date(2025, 2, 8),
    date(2025, 4, 27),
    date(2025, 9, 28),
    date(2025, 10, 11),
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]
# Weekdays off: 春节, 劳动节, 端午 (in lieu), 国庆 of 2025; 春节 and 国庆 of 2026.
WEEKDAYS_OFF = [
    date(2025, 1, 28),
    date(2025, 2, 4),
    date(2025, 5, 5),
    date(2025, 6, 2),
    date(2025, 10, 8),
    date(2026, 2, 16),
    date(2026, 2, 23),
    date(2026, 10, 7),
]


@pytest.mark.parametrize("day", MAKE_UP_DAYS, ids=str)
def test_make_up_weekend_days_are_working_days(day: date):
    assert day.weekday() >= 5 and CALENDAR.is_workday(day)


@pytest.mark.parametrize("day", WEEKDAYS_OFF, ids=str)
def test_public_holidays_on_weekdays_are_not(day: date):
    assert day.weekday() < 5 and not CALENDAR.is_workday(day)


def _workdays_between(start: date, end: date) -> int:
    return sum(CALENDAR.is_workday(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))


@settings(max_examples=150, deadline=None)
@given(start=st.dates(date(2025, 1, 1), date(2026, 10, 31)), days=st.integers(1, 30))
def test_a_time_limit_counts_exactly_its_working_days(start: date, days: int):
    deadline = CALENDAR.deadline(start, days)
    assert deadline.fallback_years == ()  # 2025 and 2026 are both in the official schedule
    assert CALENDAR.is_workday(deadline.due)
    assert _workdays_between(start, deadline.due) == days
    # a make-up Saturday or Sunday on the way is counted, a weekday holiday is not
    crossed = [day for day in MAKE_UP_DAYS if start < day <= deadline.due]
    weekdays = sum((start + timedelta(days=n)).weekday() < 5 for n in range(1, (deadline.due - start).days + 1))
    off = [day for day in WEEKDAYS_OFF if start < day <= deadline.due]
    assert weekdays - len(off) + len(crossed) >= days


def test_the_installed_calendar_covers_2026_and_raises_for_a_year_it_lacks():
    assert official_covers(2025) and official_covers(2026) and not official_covers(UNCOVERED)
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Saturday before 春节
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(UNCOVERED, 1, 4))


def test_holidays_yaml_overrides_and_can_add_a_year(tmp_path: Path):
    path = tmp_path / "holidays.yaml"
    path.write_text(
        f"2026:\n  holidays:\n    - {{name: 县庆, from: 2026-03-02, to: 2026-03-02}}\n"
        f"{UNCOVERED}:\n  holidays:\n    - {{name: 元旦, from: {UNCOVERED}-01-01, to: {UNCOVERED}-01-03}}\n"
        f"  workdays: [{UNCOVERED}-01-09]\n",
        encoding="utf-8",
    )
    calendar = load_calendar(path)
    assert not calendar.is_workday(date(2026, 3, 2))  # a local day off on a Monday
    assert calendar.is_workday(date(2026, 2, 14))  # the official schedule still counts elsewhere in 2026
    assert calendar.covers(UNCOVERED) and calendar.deadline(date(UNCOVERED - 1, 12, 31), 1).fallback_years == ()
    if date(UNCOVERED, 1, 9).weekday() >= 5:
        assert calendar.is_workday(date(UNCOVERED, 1, 9))
    # The shipped file overrides nothing: only comments.
    assert load_calendar() == WorkCalendar()


def test_an_uncovered_year_counts_monday_to_friday_and_says_which():
    start = date(UNCOVERED, 1, 4)
    deadline = CALENDAR.deadline(start, 5)
    assert deadline.fallback_years == (UNCOVERED,)
    assert deadline.due == WorkCalendar(official=False).add_workdays(start, 5)


async def test_the_county_is_told_once_and_every_time_limit_says_it(core, db, clock, caplog):
    caplog.set_level(logging.WARNING, logger="handlers.complaints.deadlines")
    county = await register(core, db, clock, 2101, Role.COUNTY, None, "孙主任")
    township = await register(core, db, clock, 2102, Role.TOWNSHIP, "岩头镇", "赵乡长")
    clock.set(datetime(UNCOVERED, 3, 2, 9, 0, tzinfo=SHANGHAI))
    person = Person(core, 2103)
    await person.command("start")
    number = await file_complaint(person, unit=None)
    assert "按周一至周五计算" in person.last.text and str(UNCOVERED) in person.last.text
    filed = await complaint(db, number)
    days = default_config().category(filed.category).days
    assert filed.due_on == WorkCalendar(official=False).add_workdays(date(UNCOVERED, 3, 2), days)
    told = await notices_to(db, county.user_id, "节假日安排")
    assert len(told) == 1 and f"{UNCOVERED}年" in told[0]["text"]
    assert "按周一至周五计算" in (await notices_to(db, township.user_id, "新投诉"))[0]["text"]
    await township.command("track", number)
    assert "按周一至周五计算" in township.last.text
    await file_complaint(person, unit=None, category="消防隐患")
    assert "按周一至周五计算" in person.last.text
    assert len(await notices_to(db, county.user_id, "节假日安排")) == 1  # once, not per complaint
    warnings = [r for r in caplog.records if "no official holiday schedule" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


async def test_a_covered_year_says_nothing_extra(core, db, clock):
    county = await register(core, db, clock, 2201, Role.COUNTY, None, "孙主任")
    person = Person(core, 2203)
    await person.command("start")
    await file_complaint(person, unit=None)
    assert "按周一至周五计算" not in person.last.text
    assert await notices_to(db, county.user_id, "节假日安排") == []
