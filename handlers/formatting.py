"""Dates and numbers written the way Chinese officials write them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = "一二三四五六日"
DIGITS = "〇一二三四五六七八九"


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


def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十: section numbers as in 一、二、三 (1 to 99)."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    return (DIGITS[tens] if tens > 1 else "") + ("十" if tens else "") + (DIGITS[ones] if ones else "")


def cn_number(value: int | float) -> str:
    """Thousands separated, as in 12,345; decimals kept to two places."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def cn_duration(value: timedelta) -> str:
    """7天, 2小时, 30分钟: the largest whole unit, as a time limit is announced."""
    minutes = int(value.total_seconds() // 60)
    if minutes >= 24 * 60 and minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}天"
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def cn_percent(part: int, whole: int) -> str:
    """80.0%; a share of nothing is shown as —, not as a division error."""
    if whole == 0:
        return "—"
    return f"{part * 100 / whole:.1f}%"
