"""Finding the unit to inspect: recent units as buttons, fuzzy search by name, or registering one inline."""

from __future__ import annotations

from handlers.complaints.categories import default_config
from handlers.context import Turn
from handlers.events import Inbound, Kind
from handlers.flow import SKIP, Invalid, Option, Prompt, Step, optional_text, parse_option, text_parser
from handlers.formatting import cn_date
from handlers.inspection.checklist_steps import begin
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


async def _find_prompt(turn: Turn) -> Prompt:
    village = turn.user.area
    recent = sorted(await units.units_in(turn.session, village), key=lambda u: u.updated_at, reverse=True)[:RECENT]
    options = tuple(Option(str(unit.id), unit.name) for unit in recent) + (Option(NEW, turn.texts("insp_new_unit")),)
    key = "insp_find_with_recent" if recent else "insp_find"
    return Prompt(turn.texts(key, village=area_path(village)), options, columns=2)


async def _parse_find(turn: Turn, inbound: Inbound, prompt: Prompt) -> str:
    if inbound.kind is Kind.PRESS:
        return await parse_option(turn, inbound, prompt)
    query = await text_parser(1, 50)(turn, inbound, prompt)
    for option in prompt.options:
        if option.label == query:
            return option.id
    matches = await units.search_units(turn.session, query, turn.user.area, limit=5)
    if not matches:
        elsewhere = await units.search_units(turn.session, query, None, limit=1)
        if elsewhere and elsewhere[0][1] >= 90:
            other = await get_area(turn.session, elsewhere[0][0].village_id)
            raise Invalid(turn.texts("insp_unit_elsewhere", name=elsewhere[0][0].name, where=area_path(other)))
        raise Invalid(turn.texts("insp_unit_not_found", query=query))
    turn.data["matches"] = [unit.id for unit, _ in matches]
    return "search"


async def _after_find(turn: Turn) -> str:
    choice = turn.data["find"]
    if choice == NEW:
        return "new_name"
    if choice == "search":
        return "pick"
    turn.data["unit_id"] = int(choice)
    return await unit_chosen(turn)


async def unit_chosen(turn: Turn) -> str:
    """The unit is known: a report of it still waiting for review, or an open complaint about it, is said first
    (the cadre may be about to duplicate a report, or should check what residents complained of)."""
    unit = await units.get_unit(turn.session, int(turn.data["unit_id"]))
    assert unit is not None
    pending = await inspections.pending_for_unit(turn.session, unit.id)
    open_complaints = await complaints.open_about_unit(turn.session, unit.id)
    if not pending and not open_complaints:
        return await begin(turn)
    lines = []
    if pending:
        reports = "、".join(turn.texts("unit_notice_pending_item", number=report_number(report),
                                      date=cn_date(report.submitted_at, turn.clock.tz)) for report in pending)
        lines.append(turn.texts("unit_notice_pending", unit=unit.name, reports=reports))
    if open_complaints:
        # A cadre sees the categories only: a complaint's own words can identify who filed it.
        names = dict.fromkeys(default_config().name(complaint.category) for complaint in open_complaints)
        lines.append(turn.texts("unit_notice_complaints", unit=unit.name, n=len(open_complaints),
                                categories="、".join(names)))
    turn.data["unit_notice_text"] = "\n".join(lines)
    return "unit_notice"


async def _notice_prompt(turn: Turn) -> Prompt:
    text = turn.data["unit_notice_text"] + "\n" + turn.texts("unit_notice_ask")
    return Prompt(text, (Option(GO, turn.texts("unit_notice_go")), Option(OTHER, turn.texts("unit_notice_other"))),
                  columns=2)


async def _after_notice(turn: Turn) -> str:
    if turn.data["unit_notice"] == OTHER:
        turn.data.pop("unit_id", None)
        return "find"
    return await begin(turn)


async def _pick_prompt(turn: Turn) -> Prompt:
    found = [await units.get_unit(turn.session, unit_id) for unit_id in turn.data.get("matches", [])]
    options = tuple(Option(str(unit.id), unit.name) for unit in found if unit is not None)
    options += (Option(AGAIN, turn.texts("insp_search_again")), Option(NEW, turn.texts("insp_new_unit")))
    return Prompt(turn.texts("insp_did_you_mean"), options, columns=1)


async def _after_pick(turn: Turn) -> str:
    choice = turn.data["pick"]
    if choice == AGAIN:
        return "find"
    if choice == NEW:
        return "new_name"
    turn.data["unit_id"] = int(choice)
    return await unit_chosen(turn)


async def _new_name_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("insp_new_name"))


async def _parse_new_name(turn: Turn, inbound: Inbound, prompt: Prompt) -> str:
    name = await text_parser(2, 50)(turn, inbound, prompt)
    village_id = turn.user.area_id
    existing = await units.find_by_name(turn.session, village_id, name) if village_id is not None else None
    if existing is not None:
        # Same name in the same village: inspect that one instead of registering a duplicate.
        turn.data["unit_id"] = existing.id
    return name


async def _after_new_name(turn: Turn) -> str:
    return await unit_chosen(turn) if turn.data.get("unit_id") else "new_industry"


async def _industry_prompt(turn: Turn) -> Prompt:
    checklists = turn.knowledge.checklists if turn.knowledge else {}
    options = tuple(Option(slug, checklist.name) for slug, checklist in checklists.items())
    return Prompt(turn.texts("insp_new_industry", name=turn.data["new_name"]), options, columns=2)


async def _address_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("insp_new_address"), (Option(SKIP, turn.texts("button_skip")),))


async def _operator_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("insp_new_operator"), (Option(SKIP, turn.texts("button_skip")),))


UNIT_STEPS = (
    Step("find", _find_prompt, _parse_find, next=_after_find),
    Step("pick", _pick_prompt, next=_after_pick),
    Step("unit_notice", _notice_prompt, next=_after_notice),
    Step("new_name", _new_name_prompt, _parse_new_name, next=_after_new_name),
    Step("new_industry", _industry_prompt, next="new_address"),
    Step("new_address", _address_prompt, optional_text(2, ADDRESS_MAX), next="new_operator"),
    Step("new_operator", _operator_prompt, optional_text(2, OPERATOR_MAX), next=begin),
)
