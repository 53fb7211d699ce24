"""What a shop owner is told when their unit is inspected: the result and class, each failed item with what the
standard requires, its source and how to put it right (the knowledge base's entry for the item, the one `ask`
answers with), and the deadline; with the printable 整改告知单 (handlers/rectification_pdf.py) attached.

A corrected version of a returned report tells the owner again only if what they must do changed: the result, the
class, the failed items or the deadline (the key below)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Reply
from handlers.formatting import cn_date
from handlers.inspection.outcome_steps import CLASS_KEYS
from handlers.rectification_pdf import FailedItem, RectificationNotice
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from storage import owners, users
from storage.areas import area_path, get_area
from storage.inspection_models import Answer, Inspection, Unit
from storage.inspections import report_number
from storage.models import Role

GUIDANCE_MAX = 300  # characters of an entry's answer in a chat message (the sheet has it whole)


def notice_key(inspection: Inspection) -> str:
    """What the owner must do, as a short key: equal keys, nothing new to tell."""
    failed = sorted(item for item, value in inspection.answers.items() if value == Answer.FAIL)
    body = json.dumps(
        [
            inspection.compliant,
            inspection.unit_class,
            failed,
            inspection.rectify_by.isoformat() if inspection.rectify_by else None,
        ]
    )
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def failed_items(inspection: Inspection, knowledge: KnowledgeBase | None) -> list[FailedItem]:
    return item_guidance(knowledge, inspection.industry, inspection.answers, inspection.notes)


def item_guidance(
    knowledge: KnowledgeBase | None, industry: str, answers: dict[str, str], notes: dict[str, str] | None = None
) -> list[FailedItem]:
    """The failed items of these answers, each with what the standard requires, its source and how to put it right
    (the knowledge base's entry for the item, else the checklist's help): an owner's notice and 自查 alike."""
    checklist = knowledge.checklists.get(industry) if knowledge else None
    entries = {entry.id: entry for entry in knowledge.entries} if knowledge else {}
    items = []
    for item_id, value in answers.items():
        if value != Answer.FAIL:
            continue
        current = checklist.resolve(item_id) if checklist else None
        requirement = (checklist.text_of(item_id) if checklist else None) or item_id
        entry = entries.get(current or item_id)
        source = entry.source if entry else (checklist.item(current).source if checklist and current else "")
        guidance = entry.answer if entry else (checklist.item(current).help if checklist and current else "")
        items.append(FailedItem(requirement, source, guidance, (notes or {}).get(item_id, "")))
    return items


async def office_contact(session: AsyncSession, texts: Texts, township_id: int) -> tuple[str, str]:
    township = await get_area(session, township_id)
    office = texts("owner_office", township=township.name if township else "")
    officials = await users.users_with_role(session, Role.TOWNSHIP, township_id)
    named = [
        f"{official.name}{f'（{official.phone}）' if official.phone else ''}" for official in officials if official.name
    ]
    contact = texts("owner_contact", people="、".join(named[:3])) if named else texts("owner_contact_chat")
    return office, contact


async def rectification_notice(
    session: AsyncSession,
    texts: Texts,
    knowledge: KnowledgeBase | None,
    inspection: Inspection,
    unit: Unit,
    tz: ZoneInfo,
) -> RectificationNotice:
    checklist = knowledge.checklists.get(inspection.industry) if knowledge else None
    office, contact = await office_contact(session, texts, unit.township_id)
    return RectificationNotice(
        number=report_number(inspection),
        unit=unit.name,
        address=unit.address or "",
        place=area_path(await get_area(session, unit.village_id)),
        industry=checklist.name if checklist else inspection.industry,
        inspected_on=inspection.submitted_at.astimezone(tz).date(),
        result=texts("insp_verdict_ok" if inspection.compliant else "insp_verdict_fail"),
        unit_class=texts(CLASS_KEYS[inspection.unit_class]),
        items=tuple(failed_items(inspection, knowledge)),
        deadline=inspection.rectify_by,
        office=office,
        contact=contact,
    )


