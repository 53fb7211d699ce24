"""Township review of inspection reports, the cadre's correction of a returned one, and follow-up lists."""

from __future__ import annotations

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Reply
from handlers.flow import Flow, Option, Prompt, Step, text_parser
from handlers.flow_state import FlowState
from handlers.formatting import cn_date, cn_datetime
from handlers.inspection.answers import InspectionAnswers
from handlers.inspection.carried import carried_days, stored_carried_lines
from handlers.inspection.checklist_steps import FAIL
from handlers.inspection.class_rules import class_conflict
from handlers.inspection.decisions import decide
from handlers.inspection.evidence import evidence_lines, photo_album
from handlers.inspection.outcome_steps import CLASS_KEYS
from handlers.inspection.unit_steps import begin, chosen, first_step, industry_name
from storage import inspections, units
from storage.areas import area_path, get_area
from storage.inspection_models import Inspection, InspectionStatus, Unit
from storage.inspections import report_number
from storage.models import Role

LIST_LIMIT = 20
MESSAGE_MAX = 4000  # Telegram's limit is 4096 characters


def describe(turn: Turn, inspection: Inspection, unit: Unit, place: str) -> str:
    checklist = turn.knowledge.checklists.get(inspection.industry) if turn.knowledge else None
    failed = []
    for item_id, answer in inspection.answers.items():
        if answer == FAIL:
            text = (checklist.text_of(item_id) if checklist else None) or item_id
            note = inspection.notes.get(item_id)
            failed.append(f"  ✗ {text}{f'：{note}' if note else ''}")
    verdict = turn.texts("insp_verdict_ok" if inspection.compliant else "insp_verdict_fail")
    if inspection.override_reason:
        verdict += turn.texts("insp_summary_override", reason=inspection.override_reason)
    lines = [
        turn.texts(
            "review_head",
            number=report_number(inspection),
            unit=unit.name,
            where=place,
            industry=industry_name(turn, inspection.industry),
            when=cn_datetime(inspection.submitted_at, turn.clock.tz),
        ),
        turn.texts(
            "insp_summary_counts",
            ok=sum(a == "pass" for a in inspection.answers.values()),
            bad=len(failed),
            na=sum(a == "na" for a in inspection.answers.values()),
        ),
        *failed,
        *stored_carried_lines(turn, inspection),
        turn.texts("insp_summary_verdict", verdict=verdict),
        turn.texts("insp_summary_class", value=turn.texts(CLASS_KEYS[inspection.unit_class])),
    ]
    conflict = class_conflict(inspection.compliant, inspection.unit_class)
    if conflict:
        # Reports made before the class had to fit the result can be 规范达标 and 整改规范类: flagged too.
        lines.append(turn.texts(f"review_conflict_{conflict}", reason=inspection.class_reason or "（未说明）"))
    if inspection.rectify_by:
        lines.append(turn.texts("insp_summary_deadline", date=cn_date(inspection.rectify_by)))
    return "\n".join(lines)


async def review_text(turn: Turn, inspection: Inspection, unit: Unit) -> str:
    """The report and its evidence, as the township's review screen shows it."""
    place = area_path(await get_area(turn.session, unit.village_id))
    photos = await inspections.photos_of(turn.session, inspection.id)
    return "\n".join([describe(turn, inspection, unit, place), *await evidence_lines(turn, inspection, unit, photos)])


async def review(turn: Turn) -> list[Reply]:
    """List reports waiting for review, or open one (argument: inspection id)."""
    if turn.user.role != Role.TOWNSHIP or turn.user.area_id is None:
        return [turn.menu_reply(turn.texts("review_only_township"))]
    if turn.argument_id is not None:
        return await _open(turn, turn.argument_id)
    waiting = await inspections.awaiting_review(turn.session, turn.user.area_id, LIST_LIMIT)
    if not waiting:
        return [turn.menu_reply(turn.texts("review_none"))]
    choices = tuple(
        Choice(
            buttons.menu_data("review", inspection.id),
            f"{unit.name} · {cn_date(inspection.submitted_at, turn.clock.tz)}",
        )
        for inspection, unit in waiting
    )
    return [Reply(turn.texts("review_list", n=len(waiting)), choices)]


async def _open(turn: Turn, inspection_id: int) -> list[Reply]:
    inspection = await inspections.get_inspection(turn.session, inspection_id)
    if inspection is None or inspection.township_id != turn.user.area_id:
        return [turn.menu_reply(turn.texts("review_not_found"))]
    if inspection.status != InspectionStatus.SUBMITTED:
        return [turn.menu_reply(turn.texts("review_already_done", number=report_number(inspection)))]
    # The photos go first, as an album; the report with its buttons follows them.
    album = photo_album(turn, inspection, await inspections.photos_of(turn.session, inspection.id))
    return [*album, *await turn.runner.start(turn, "review", ReviewAnswers(inspection_id=inspection.id))]


class ReviewAnswers(FlowState):
    inspection_id: int
    decide: str = ""  # "approve" or "return"
    reason: str = ""  # why it is returned


async def _decide_prompt(turn: Turn, answers: ReviewAnswers) -> Prompt:
    inspection = await inspections.get_inspection(turn.session, answers.inspection_id)
    assert inspection is not None
    unit = await units.get_unit(turn.session, inspection.unit_id)
    assert unit is not None
    body, ask = await review_text(turn, inspection, unit), turn.texts("review_ask")
    if len(body) + len(ask) + 2 > MESSAGE_MAX:  # long notes on many items: Telegram refuses past 4096 characters
        body = body[: MESSAGE_MAX - len(ask) - 3] + "…"
    text = body + "\n\n" + ask
    options = (Option("approve", turn.texts("review_approve")), Option("return", turn.texts("review_return")))
    return Prompt(text, options, columns=2)


