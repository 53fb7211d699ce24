"""The guided inspection report: unit → checklist → photos → location → result → class → deadline → summary."""

from __future__ import annotations

from dataclasses import replace

from handlers import buttons, owner_notice
from handlers.context import Turn
from handlers.events import Choice, Reply
from handlers.flow import Flow, Option, Prompt, Step
from handlers.formatting import cn_date
from handlers.inspection.answers import InspectionAnswers
from handlers.inspection.carried import CARRIED_STEPS, carried_record, carried_summary
from handlers.inspection.checklist_steps import CHECKLIST_STEPS, FAIL, NA, PASS, YES, applicable, item_number
from handlers.inspection.class_rules import class_conflict
from handlers.inspection.outcome_steps import (
    CLASS_KEYS,
    OUTCOME_STEPS,
    failed_items,
    needs_class_reason,
    needs_deadline,
    unsettled_class,
)
from handlers.inspection.unit_steps import UNIT_STEPS, industry_name
from storage import inspections, units, users
from storage.areas import area_path
from storage.inspection_models import Inspection
from storage.inspections import report_number
from storage.models import Role

MARKS = {PASS: "✓", FAIL: "✗", NA: "—", YES: "是", "no": "否"}


def summary_text(turn: Turn, data: InspectionAnswers) -> str:
    answers = data.answers
    items = applicable(turn, data)
    counts = {value: sum(1 for item in items if answers.get(item.id) == value) for value in (PASS, FAIL, NA)}
    failed = failed_items(turn, data)
    lines = [
        turn.texts("insp_summary_head", unit=data.unit_name, industry=industry_name(turn, data.industry)),
        turn.texts("insp_summary_counts", ok=counts[PASS], bad=counts[FAIL], na=counts[NA]),
    ]
    lines += [f"  ✗ {text}{f'：{note}' if note else ''}" for text, note, _ in failed]
    if carried := carried_summary(turn, data):
        lines.append(carried)
    verdict = turn.texts("insp_verdict_ok" if data.compliant else "insp_verdict_fail")
    if data.override_reason:
        verdict += turn.texts("insp_summary_override", reason=data.override_reason)
    lines.append(turn.texts("insp_summary_verdict", verdict=verdict))
    assert data.unit_class is not None
    lines.append(turn.texts("insp_summary_class", value=turn.texts(CLASS_KEYS[data.unit_class])))
    if needs_class_reason(data) and data.class_reason:
        lines[-1] += turn.texts("insp_summary_class_reason", reason=data.class_reason)
    if needs_deadline(data) and data.rectify_by:
        lines.append(turn.texts("insp_summary_deadline", date=cn_date(data.rectify_by)))
    lines.append(
        turn.texts(
            "insp_summary_media",
            photos=len(data.photos),
            location=turn.texts("insp_yes" if data.location else "insp_no"),
        )
    )
    if data.previous_id:
        lines.append(turn.texts("insp_summary_correction", reason=data.return_reason))
    return "\n".join(lines)


async def _summary_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    options = [
        Option("submit", turn.texts("insp_submit")),
        Option("edit_items", turn.texts("insp_edit_items")),
    ]
    if answers.carried:
        options.append(Option("edit_carried", turn.texts("reinsp_edit_carried", n=len(answers.carried))))
    options += [
        Option("edit_result", turn.texts("insp_edit_result")),
        Option("edit_class", turn.texts("insp_edit_class")),
    ]
    if needs_deadline(answers):
        options.append(Option("edit_deadline", turn.texts("insp_edit_deadline")))
    options += [
        Option("edit_photos", turn.texts("insp_edit_photos")),
        Option("edit_location", turn.texts("insp_edit_location")),
    ]
    return Prompt(summary_text(turn, answers) + "\n\n" + turn.texts("insp_summary_ask"), tuple(options), columns=2)


def _store_summary(answers: InspectionAnswers, value: str) -> None:
    answers.summary = value
    if value == "submit":
        if unsettled_class(answers):
            # A conversation begun before the class had to fit the result, or a correction of a report made then.
            answers.return_to = "summary"
        return
    answers.return_to = "result" if value in ("edit_items", "edit_carried") else "summary"
    if value == "edit_carried":
        answers.carried_seen = False


def _after_summary(answers: InspectionAnswers) -> str | None:
    if answers.summary == "submit":
        return unsettled_class(answers)
    return {
        "edit_items": "edit_pick",
        "edit_carried": "carried",
        "edit_result": "result",
        "edit_class": "class",
        "edit_deadline": "deadline",
        "edit_photos": "photo",
        "edit_location": "location",
    }[answers.summary]


