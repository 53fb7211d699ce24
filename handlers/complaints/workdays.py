"""Working days: weekends and public holidays off, 调休 weekend days on; the holidays are data (holidays.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from knowledge.yaml_text import parse_yaml

DEFAULT_HOLIDAYS = Path(__file__).resolve().parent.parent / "data" / "holidays.yaml"
MAX_WORKDAYS = 365  # a handling time longer than a year is a data mistake, not a deadline


class HolidayDataError(ValueError):
    pass


@dataclass(frozen=True)
class WorkCalendar:
    off: frozenset[date] = frozenset()
    work: frozenset[date] = frozenset()  # weekend days that are working days (调休上班)
    years: frozenset[int] = frozenset()  # years the data covers; others count Monday–Friday only

    def is_workday(self, day: date) -> bool:
        if day in self.work:
            return True
        if day in self.off:
            return False
        return day.weekday() < 5

    def add_workdays(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself not counted): the last day to finish."""
        if not 0 <= days <= MAX_WORKDAYS:
            raise ValueError(f"working days out of range: {days}")
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day


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