async def _reason_prompt(turn: Turn, answers: ReviewAnswers) -> Prompt:
    return Prompt(turn.texts("review_reason"))


async def _finish_review(turn: Turn, answers: ReviewAnswers) -> list[Reply]:
    inspection = await inspections.get_inspection(turn.session, answers.inspection_id)
    if inspection is None or inspection.status != InspectionStatus.SUBMITTED:
        return [
            turn.menu_reply(
                turn.texts("review_already_done", number="" if inspection is None else report_number(inspection))
            )
        ]
    approve = answers.decide == "approve"
    decision = await decide(
        turn.session, turn.texts, turn.user, inspection, approve, "" if approve else answers.reason, turn.clock.now()
    )
    turn.notices.extend(decision.notices)
    return [turn.menu_reply(decision.text)]


REVIEW = Flow(
    "review",
    "审核检查报告",
    (
        Step("decide", _decide_prompt, next=lambda answers: "reason" if answers.decide == "return" else None),
        Step("reason", _reason_prompt, text_parser(4, 300), next=None),
    ),
    _finish_review,
    state=ReviewAnswers,
)


async def fix(turn: Turn) -> list[Reply]:
    """A cadre corrects a returned report: the report reopens at its summary with everything filled in."""
    if turn.argument_id is None:
        returned = await inspections.returned_to(turn.session, turn.user.id)
        if not returned:
            return [turn.menu_reply(turn.texts("fix_none"))]
        choices = tuple(
            Choice(buttons.menu_data("fix", inspection.id), f"{unit.name} · {report_number(inspection)}")
            for inspection, unit in returned
        )
        return [Reply(turn.texts("fix_list", n=len(returned)), choices)]
    inspection = await inspections.get_inspection(turn.session, turn.argument_id)
    if inspection is None or inspection.inspector_id != turn.user.id:
        return [turn.menu_reply(turn.texts("review_not_found"))]
    if inspection.status != InspectionStatus.RETURNED:
        return [turn.menu_reply(turn.texts("fix_not_returned", number=report_number(inspection)))]
    unit = await units.get_unit(turn.session, inspection.unit_id)
    assert unit is not None
    photos = [
        {
            "file_id": p.file_id,
            "unique_id": p.file_unique_id,
            "size": p.size,
            "channel": p.channel,
            "sha256": p.sha256,
            "extension": p.extension,
        }
        for p in await inspections.photos_of(turn.session, inspection.id)
    ]
    answers, notes = dict(inspection.answers), dict(inspection.notes)
    checklist = turn.knowledge.checklists.get(inspection.industry) if turn.knowledge else None
    if checklist is not None:  # a report made before items were merged is corrected under today's ids
        answers, notes = checklist.carried_over(answers, notes)
    location = (
        [inspection.latitude, inspection.longitude]
        if inspection.latitude is not None and inspection.longitude is not None
        else None
    )
    data = InspectionAnswers(
        unit_id=unit.id,
        unit_name=unit.name,
        industry=inspection.industry,
        answers=answers,
        notes=notes,
        photos=photos,
        location=location,
        proposed=inspection.proposed_compliant,
        compliant=inspection.compliant,
        override_reason=inspection.override_reason,
        unit_class=inspection.unit_class,
        class_reason=inspection.class_reason,
        rectify_by=inspection.rectify_by,
        previous_id=inspection.id,
        return_reason=inspection.review_note or "",
        return_to="summary",
        # The answers the returned version carried over are still carried over in its correction.
        carried=carried_days(inspection.carried_over, answers),
        carried_seen=True,
    )
    return await turn.runner.start(turn, "inspection", data, at="summary")


async def overdue(turn: Turn) -> list[Reply]:
    """Rectifications past their deadline, for a township official (own township) or the county office."""
    township_id = turn.user.area_id if turn.user.role == Role.TOWNSHIP else None
    late = await inspections.overdue_rectifications(turn.session, turn.clock.now().date(), township_id)
    if not late:
        return [turn.menu_reply(turn.texts("overdue_none"))]
    today = turn.clock.now().date()
    lines = []
    for unit in late[:LIST_LIMIT]:
        place, due = area_path(await get_area(turn.session, unit.village_id)), unit.rectify_by
        assert due is not None  # overdue: its rectify_by is before today
        lines.append(
            turn.texts("overdue_line", unit=unit.name, where=place, date=cn_date(due), days=(today - due).days)
        )
    more = turn.texts("overdue_more", n=len(late) - LIST_LIMIT) if len(late) > LIST_LIMIT else ""
    return [turn.menu_reply(turn.texts("overdue_list", n=len(late), lines="\n".join(lines)) + more)]


async def inspect(turn: Turn) -> list[Reply]:
    """Start a report; with a unit id (from a re-inspection reminder) the unit is already chosen."""
    if turn.user.role != Role.CADRE or turn.user.area_id is None:
        return [turn.menu_reply(turn.texts("insp_not_cadre"))]
    if turn.argument_id is None:
        return await turn.runner.start(turn, "inspection", InspectionAnswers())
    unit = await units.get_unit(turn.session, turn.argument_id)
    if unit is None or unit.village_id != turn.user.area_id:
        return [turn.menu_reply(turn.texts("insp_unit_outside"))]
    answers = InspectionAnswers()
    begin(answers, await chosen(turn, unit.id))
    return await turn.runner.start(turn, "inspection", answers, at=first_step(answers))