def pdf_path(charts_dir: Path, inspection: Inspection) -> Path:
    return charts_dir / "notices" / f"整改告知单-{report_number(inspection)}-{notice_key(inspection)[:8]}.pdf"


def sheet_reply(
    texts: Texts, notice: RectificationNotice, inspection: Inspection, charts_dir: Path, chat_id: int | None = None
) -> Reply:
    """The 整改告知单 as a document message; the sender renders it (ensure_sheet) when it is not there yet."""
    return Reply(
        texts("owner_sheet_caption", unit=notice.unit),
        document=str(pdf_path(charts_dir, inspection)),
        chat_id=chat_id,
        sheet=notice.as_payload(),
    )


def notice_text(texts: Texts, notice: RectificationNotice) -> str:
    lines = [
        texts("owner_notice_head", unit=notice.unit, date=cn_date(notice.inspected_on), number=notice.number),
        texts("owner_notice_result", result=notice.result, unit_class=notice.unit_class),
    ]
    for number, item in enumerate(notice.items, start=1):
        guidance = item.guidance if len(item.guidance) <= GUIDANCE_MAX else item.guidance[:GUIDANCE_MAX] + "…"
        lines.append(
            texts(
                "owner_notice_item",
                n=number,
                requirement=item.requirement,
                source=item.source,
                guidance=guidance,
                note=texts("owner_notice_note", note=item.note) if item.note else "",
            )
        )
    if notice.deadline is not None:
        lines.append(texts("owner_notice_deadline", date=cn_date(notice.deadline)))
    lines.append(texts("owner_notice_contact", office=notice.office, contact=notice.contact))
    return "\n\n".join(lines)


async def notify_owners(turn: Turn, inspection: Inspection, unit: Unit) -> int:
    """Queue the notice (and the sheet, when something failed) to every owner of the unit; returns how many owners
    were told. An owner the bot cannot reach (they blocked it) makes the sender tell the cadre."""
    bound = await owners.owners_of(turn.session, unit.id)
    if not bound:
        return 0
    key = notice_key(inspection)
    notice = await rectification_notice(turn.session, turn.texts, turn.knowledge, inspection, unit, turn.clock.tz)
    text = notice_text(turn.texts, notice)
    card = Choice(buttons.menu_data("unit_card", unit.id), turn.texts("owner_card_button"))
    told = 0
    for row, owner in bound:
        if inspection.previous_id is not None and row.notified_key == key:
            continue  # a correction that changes nothing the owner must do
        row.notified_report, row.notified_key = inspection.id, key
        fallback = (
            turn.user.channel_user_id,
            turn.texts("owner_unreachable", owner=owner.name or turn.texts("no_name"), unit=unit.name),
        )
        turn.notices.append(Reply(text[:4000], (card,), chat_id=owner.channel_user_id, fallback=fallback))
        if notice.items:
            turn.notices.append(
                sheet_reply(turn.texts, notice, inspection, turn.config.charts_dir, owner.channel_user_id)
            )
        told += 1
    return told


def told_text(turn: Turn, told: int) -> str:
    return turn.texts("owner_told", n=told) if told else turn.texts("owner_not_registered")


def cadre_choices(turn: Turn, inspection: Inspection, unit: Unit) -> tuple[Choice, ...]:
    """The buttons under a submitted report: the sheet (when something failed), the card, inviting the owner."""
    choices = []
    if any(value == Answer.FAIL for value in inspection.answers.values()):
        choices.append(Choice(buttons.menu_data("rectify_sheet", inspection.id), turn.texts("owner_sheet_button")))
    choices.append(Choice(buttons.menu_data("unit_card", unit.id), turn.texts("owner_unit_card_button")))
    choices.append(Choice(buttons.menu_data("owner_invite", unit.id), turn.texts("owner_invite_button")))
    return tuple(choices)
