"""Working days for complaint time limits: the State Council's holiday schedule, with a local override.

The official schedule (public holidays and 调休 make-up working days) comes from the `chinese-calendar` package
(PyPI `chinesecalendar`), which follows each year's 国务院办公厅关于部分节假日安排的通知. `holidays.yaml` only
overrides it: a local rest day, a correction, or a new year written in before the package has it. A year that
neither covers counts Monday–Friday only; `Deadline.fallback_years` says so, and the callers make it visible
(handlers/complaints/deadlines.py) rather than silently counting weekends.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from knowledge.yaml_text import parse_yaml

DEFAULT_HOLIDAYS = Path(__file__).resolve().parent.parent / "data" / "holidays.yaml"
MAX_WORKDAYS = 365  # a handling time longer than a year is a data mistake, not a deadline


class HolidayDataError(ValueError):
    pass


@functools.cache
def official_covers(year: int) -> bool:
    """Whether the installed chinese-calendar has the State Council's schedule for this year (it raises
    NotImplementedError for a year outside its data)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class Deadline:
    due: date
    # Years the count ran through without an official schedule: counted Monday–Friday only.
    fallback_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class WorkCalendar:
    off: frozenset[date] = frozenset()  # local override: days off
    work: frozenset[date] = frozenset()  # local override: weekend days that are working days (调休上班)
    years: frozenset[int] = frozenset()  # years holidays.yaml lists (a year the package lacks counts as covered)
    official: bool = True  # consult the State Council's schedule (tests switch it off to see the fallback alone)

    def covers(self, year: int) -> bool:
        return year in self.years or (self.official and official_covers(year))

    def is_workday(self, day: date) -> bool:
        if day in self.work:
            return True
        if day in self.off:
            return False
        if self.official and official_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def deadline(self, start: date, days: int) -> Deadline:
        """The `days`-th working day after `start` (start itself not counted): the last day to finish."""
        if not 0 <= days <= MAX_WORKDAYS:
            raise ValueError(f"working days out of range: {days}")
        day, left = start, days
        uncovered: set[int] = set()
        while left > 0:
            day += timedelta(days=1)
            if not self.covers(day.year):
                uncovered.add(day.year)
            if self.is_workday(day):
                left -= 1
        return Deadline(day, tuple(sorted(uncovered)))

    def add_workdays(self, start: date, days: int) -> date:
        return self.deadline(start, days).due


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise HolidayDataError(f"{where}: 日期“{value}”格式不对，应写作 2026-10-01") from None


def load_calendar(path: Path = DEFAULT_HOLIDAYS) -> WorkCalendar:
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise HolidayDataError(f"{path}: 无法读取节假日文件：{error}") from error
    except ValueError as error:  # YAML reads 2026-02-30 as a date and fails
        raise HolidayDataError(f"{path}: 文件中有不存在的日期，请检查（{error}）") from error
    if raw is None:  # only comments: no local override
        return WorkCalendar()
    if not isinstance(raw, dict):
        raise HolidayDataError(f"{path}: 顶层应为“年份: 安排”的映射")
    off: set[date] = set()
    work: set[date] = set()
    years: set[int] = set()
    for year_key, plan in raw.items():
        where = f"{path} {year_key}"
        if not isinstance(year_key, int) or not 2000 <= year_key <= 2100:
            raise HolidayDataError(f"{where}: 年份应为四位数字")
        if not isinstance(plan, dict) or set(plan) - {"holidays", "workdays"}:
            raise HolidayDataError(f"{where}: 只能包含 holidays（放假）和 workdays（调休上班）")
        years.add(year_key)
        for index, entry in enumerate(plan.get("holidays") or []):
            entry_where = f"{where} holidays[{index}]"
            if not isinstance(entry, dict) or "from" not in entry or "to" not in entry:
                raise HolidayDataError(f"{entry_where}: 每个假期需要 name、from、to")
            first, last = _date(entry["from"], entry_where), _date(entry["to"], entry_where)
            if last < first or (last - first).days > 31:
                raise HolidayDataError(f"{entry_where}（{entry.get('name', '')}）: 起止日期有误")
            if first.year != year_key and last.year != year_key:
                raise HolidayDataError(f"{entry_where}（{entry.get('name', '')}）: 日期不在 {year_key} 年")
            off.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        for index, value in enumerate(plan.get("workdays") or []):
            day = _date(value, f"{where} workdays[{index}]")
            if day.weekday() < 5:
                raise HolidayDataError(f"{where} workdays[{index}]: {day} 不是周末，调休上班日应为周六或周日")
            work.add(day)
    clash = off & work
    if clash:
        raise HolidayDataError(f"{path}: {min(clash)} 同时被列为放假和上班")
    return WorkCalendar(frozenset(off), frozenset(work), frozenset(years))
