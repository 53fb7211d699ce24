"""The industry checklist, one item at a time: 符合 / 不符合 / 不适用, a note for 不符合, help on request."""

from __future__ import annotations

from handlers.context import Turn
from handlers.flow import Option, Prompt, Step, text_parser
from knowledge.models import Checklist, ChecklistItem
from storage.units import get_unit

PASS, FAIL, NA, YES, NO = "pass", "fail", "na", "yes", "no"
HELP, REST = "help", "rest"
NOTE_MAX = 200


def checklist(turn: Turn) -> Checklist:
    assert turn.knowledge is not None
    return turn.knowledge.checklists[turn.data["industry"]]


def applicable(turn: Turn) -> list[ChecklistItem]:
    return checklist(turn).applicable(turn.data.get("answers", {}))


def pending(turn: Turn) -> ChecklistItem | None:
    answers = turn.data.get("answers", {})
    return next((item for item in applicable(turn) if item.id not in answers), None)


async def begin(turn: Turn) -> str:
    """Called once the unit is known: remember its industry and name, then ask the first item."""
    if turn.data.get("unit_id"):
        unit = await get_unit(turn.session, int(turn.data["unit_id"]))
        assert unit is not None
        turn.data["industry"], turn.data["unit_name"] = unit.industry, unit.name
    else:
        turn.data["industry"], turn.data["unit_name"] = turn.data["new_industry"], turn.data["new_name"]
    turn.data.setdefault("answers", {})
    turn.data.setdefault("notes", {})
    return after_answer(turn)


def after_answer(turn: Turn) -> str:
    item = pending(turn)
    if item is not None:
        turn.data["cursor"] = item.id
        return "item"
    return turn.data.get("return_to") or "photo"


async def _item_prompt(turn: Turn) -> Prompt:
    item = checklist(turn).item(turn.data["cursor"])
    text = item_heading(turn, item)
    if item.veto:
        text += turn.texts("insp_item_veto")
    if turn.data.get("help_for") == item.id:
        text += "\n\n" + turn.texts("insp_item_help", help=item.help, source=item.source)
    if item.kind == "gate":
        options: tuple[Option, ...] = (Option(YES, turn.texts("insp_yes")), Option(NO, turn.texts("insp_no")))
    else:
        options = (Option(PASS, turn.texts("insp_pass")), Option(FAIL, turn.texts("insp_fail")),
                   Option(NA, turn.texts("insp_na")))
    options += (Option(HELP, turn.texts("insp_help")),)
    if item.kind != "gate" and item.id != applicable(turn)[0].id and not turn.data.get("return_to"):
        options += (Option(REST, turn.texts("insp_rest_pass")),)
    return Prompt(text, options, columns=3)


def item_heading(turn: Turn, item: ChecklistItem) -> str:
    """【unit】检查第n/N项：and the item — N counts the items asked of every unit, so it never changes mid-way; a screening
    question's follow-ups carry its number (第5/12项（补充1）)."""
    number, follow = checklist(turn).position(item.id)
    key = "insp_item_follow_up" if follow else "insp_item"
    return turn.texts(key, unit=turn.data["unit_name"], n=number, total=checklist(turn).total, k=follow,
                      text=item.text)


def item_number(turn: Turn, item: ChecklistItem) -> str:
    number, follow = checklist(turn).position(item.id)
    return f"{number}-{follow}" if follow else str(number)


def _store_item(turn: Turn, value: str) -> None:
    item_id = turn.data["cursor"]
    turn.data["help_for"] = item_id if value == HELP else None
    answers, notes = turn.data.setdefault("answers", {}), turn.data.setdefault("notes", {})
    if value == HELP:
        return
    if value == REST:
        # Quicker than paper: every remaining plain check item passes; screening questions are still asked.
        for item in applicable(turn):
            if item.id not in answers and item.kind != "gate":
                answers[item.id] = PASS
        return
    answers[item_id] = value
    if value != FAIL:
        notes.pop(item_id, None)


def _after_item(turn: Turn) -> str:
    value = turn.data["item"]
    if value == HELP:
        return "item"
    if value == FAIL:
        return "note"
    return after_answer(turn)


async def _note_prompt(turn: Turn) -> Prompt:
    item = checklist(turn).item(turn.data["cursor"])
    return Prompt(turn.texts("insp_note", text=item.text, max=NOTE_MAX))


def _store_note(turn: Turn, value: str) -> None:
    turn.data.setdefault("notes", {})[turn.data["cursor"]] = value


CHECKLIST_STEPS = (
    Step("item", _item_prompt, store=_store_item, next=_after_item),
    Step("note", _note_prompt, text_parser(2, NOTE_MAX), store=_store_note, next=after_answer),
)
