"""Answers that depend on today's date: the phase the plan is in, the next milestones, how long until one.

The plan schedules 2009 only; like the reminders (handlers/plan_schedule.py), "today" is placed in its month/day
schedule projected onto the current year, and every answer says that this is a projection, not the plan's rule. The date comes from the caller
(the chat's injectable clock, the CLI's clock): this module never reads the time itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from knowledge.models import Milestone, PhaseSpec
from knowledge.render import phase_heading

NEXT_MILESTONES = 3
# The plan itself schedules 2009 only: dates in later years are this bot's projection of its month/day schedule (as
# the reminders use it), and must be said to be one, never stated as the plan's own rule.
REUSED = (
    "这些日期是把2009年实施方案（永政办发〔2009〕58号）的月日套到今年推算的；方案本身只安排了2009年，"
    "今年实际的时间表以县整规办公布的为准"
)
# "还有几天", "过了没有", "来得及吗", "离…还有多久": a question about the distance from today to a milestone.
COUNTDOWN = re.compile(
    r"还有几天|还剩几天|还有多久|还剩多久|还有多少天|还剩多少天|几天后|多少天后|过了没|过了吗|过没过|"
    r"到了没|到了吗|来得及|来不来得及|赶得上|离.{1,16}(?:还有|多久|几天|多少天)|距离.{1,16}(?:还有|多久|几天)"
)


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _when(m: Milestone, year: int) -> str:
    return f"{year}年底" if m.year_end else f"{year}年{m.month}月{m.day}日"


def _distance(m: Milestone, today: date) -> str:
    """ "还有N天" for this year's date of the milestone, or how long ago it passed and when it comes next."""
    due = m.due(today.year)
    days = (due - today).days
    if days > 0:
        return f"{_when(m, today.year)}，还有{days}天"
    if days == 0:
        return f"{_when(m, today.year)}，就是今天"
    following = m.due(today.year + 1)
    return (
        f"按方案的月日推算，今年的这个节点（{_when(m, today.year)}）已过去{-days}天；如果县里明年沿用同样的安排，是"
        f"{_when(m, today.year + 1)}，还有{(following - today).days}天"
    )


def phase_of(phases: Sequence[PhaseSpec], month: int) -> PhaseSpec | None:
    return next((p for p in phases if p.start_month <= month <= p.end_month), None)


def upcoming(milestones: Sequence[Milestone], today: date, count: int = NEXT_MILESTONES) -> list[tuple[Milestone, int]]:
    """The next milestones from today on (into next year when this year's are done), with their years."""
    dated = sorted(
        ((m.due(year), m, year) for year in (today.year, today.year + 1) for m in milestones),
        key=lambda t: (t[0], t[1].number),
    )
    return [(m, year) for due, m, year in dated if due >= today][:count]


def today_answer(phases: Sequence[PhaseSpec], milestones: Sequence[Milestone], today: date) -> str:
    # The caveat comes first: an answer that opened with "现在处于第三阶段" read as a fact about this year, whatever the
    # note at its end said.
    lines = [
        f"今天是{cn_date(today)}。实施方案（永政办发〔2009〕58号）只安排了2009年；下面是把它的月日套到今年的推算，今年实际的时间表以县整规办公布的为准。"
    ]
    phase = phase_of(phases, today.month)
    if phase is not None:
        lines.append(f"按方案的月日，现在相当于{phase_heading(phase)}：{phase.summary}")
    else:
        first = min(phases, key=lambda p: p.start_month) if phases else None
        lines.append(
            "按方案的月日，现在不在三个阶段之内"
            + (f"（{phase_heading(first)}从{first.start_month}月开始）。" if first else "。")
        )
    lines.append("推算的接下来的时间节点：")
    for m, year in upcoming(milestones, today):
        days = (m.due(year) - today).days
        left = "就是今天" if days == 0 else f"还有{days}天"
        lines.append(f"- {_when(m, year)}前：{m.title}（{'、'.join(m.responsible)}），{left}")
    return "\n".join(lines)


def countdown_note(milestones: Sequence[Milestone], today: date) -> str:
    """The distance from today to each of the milestones an answer is about."""
    parts = [f"{m.title}：{_distance(m, today)}" for m in milestones]
    return f"\n今天是{cn_date(today)}。" + "；".join(parts) + "。（" + REUSED + "。）"


def asks_countdown(question: str) -> bool:
    return COUNTDOWN.search(question) is not None
