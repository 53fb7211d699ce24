"""The shop owner in the chat: the cadre (or the township) invites a unit's owner with a code and its QR image;
the owner's 我的单位 and a unit's card; the 整改告知单 printed again. Single-step actions (buttons carrying a unit
or report id), each checking who may see what: an owner their own units only, a cadre the village's, a township
official the township's, the county office every unit."""

from __future__ import annotations

import logging
from pathlib import Path

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Reply
from handlers.formatting import cn_date, cn_datetime
from handlers.inspection.outcome_steps import CLASS_KEYS
from handlers.owner_notice import rectification_notice, sheet_reply
from handlers.self_check import card_lines
from storage import invites, owners, units
from storage.areas import get_area
from storage.inspection_models import Answer, Unit, UnitStatus
from storage.inspections import get_inspection, report_number
from storage.models import Role

log = logging.getLogger(__name__)

INVITERS = (Role.CADRE, Role.TOWNSHIP)
LIST_LIMIT = 20


async def may_see(turn: Turn, unit: Unit | None) -> bool:
    """Whether the turn's user may see this unit's card and notices."""
    if unit is None:
        return False
    role, area = turn.user.role, turn.user.area_id
    if role == Role.OPERATOR:
        return await owners.owns(turn.session, turn.user.id, unit.id)
    if role == Role.CADRE:
        return unit.village_id == area
    if role == Role.TOWNSHIP:
        return unit.township_id == area
    return role == Role.COUNTY


async def _unit(turn: Turn) -> Unit | None:
    """The unit the button names, if this user may see it (a forged or foreign id looks like a missing one)."""
    unit_id = turn.argument_id
    unit = await units.get_unit(turn.session, unit_id) if unit_id else None
    if not await may_see(turn, unit):
        log.info("user %s refused unit %s", turn.user.id, turn.argument[:12])
        return None
    return unit


def start_link(username: str, code: str) -> str:
    return f"https://t.me/{username}?start={code}" if username else code


