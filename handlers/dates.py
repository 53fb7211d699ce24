"""Dates the way people type them in chat: 2026-12-01, 12月1日, 下周一, 7天后, 月底 …"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}


def _number(text: str) -> int | None:
    """Arabic or Chinese numerals up to 99 (十, 十五, 二十, 二十八)."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    value = (DIGITS.get(tens, 0) if tens else 1) * 10 + (DIGITS.get(ones, 0) if ones else 0)
    return value


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


NUM = r"([0-9]+|[零〇一二两三四五六七八九十]+)"


def parse_date(text: str, today: date) -> date | None:
    """The date meant by `text`, relative to `today`; None when it is not a date we understand."""
    raw = re.sub(r"\s+", "", text.strip()).replace("号", "日").rstrip("前").rstrip("之")
    raw = raw.translate(str.maketrans("０１２３４５６７８９／－．", "0123456789/-."))
    if not raw or len(raw) > 20:
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
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", raw)
    if match:
        return _safe_date(int(match[1]), int(match[2]), int(match[3]))
    match = re.fullmatch(rf"{NUM}月{NUM}日?", raw) or re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})", raw)
    if match:
        month, day = _number(match[1]), _number(match[2])
        if month is None or day is None:
            return None
        found = _safe_date(today.year, month, day)
        if found is not None and found < today:
            found = _safe_date(today.year + 1, month, day)
        return found
    match = re.fullmatch(rf"{NUM}(个)?(天|日|周|星期|个月|月)(以)?后", raw)
    if match:
        amount = _number(match[1])
        unit = match[3]
        if amount is None:
            return None
        if unit in ("天", "日"):
            return today + timedelta(days=amount)
        if unit in ("周", "星期"):
            return today + timedelta(weeks=amount)
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


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
