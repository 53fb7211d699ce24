"""自查: the owner runs their unit's industry checklist themselves, from the unit's card. It is stored as a 自查
record (storage.owner_models.SelfCheck), never as an inspection: it counts in no 达标率, digest, export or milestone.
It ends with the items that would fail, each with what the standard requires and how to put it right (the same
guidance the owner's notice gives); the owner, the village's cadres and the township see the last one on the card.

A one-step flow (item, asked again until every applicable item has an answer); nothing is stored until the last
answer, so a 自查 left midway leaves nothing behind."""

from __future__ import annotations

import logging

from pydantic import Field

from handlers.context import Turn
from handlers.events import Inbound, Reply
from handlers.flow import Flow, Option, Prompt, Step, parse_option
from handlers.flow_state import FlowState
from handlers.formatting import cn_date
from handlers.inspection.checklist_steps import answer_options
from handlers.owner_notice import GUIDANCE_MAX, item_guidance
from knowledge.models import Checklist
from storage import owners, units
from storage.models import Role
from storage.owner_models import SelfCheck

log = logging.getLogger(__name__)

PASS, FAIL, NA, HELP = "pass", "fail", "na", "help"
MESSAGE_MAX = 4000
CARD_ITEMS = 5  # failed items of the last 自查 listed on the card


class SelfCheckAnswers(FlowState):
    unit_id: int
    unit_name: str = ""
    industry: str = ""
    answers: dict[str, str] = Field(default_factory=dict)
    cursor: str | None = None
    item: str = ""  # the item step's last answer
    help_for: str | None = None


def _checklist(turn: Turn, industry: str) -> Checklist | None:
    return turn.knowledge.checklists.get(industry) if turn.knowledge else None


def _pending(checklist: Checklist, answers: dict[str, str]) -> str | None:
    return next((item.id for item in checklist.applicable(answers) if item.id not in answers), None)


async def start(turn: Turn) -> list[Reply]:
    """自查 on the owner's unit card (m.self_check.<unit id>): an owner's own unit only."""
    unit_id = turn.argument_id
    unit = await units.get_unit(turn.session, unit_id) if unit_id else None
    if unit is None or turn.user.role != Role.OPERATOR or not await owners.owns(turn.session, turn.user.id, unit.id):
        log.info("user %s refused 自查 of unit %s", turn.user.id, turn.argument[:12])
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    assert unit is not None
    checklist = _checklist(turn, unit.industry)
    if checklist is None or not owners.bindable(unit):
        return [turn.menu_reply(turn.texts("self_check_unavailable", unit=unit.name))]
    answers = SelfCheckAnswers(
        unit_id=unit.id, unit_name=unit.name, industry=unit.industry, cursor=_pending(checklist, {})
    )
    return await turn.runner.start(turn, SELF_CHECK.name, answers)


async def _item_prompt(turn: Turn, answers: SelfCheckAnswers) -> Prompt:
    checklist = _checklist(turn, answers.industry)
    assert checklist is not None and answers.cursor is not None
    item = checklist.item(answers.cursor)
    number, follow = checklist.position(item.id)
    text = turn.texts(
        "self_check_item_follow_up" if follow else "self_check_item",
        unit=answers.unit_name,
        n=number,
        total=checklist.total,
        k=follow,
        text=item.text,
    )
    if answers.help_for == item.id:
        text += "\n\n" + turn.texts("insp_item_help", help=item.help, source=item.source)
    return Prompt(text, (*answer_options(turn, item), Option(HELP, turn.texts("insp_help"))), columns=3)


async def _parse_item(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: SelfCheckAnswers
) -> tuple[str, str | None]:
    """The answer, and the item asked after it (None: all answered)."""
    value = await parse_option(turn, inbound, prompt)
    checklist = _checklist(turn, answers.industry)
    assert checklist is not None and answers.cursor is not None
    if value == HELP:
        return value, answers.cursor
    return value, _pending(checklist, {**answers.answers, answers.cursor: value})


def _store_item(answers: SelfCheckAnswers, value: tuple[str, str | None]) -> None:
    answers.item, following = value
    answers.help_for = answers.cursor if answers.item == HELP else None
    if answers.item != HELP and answers.cursor is not None:
        answers.answers = {**answers.answers, answers.cursor: answers.item}
    answers.cursor = following


async def _finish(turn: Turn, answers: SelfCheckAnswers) -> list[Reply]:
    unit = await units.get_unit(turn.session, answers.unit_id)
    if unit is None or not await owners.owns(turn.session, turn.user.id, unit.id):
        return [turn.menu_reply(turn.texts("owner_unit_not_yours"))]
    checklist = _checklist(turn, answers.industry)
    applicable = {item.id for item in checklist.applicable(answers.answers)} if checklist else set()
    answered = {item_id: value for item_id, value in answers.answers.items() if item_id in applicable}
    await owners.record_self_check(turn.session, unit.id, turn.user.id, answers.industry, answered, turn.clock.now())
    log.info("owner %s finished a 自查 of unit %s", turn.user.id, unit.id)
    return [turn.menu_reply(result_text(turn, unit.name, answers.industry, answered))]


def result_text(turn: Turn, unit_name: str, industry: str, answered: dict[str, str]) -> str:
    """What the owner reads at the end: the counts, then each item that would fail with its guidance."""
    failed = item_guidance(turn.knowledge, industry, answered)
    counts = {value: sum(1 for answer in answered.values() if answer == value) for value in (PASS, FAIL, NA)}
    lines = [turn.texts("self_check_done", unit=unit_name, ok=counts[PASS], bad=counts[FAIL], na=counts[NA])]
    for number, item in enumerate(failed, start=1):
        guidance = item.guidance if len(item.guidance) <= GUIDANCE_MAX else item.guidance[:GUIDANCE_MAX] + "…"
        lines.append(
            turn.texts(
                "self_check_failed_item", n=number, requirement=item.requirement, source=item.source, guidance=guidance
            )
        )
    lines.append(turn.texts("self_check_tail" if failed else "self_check_all_good"))
    text = "\n\n".join(lines)
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


def card_lines(turn: Turn, check: SelfCheck | None) -> list[str]:
    """The unit card's lines on its last 自查 (an owner's, a cadre's and a township's card alike)."""
    if check is None:
        return []
    failed = item_guidance(turn.knowledge, check.industry, check.answers)
    day = cn_date(check.created_at, turn.clock.tz)
    lines = [turn.texts("self_check_card", date=day, n=len(failed))]
    lines += [f"  · {item.requirement}" for item in failed[:CARD_ITEMS]]
    if len(failed) > CARD_ITEMS:
        lines.append(turn.texts("self_check_card_more", n=len(failed) - CARD_ITEMS))
    return lines


SELF_CHECK = Flow(
    "self_check",
    "自查",
    (Step("item", _item_prompt, _parse_item, store=_store_item, next=lambda a: "item" if a.cursor else None),),
    _finish,
    state=SelfCheckAnswers,
)
