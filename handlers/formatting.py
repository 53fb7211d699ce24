"""Dates and numbers written the way Chinese officials write them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

WEEKDAYS = "一二三四五六日"


def cn_date(value: date | datetime, tz: ZoneInfo | None = None) -> str:
    """2026年12月1日"""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return f"{value.year}年{value.month}月{value.day}日"


def cn_month_day(value: date) -> str:
    """12月1日"""
    return f"{value.month}月{value.day}日"


def cn_datetime(value: datetime, tz: ZoneInfo) -> str:
    """2026年12月1日 08:30"""
    local = value.astimezone(tz)
    return f"{cn_date(local)} {local:%H:%M}"


def cn_weekday(value: date) -> str:
    return f"星期{WEEKDAYS[value.weekday()]}"


def cn_number(value: int | float) -> str:
    """Thousands separated, as in 12,345; decimals kept to two places."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def cn_percent(part: int, whole: int) -> str:
    """80.0%; a share of nothing is shown as —, not as a division error."""
    if whole == 0:
        return "—"
    return f"{part * 100 / whole:.1f}%"
