"""The industry checklist, one item at a time: 符合 / 不符合 / 不适用, a note for 不符合, help on request."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.context import Turn
from handlers.events import Inbound
from handlers.flow import Option, Prompt, Step, parse_option, text_parser
from handlers.inspection.answers import InspectionAnswers
from knowledge.models import Checklist, ChecklistItem

PASS, FAIL, NA, YES, NO = "pass", "fail", "na", "yes", "no"
HELP, REST = "help", "rest"
MARK_WORDS = {PASS: "✓ 符合", FAIL: "✗ 不符合", NA: "不适用", YES: "是", NO: "否"}
NOTE_MAX = 200


def checklist(turn: Turn, answers: InspectionAnswers) -> Checklist:
    assert turn.knowledge is not None
    return turn.knowledge.checklists[answers.industry]


def applicable(turn: Turn, answers: InspectionAnswers) -> list[ChecklistItem]:
    return checklist(turn, answers).applicable(answers.answers)


def pending(turn: Turn, answers: InspectionAnswers, given: dict[str, str] | None = None) -> str | None:
    """The first applicable item not answered yet (with `given`, as if those answers were stored too); in a
    re-inspection the items the last report failed come first."""
    return first_pending(checklist(turn, answers), {**answers.answers, **(given or {})}, answers.first)


def first_pending(checklist: Checklist, answered: dict[str, str], first: list[str]) -> str | None:
    items = [item.id for item in checklist.applicable(answered) if item.id not in answered]
    return next((item_id for item_id in items if item_id in first), None) or next(iter(items), None)


def after_answer(answers: InspectionAnswers) -> str:
    """The item asked next, or, all answered, where the report goes on (the summary when correcting); in a
    re-inspection, the answers carried over from the last report are offered to be checked again first."""
    if answers.cursor:
        return "item"
    if answers.carried and not answers.carried_seen:
        return "carried"
    return answers.return_to or "photo"


async def _item_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    assert answers.cursor is not None
    item = checklist(turn, answers).item(answers.cursor)
    text = item_heading(turn, answers, item)
    if item.veto:
        text += turn.texts("insp_item_veto")
    text += carried_line(turn, answers, item.id)
    if answers.help_for == item.id:
        text += "\n\n" + turn.texts("insp_item_help", help=item.help, source=item.source)
    options = (*answer_options(turn, item), Option(HELP, turn.texts("insp_help")))
    if item.kind != "gate" and item.id != applicable(turn, answers)[0].id and not answers.return_to:
        options += (Option(REST, turn.texts("insp_rest_pass")),)
    return Prompt(text, options, columns=3)


def answer_options(turn: Turn, item: ChecklistItem) -> tuple[Option, ...]:
    """The answers an item offers: 是/否 for a gate question, else 符合/不符合/不适用 (an inspection and a 自查 alike)."""
    if item.kind == "gate":
        return (Option(YES, turn.texts("insp_yes")), Option(NO, turn.texts("insp_no")))
    return (
        Option(PASS, turn.texts("insp_pass")),
        Option(FAIL, turn.texts("insp_fail")),
        Option(NA, turn.texts("insp_na")),
    )


def item_heading(turn: Turn, answers: InspectionAnswers, item: ChecklistItem) -> str:
    """【unit】检查第n/N项：and the item — N counts the items asked of every unit, so it never changes mid-way; a screening
    question's follow-ups carry its number (第5/12项（补充1）)."""
    number, follow = checklist(turn, answers).position(item.id)
    key = "insp_item_follow_up" if follow else "insp_item"
    return turn.texts(
        key, unit=answers.unit_name, n=number, total=checklist(turn, answers).total, k=follow, text=item.text
    )


def carried_line(turn: Turn, answers: InspectionAnswers, item_id: str) -> str:
    """A re-inspection's word on the item: failed last time, or the answer carried over and being checked again."""
    if item_id in answers.carried:
        mark = MARK_WORDS.get(answers.answers.get(item_id, ""), "")
        return turn.texts("reinsp_item_carried", date=answers.carried[item_id].isoformat(), answer=mark)
    if item_id in answers.first and answers.last_on is not None and item_id not in answers.answers:
        return turn.texts("reinsp_item_failed", date=answers.last_on.isoformat(), n=len(answers.first))
    return ""


def item_number(turn: Turn, answers: InspectionAnswers, item: ChecklistItem) -> str:
    number, follow = checklist(turn, answers).position(item.id)
    return f"{number}-{follow}" if follow else str(number)


@dataclass(frozen=True)
class ItemAnswer:
    value: str  # PASS, FAIL, NA, YES, NO, HELP or REST
    given: dict[str, str]  # the answers it gives: one item's, or (REST) every remaining plain item's
    following: str | None  # the item asked after these (for FAIL: after its note)


async def _parse_item(turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers) -> ItemAnswer:
    value = await parse_option(turn, inbound, prompt)
    assert answers.cursor is not None
    if value == HELP:
        return ItemAnswer(value, {}, answers.cursor)
    if value == REST:
        # Quicker than paper: every remaining plain check item passes; screening questions are still asked.
        given = {
            item.id: PASS
            for item in applicable(turn, answers)
            if item.id not in answers.answers and item.kind != "gate"
        }
    else:
        given = {answers.cursor: value}
    return ItemAnswer(value, given, pending(turn, answers, given))


def _store_item(answers: InspectionAnswers, value: ItemAnswer) -> None:
    answers.item = value.value
    answers.help_for = answers.cursor if value.value == HELP else None
    answers.answers.update(value.given)
    for item_id in value.given:  # checked on this visit: no longer carried over
        answers.carried.pop(item_id, None)
    if value.value not in (HELP, REST, FAIL):
        answers.notes.pop(answers.cursor or "", None)
    if value.value != FAIL:  # a failed item keeps the cursor for its note
        answers.cursor = value.following


def _after_item(answers: InspectionAnswers) -> str:
    if answers.item == HELP:
        return "item"
    if answers.item == FAIL:
        return "note"
    return after_answer(answers)


async def _note_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    assert answers.cursor is not None
    item = checklist(turn, answers).item(answers.cursor)
    return Prompt(turn.texts("insp_note", text=item.text, max=NOTE_MAX))


async def _parse_note(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> tuple[str, str | None]:
    """The note, and the item asked after it."""
    return await text_parser(2, NOTE_MAX)(turn, inbound, prompt, answers), pending(turn, answers)


def _store_note(answers: InspectionAnswers, value: tuple[str, str | None]) -> None:
    answers.notes[answers.cursor or ""], answers.cursor = value


CHECKLIST_STEPS = (
    Step("item", _item_prompt, _parse_item, store=_store_item, next=_after_item),
    Step("note", _note_prompt, _parse_note, store=_store_note, next=after_answer),
)
