"""Finding the unit to inspect: recent units as buttons, fuzzy search by name, or registering one inline."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.complaints.categories import default_config
from handlers.context import Turn
from handlers.events import Inbound, Kind
from handlers.flow import SKIP, Invalid, Option, Prompt, Step, optional_text, parse_option, text_parser
from handlers.formatting import cn_date
from handlers.inspection.answers import InspectionAnswers
from handlers.inspection.carried import Prefill, prefill
from handlers.inspection.checklist_steps import after_answer
from storage import complaints, inspections, units
from storage.areas import area_path, get_area
from storage.inspections import report_number
from storage.units import OPERATOR_NAME_MAX

NEW = "new"
AGAIN = "again"
GO, OTHER = "go", "other"
RECENT = 6
ADDRESS_MAX = 100
OPERATOR_MAX = OPERATOR_NAME_MAX


def industry_name(turn: Turn, slug: str) -> str:
    checklist = turn.knowledge.checklists.get(slug) if turn.knowledge else None
    return checklist.name if checklist else slug


async def _find_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    village = turn.user.area
    recent = sorted(await units.units_in(turn.session, village), key=lambda u: u.updated_at, reverse=True)[:RECENT]
    options = tuple(Option(str(unit.id), unit.name) for unit in recent) + (Option(NEW, turn.texts("insp_new_unit")),)
    key = "insp_find_with_recent" if recent else "insp_find"
    return Prompt(turn.texts(key, village=area_path(village)), options, columns=2)


@dataclass(frozen=True)
class Chosen:
    """A unit to inspect, with what the checklist starts from."""

    unit_id: int | None  # None: registered when the report is submitted
    name: str
    industry: str
    first_item: str | None
    notice: bool = False  # a report of it waits for review, or a complaint about it is open: said first
    # A unit being put right: its last report's failed items first, the rest carried over (handlers/inspection/carried)
    start: Prefill = field(default_factory=Prefill)


def _first_item(turn: Turn, industry: str) -> str | None:
    assert turn.knowledge is not None
    items = turn.knowledge.checklists[industry].applicable({})
    return items[0].id if items else None


def new_unit(turn: Turn, answers: InspectionAnswers) -> Chosen:
    return Chosen(None, answers.new_name, answers.new_industry, _first_item(turn, answers.new_industry))


async def chosen(turn: Turn, unit_id: int) -> Chosen:
    unit = await units.get_unit(turn.session, unit_id)
    assert unit is not None
    notice = bool(
        await inspections.pending_for_unit(turn.session, unit.id)
        or await complaints.open_about_unit(turn.session, unit.id)
    )
    start = await prefill(turn, unit)
    first_item = start.first_item if start.first else _first_item(turn, unit.industry)
    return Chosen(unit.id, unit.name, unit.industry, first_item, notice, start)


def begin(answers: InspectionAnswers, unit: Chosen) -> None:
    """The unit is known: remember it, and ask the first item (after the notice, when there is one)."""
    answers.unit_id, answers.unit_name, answers.industry = unit.unit_id, unit.name, unit.industry
    answers.notice_due, answers.cursor = unit.notice, unit.first_item
    answers.answers, answers.notes = dict(unit.start.answers), {}
    answers.carried, answers.first, answers.last_on = (
        dict(unit.start.carried),
        list(unit.start.first),
        unit.start.last_on,
    )
    answers.carried_seen, answers.carried_pick = False, ""


def first_step(answers: InspectionAnswers) -> str:
    """Once the unit is known: its notice first, when due, else the checklist."""
    return "unit_notice" if answers.notice_due else after_answer(answers)


async def _parse_find(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> tuple[str, Chosen | list[int] | None]:
    """NEW, a unit (its id and what it is), or "search" with the units a typed name may mean."""
    if inbound.kind is Kind.PRESS:
        choice = await parse_option(turn, inbound, prompt)
        return (choice, None) if choice == NEW else (choice, await chosen(turn, int(choice)))
    query = await text_parser(1, 50)(turn, inbound, prompt, answers)
    for option in prompt.options:
        if option.label == query:
            return (option.id, None) if option.id == NEW else (option.id, await chosen(turn, int(option.id)))
    matches = await units.search_units(turn.session, query, turn.user.area, limit=5)
    if not matches:
        elsewhere = await units.search_units(turn.session, query, None, limit=1)
        if elsewhere and elsewhere[0][1] >= 90:
            other = await get_area(turn.session, elsewhere[0][0].village_id)
            raise Invalid(turn.texts("insp_unit_elsewhere", name=elsewhere[0][0].name, where=area_path(other)))
        raise Invalid(turn.texts("insp_unit_not_found", query=query))
    return "search", [unit.id for unit, _ in matches]


def _store_find(answers: InspectionAnswers, value: tuple[str, Chosen | list[int] | None]) -> None:
    answers.find, found = value
    if isinstance(found, Chosen):
        begin(answers, found)
    elif found is not None:
        answers.matches = found


def _after_find(answers: InspectionAnswers) -> str:
    return {NEW: "new_name", "search": "pick"}.get(answers.find) or first_step(answers)


async def _notice_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    assert answers.unit_id is not None
    unit = await units.get_unit(turn.session, answers.unit_id)
    assert unit is not None
    pending = await inspections.pending_for_unit(turn.session, unit.id)
    open_complaints = await complaints.open_about_unit(turn.session, unit.id)
    lines = []
    if pending:
        reports = "、".join(
            turn.texts(
                "unit_notice_pending_item",
                number=report_number(report),
                date=cn_date(report.submitted_at, turn.clock.tz),
            )
            for report in pending
        )
        lines.append(turn.texts("unit_notice_pending", unit=unit.name, reports=reports))
    if open_complaints:
        # A cadre sees the categories only: a complaint's own words can identify who filed it.
        names = dict.fromkeys(default_config().name(complaint.category) for complaint in open_complaints)
        lines.append(
            turn.texts("unit_notice_complaints", unit=unit.name, n=len(open_complaints), categories="、".join(names))
        )
    text = "\n".join(lines) + "\n" + turn.texts("unit_notice_ask")
    return Prompt(
        text, (Option(GO, turn.texts("unit_notice_go")), Option(OTHER, turn.texts("unit_notice_other"))), columns=2
    )


async def _parse_notice(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> tuple[str, Chosen | None]:
    choice = await parse_option(turn, inbound, prompt)
    if choice == OTHER or answers.unit_id is None:
        return choice, None
    return choice, await chosen(turn, answers.unit_id)


def _store_notice(answers: InspectionAnswers, value: tuple[str, Chosen | None]) -> None:
    answers.unit_notice, unit = value
    if answers.unit_notice == OTHER:
        answers.unit_id = None
    elif unit is not None:
        begin(answers, unit)
        answers.notice_due = False  # said


def _after_notice(answers: InspectionAnswers) -> str:
    return "find" if answers.unit_notice == OTHER else after_answer(answers)


async def _pick_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    found = [await units.get_unit(turn.session, unit_id) for unit_id in answers.matches]
    options = tuple(Option(str(unit.id), unit.name) for unit in found if unit is not None)
    options += (Option(AGAIN, turn.texts("insp_search_again")), Option(NEW, turn.texts("insp_new_unit")))
    return Prompt(turn.texts("insp_did_you_mean"), options, columns=1)


async def _parse_pick(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> tuple[str, Chosen | None]:
    choice = await parse_option(turn, inbound, prompt)
    return choice, None if choice in (AGAIN, NEW) else await chosen(turn, int(choice))


def _store_pick(answers: InspectionAnswers, value: tuple[str, Chosen | None]) -> None:
    answers.pick, unit = value
    if unit is not None:
        begin(answers, unit)


def _after_pick(answers: InspectionAnswers) -> str:
    return {AGAIN: "find", NEW: "new_name"}.get(answers.pick) or first_step(answers)


async def _new_name_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    return Prompt(turn.texts("insp_new_name"))


async def _parse_new_name(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> tuple[str, Chosen | None]:
    """The name, and the unit of that name already registered in the village, if any."""
    name = await text_parser(2, 50)(turn, inbound, prompt, answers)
    village_id = turn.user.area_id
    existing = await units.find_by_name(turn.session, village_id, name) if village_id is not None else None
    # Same name in the same village: inspect that one instead of registering a duplicate.
    return name, await chosen(turn, existing.id) if existing is not None else None


def _store_new_name(answers: InspectionAnswers, value: tuple[str, Chosen | None]) -> None:
    answers.new_name, unit = value
    if unit is not None:
        begin(answers, unit)


def _after_new_name(answers: InspectionAnswers) -> str:
    return first_step(answers) if answers.unit_id else "new_industry"


async def _industry_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    checklists = turn.knowledge.checklists if turn.knowledge else {}
    options = tuple(Option(slug, checklist.name) for slug, checklist in checklists.items())
    return Prompt(turn.texts("insp_new_industry", name=answers.new_name), options, columns=2)


async def _address_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    return Prompt(turn.texts("insp_new_address"), (Option(SKIP, turn.texts("button_skip")),))


async def _operator_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    return Prompt(turn.texts("insp_new_operator"), (Option(SKIP, turn.texts("button_skip")),))


async def _parse_operator(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: InspectionAnswers
) -> tuple[str, Chosen]:
    """The operator's name ('' when skipped), and the new unit the checklist is for."""
    return await optional_text(2, OPERATOR_MAX)(turn, inbound, prompt, answers), new_unit(turn, answers)


def _store_operator(answers: InspectionAnswers, value: tuple[str, Chosen]) -> None:
    answers.new_operator, unit = value
    begin(answers, unit)


UNIT_STEPS = (
    Step("find", _find_prompt, _parse_find, store=_store_find, next=_after_find),
    Step("pick", _pick_prompt, _parse_pick, store=_store_pick, next=_after_pick),
    Step("unit_notice", _notice_prompt, _parse_notice, store=_store_notice, next=_after_notice),
    Step("new_name", _new_name_prompt, _parse_new_name, store=_store_new_name, next=_after_new_name),
    Step("new_industry", _industry_prompt, next="new_address"),
    Step("new_address", _address_prompt, optional_text(2, ADDRESS_MAX), next="new_operator"),
    Step("new_operator", _operator_prompt, _parse_operator, store=_store_operator, next=after_answer),
)