def qr_png(content: str, out: Path) -> Path:
    """The code (or its t.me link) as a QR image. segno: pure Python, writes PNG itself (no Pillow)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    import segno  # only when a code is made: not at start-up

    segno.make(content, error="m").save(str(out), kind="png", scale=8, border=4)
    return out


async def owner_invite(turn: Turn) -> list[Reply]:
    """邀请业主 on a unit: a single-use operator code bound to the unit, as text, link and QR image."""
    unit = await _unit(turn)
    if unit is None or turn.user.role not in INVITERS:
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    if not owners.bindable(unit):
        return [turn.menu_reply(turn.texts("owner_code_unit_gone"))]
    village = await get_area(turn.session, unit.village_id)
    invite = await invites.create_invite(
        turn.session, Role.OPERATOR, village, turn.clock.now(), turn.config.invite_valid_for, turn.user, unit_id=unit.id
    )
    link = start_link(turn.config.bot_username, invite.code)
    text = turn.texts(
        "owner_invite_created",
        unit=unit.name,
        code=invite.code,
        expires=cn_datetime(invite.expires_at, turn.clock.tz),
        link=turn.texts("owner_invite_link", link=link) if turn.config.bot_username else "",
    )
    image = qr_png(link, turn.config.charts_dir / "invites" / f"invite-{invite.id}.png")
    return [
        Reply(turn.texts("owner_invite_qr_caption", unit=unit.name, code=invite.code), photo=str(image)),
        turn.menu_reply(text),
    ]


def _card_choices(turn: Turn, unit: Unit, sheet_report: int | None) -> tuple[Choice, ...]:
    choices = []
    if sheet_report is not None and turn.user.role == Role.OPERATOR and unit.status == UnitStatus.RECTIFYING:
        choices.append(Choice(buttons.menu_data("fix_report", unit.id), turn.texts("owner_fix_button")))
    if sheet_report is not None:
        choices.append(Choice(buttons.menu_data("rectify_sheet", sheet_report), turn.texts("owner_sheet_button")))
    if turn.user.role == Role.OPERATOR and owners.bindable(unit):
        choices.append(Choice(buttons.menu_data("self_check", unit.id), turn.texts("self_check_button")))
    if turn.user.role in INVITERS and owners.bindable(unit):
        choices.append(Choice(buttons.menu_data("owner_invite", unit.id), turn.texts("owner_invite_button")))
    return tuple(choices)


async def unit_card(turn: Turn) -> list[Reply]:
    """A unit's card: status and class, the last inspection, open items with the deadline, the sheet again."""
    unit = await _unit(turn)
    if unit is None:
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    t = turn.texts
    village = await get_area(turn.session, unit.village_id)
    lines = [t("owner_card_head", unit=unit.name, place=village.name if village else "")]
    status = t(f"unit_status_{unit.status}")
    lines.append(
        t(
            "owner_card_status",
            status=status,
            unit_class=t(CLASS_KEYS[unit.unit_class]) if unit.unit_class in CLASS_KEYS else t("owner_card_none"),
        )
    )
    report = await owners.latest_report(turn.session, unit.id)
    sheet_report = None
    if report is None:
        lines.append(t("owner_card_never"))
    else:
        lines.append(
            t("owner_card_last", date=cn_date(report.submitted_at, turn.clock.tz), number=report_number(report))
        )
        notice = await rectification_notice(turn.session, t, turn.knowledge, report, unit, turn.clock.tz)
        if notice.items and unit.status in (UnitStatus.RECTIFYING, UnitStatus.PENDING_CLOSURE):
            sheet_report = report.id
            lines.append(t("owner_card_open", n=len(notice.items)))
            lines += [f"  {n}. {item.requirement}" for n, item in enumerate(notice.items, start=1)]
            if unit.rectify_by is not None:
                lines.append(t("owner_card_deadline", date=cn_date(unit.rectify_by)))
    # The last 自查: the owner's own, shown to the village's cadres and the township too (never counted).
    lines += card_lines(turn, await owners.last_self_check(turn.session, unit.id))
    if turn.user.role != Role.OPERATOR:
        # How many, not who: an owner's name is theirs to give (they may have filed a complaint anonymously).
        count = len(await owners.owners_of(turn.session, unit.id))
        lines.append(t("owner_card_owners", n=count) if count else t("owner_card_no_owner"))
    return [Reply("\n".join(lines), _card_choices(turn, unit, sheet_report)), turn.menu_reply()]


async def my_units(turn: Turn) -> list[Reply]:
    """我的单位: an owner's units (one: its card at once)."""
    held = await owners.units_of(turn.session, turn.user.id)
    if not held:
        return [turn.menu_reply(turn.texts("owner_no_units"))]
    if len(held) == 1:
        turn.argument = str(held[0].id)
        return await unit_card(turn)
    choices = tuple(
        Choice(buttons.menu_data("unit_card", unit.id), f"{unit.name} · {turn.texts(f'unit_status_{unit.status}')}")
        for unit in held[:LIST_LIMIT]
    )
    return [Reply(turn.texts("owner_units_list", n=len(held)), choices)]


async def rectify_sheet(turn: Turn) -> list[Reply]:
    """整改告知单 of a report, for printing (the cadre) or keeping (the owner)."""
    report_id = turn.argument_id
    report = await get_inspection(turn.session, report_id) if report_id else None
    unit = await units.get_unit(turn.session, report.unit_id) if report is not None else None
    if report is None or not await may_see(turn, unit):
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    assert unit is not None
    if not any(value == Answer.FAIL for value in report.answers.values()):
        return [turn.menu_reply(turn.texts("owner_sheet_nothing", number=report_number(report)))]
    notice = await rectification_notice(turn.session, turn.texts, turn.knowledge, report, unit, turn.clock.tz)
    return [sheet_reply(turn.texts, notice, report, turn.config.charts_dir), turn.menu_reply()]


ACTIONS = {"owner_invite": owner_invite, "unit_card": unit_card, "my_units": my_units, "rectify_sheet": rectify_sheet}