async def _edit_pick_prompt(turn: Turn, answers: InspectionAnswers) -> Prompt:
    options = tuple(
        Option(
            item.id,
            f"{item_number(turn, answers, item)}. {MARKS.get(answers.answers.get(item.id, ''), '?')} {item.text[:16]}",
        )
        for item in applicable(turn, answers)
    )
    return Prompt(turn.texts("insp_edit_pick"), options, columns=1)


def _store_edit_pick(answers: InspectionAnswers, value: str) -> None:
    answers.edit_pick = answers.cursor = value


REPORT_STEPS = (
    Step("summary", _summary_prompt, store=_store_summary, next=_after_summary),
    Step("edit_pick", _edit_pick_prompt, store=_store_edit_pick, next="item"),
)


async def _finish(turn: Turn, data: InspectionAnswers) -> list[Reply]:
    user, now = turn.user, turn.clock.now()
    if user.role != Role.CADRE or user.area is None:
        return [turn.menu_reply(turn.texts("insp_not_cadre"))]
    if data.unit_id:
        unit = await units.get_unit(turn.session, data.unit_id)
        if unit is None or unit.village_id != user.area_id:
            return [turn.menu_reply(turn.texts("insp_unit_outside"))]
    else:
        fields = units.UnitFields(
            name=data.new_name,
            industry=data.new_industry,
            address=data.new_address or None,
            operator_name=data.new_operator or None,
        )
        unit, _ = await units.upsert_unit(turn.session, user.area, fields, now)
    answered = {item.id: data.answers[item.id] for item in applicable(turn, data) if item.id in data.answers}
    assert data.unit_class is not None
    report = inspections.Report(
        unit_id=unit.id,
        submit_key=data.submit_key,
        industry=data.industry,
        answers=answered,
        notes={k: v for k, v in data.notes.items() if answered.get(k) == FAIL},
        proposed_compliant=bool(data.proposed),
        compliant=bool(data.compliant),
        unit_class=data.unit_class,
        override_reason=data.override_reason,
        class_reason=data.class_reason if needs_class_reason(data) else None,
        rectify_by=data.rectify_by if needs_deadline(data) else None,
        location=(data.location[0], data.location[1]) if data.location else None,
        photos=list(data.photos),
        previous_id=data.previous_id,
        carried=carried_record(turn, data, answered),
    )
    inspection, created = await inspections.submit(turn.session, report, user.id, now)
    if not created:
        return [turn.menu_reply(turn.texts("insp_already_submitted", number=report_number(inspection)))]
    await _notify_township(turn, inspection, unit.name)
    told = await owner_notice.notify_owners(turn, inspection, unit)
    verdict = turn.texts("insp_verdict_ok" if inspection.compliant else "insp_verdict_fail")
    reply = turn.menu_reply(
        turn.texts("insp_submitted", number=report_number(inspection), unit=unit.name, verdict=verdict)
        + owner_notice.told_text(turn, told)
    )
    # The unit's owner in the loop: the cadre invites them, prints the 整改告知单, or opens the unit's card.
    return [replace(reply, choices=owner_notice.cadre_choices(turn, inspection, unit) + reply.choices)]


async def _notify_township(turn: Turn, inspection: Inspection, unit_name: str) -> None:
    officials = await users.users_with_role(turn.session, Role.TOWNSHIP, inspection.township_id)
    verdict = turn.texts("insp_verdict_ok" if inspection.compliant else "insp_verdict_fail")
    text = turn.texts(
        "insp_new_for_review",
        number=report_number(inspection),
        where=area_path(turn.user.area),
        unit=unit_name,
        verdict=verdict,
        cadre=turn.user.name or "",
    )
    if class_conflict(inspection.compliant, inspection.unit_class):
        text += "\n" + turn.texts("insp_new_for_review_conflict", value=turn.texts(CLASS_KEYS[inspection.unit_class]))
    button = Choice(buttons.menu_data("review", inspection.id), turn.texts("insp_review_now"))
    turn.notices.extend(Reply(text, (button,), chat_id=official.channel_user_id) for official in officials)


INSPECTION = Flow(
    "inspection",
    "检查上报",
    UNIT_STEPS + CHECKLIST_STEPS + CARRIED_STEPS + OUTCOME_STEPS + REPORT_STEPS,
    _finish,
    precious=True,
    state=InspectionAnswers,
)
