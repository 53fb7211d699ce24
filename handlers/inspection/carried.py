"""Re-inspection from the last report (复查): a unit with open items is inspected starting from its last report.
The items that report failed are asked first; its other answers are carried over unchecked (沿用上次, with the day
each was last checked), and before the photos the cadre sees them listed and may check any of them again, one by
one. The submitted report records which answers were carried over (Inspection.carried_over)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from handlers.context import Turn
from handlers.flow import Option, Prompt, Step
from handlers.inspection.answers import InspectionAnswers
from handlers.inspection.checklist_steps import MARK_WORDS, applicable, first_pending, item_number
from storage import owners
from storage.inspection_models import Answer, Inspection, Unit, UnitStatus

KEEP = "keep"
OPEN_STATUSES = (UnitStatus.RECTIFYING,)


@dataclass(frozen=True)
class Prefill:
    """What a re-inspection starts from: empty for a unit with nothing open."""

    answers: dict[str, str] = field(default_factory=dict)  # the carried answers
    carried: dict[str, date] = field(default_factory=dict)
    first: tuple[str, ...] = ()  # the items the last report failed
    last_on: date | None = None
    first_item: str | None = None


def prefill_from(turn: Turn, unit: Unit, report: Inspection) -> Prefill:
    """The last report's answers under today's ids: its failed items to ask first, the rest carried over with the
    day they were last checked (an answer that report had itself carried keeps its older day)."""
    checklist = turn.knowledge.checklists.get(report.industry) if turn.knowledge else None
    if checklist is None or report.industry != unit.industry:
        return Prefill()
    answers, _ = checklist.carried_over(dict(report.answers), {})
    last_on = report.submitted_at.astimezone(turn.clock.tz).date()
    earlier = report.carried_over or {}
    known = {item.id for item in checklist.items}
    first = tuple(item_id for item_id, value in answers.items() if value == Answer.FAIL and item_id in known)
    kept = {item_id: value for item_id, value in answers.items() if value != Answer.FAIL and item_id in known}
    carried = {item_id: _day(earlier.get(item_id)) or last_on for item_id in kept}
    if not first:
        return Prefill()
    return Prefill(kept, carried, first, last_on, first_pending(checklist, kept, list(first)))


def carried_days(stored: dict[str, str] | None, answers: dict[str, str]) -> dict[str, date]:
    """A stored report's carried answers (still among `answers`), as days."""
    days = {item_id: _day(text) for item_id, text in (stored or {}).items() if item_id in answers}
    return {item_id: day for item_id, day in days.items() if day is not None}


def stored_carried_lines(turn: Turn, inspection: Inspection) -> list[str]:
    """The review screen's line on a stored report's carried answers (none: no line)."""
    carried = inspection.carried_over or {}
    if not carried:
        return []
    days = "、".join(sorted(set(carried.values())))
    return [turn.texts("reinsp_summary", n=len(carried), date=days)]


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def prefill(turn: Turn, unit: Unit) -> Prefill:
    """A unit being put right (整改中) whose last counting report failed items is re-inspected from that report."""
    if unit.status not in OPEN_STATUSES:
        return Prefill()
    report = await owners.latest_report(turn.session, unit.id)
    if report is None:
        return Prefill()
    return prefill_from(turn, unit, report)


async def _carried_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    items = [item for item in applicable(turn, answers) if item.id in answers.carried]
    options = tuple(
        Option(
            item.id,
            f"{item_number(turn, answers, item)}. {MARK_WORDS.get(answers.answers.get(item.id, ''), '?')} "
            f"{item.text[:14]}（{answers.carried[item.id].isoformat()}）",
        )
        for item in items
    )
    text = turn.texts("reinsp_carried", unit=answers.unit_name, n=len(items))
    return Prompt(text, (Option(KEEP, turn.texts("reinsp_keep", n=len(items))), *options), columns=1)


def _store_carried(answers: InspectionAnswers, value: str) -> None:
    answers.carried_pick = value
    if value == KEEP:
        answers.carried_seen = True
    else:  # asked again now; its carried answer stays until the new one is given
        answers.cursor = value


def _after_carried(answers: InspectionAnswers) -> str:
    if answers.carried_pick == KEEP:
        return answers.return_to or "photo"
    return "item"


def carried_summary(turn: Turn, answers: InspectionAnswers) -> str:
    """The summary's line on carried answers (empty when none)."""
    kept = [item.id for item in applicable(turn, answers) if item.id in answers.carried]
    if not kept:
        return ""
    days = sorted({answers.carried[item_id] for item_id in kept})
    return turn.texts("reinsp_summary", n=len(kept), date="、".join(day.isoformat() for day in days))


def carried_record(turn: Turn, answers: InspectionAnswers, answered: dict[str, str]) -> dict[str, str]:
    """What the stored report says was carried over: item id -> the day it was last checked."""
    return {item_id: day.isoformat() for item_id, day in answers.carried.items() if item_id in answered}


CARRIED_STEPS = (Step("carried", _carried_prompt, store=_store_carried, next=_after_carried),)
