"""Broadcasts (发布通知): the county office writes an announcement, picks who and where, previews it with the
number of recipients, and confirms; one outbox row per recipient.

A text over MAX_TEXT is refused rather than split: parts of one notice could be read out of order or half, and
the author knows best where to cut. MAX_TEXT leaves room for the header and signature inside Telegram's 4096.
"""

from __future__ import annotations

import logging
import re

from handlers import buttons
from handlers.context import Turn
from handlers.events import Inbound, Kind, Reply
from handlers.flow import Flow, Invalid, Option, Prompt, Step, parse_option
from handlers.flow_state import FlowState
from handlers.formatting import cn_date
from handlers.work_groups import push_replies
from storage import work_groups
from storage.audience import audience, list_townships
from storage.channel_models import WorkGroup
from storage.models import Role, User

log = logging.getLogger(__name__)

MIN_TEXT, MAX_TEXT = 2, 3500
# Who may be addressed, as preset groups (a step takes one choice); the county's own staff only in "all".
GROUPS: dict[str, tuple[Role, ...]] = {
    "township": (Role.TOWNSHIP,),
    "cadre": (Role.CADRE,),
    "officials": (Role.TOWNSHIP, Role.CADRE),
    "operator": (Role.OPERATOR,),
    "all": (Role.TOWNSHIP, Role.CADRE, Role.OPERATOR, Role.COUNTY),
}
ALL_AREAS = "all"


async def start(turn: Turn) -> list[Reply]:
    if turn.user.role != Role.COUNTY:  # menus.yaml refuses first; this guards against a changed menu file
        return [turn.menu_reply(turn.texts("bc_only_county"))]
    return await turn.runner.start(turn, "broadcast")


class BroadcastAnswers(FlowState):
    text: str = ""
    roles: str = ""  # a key of GROUPS
    area: str = ""  # ALL_AREAS or t<township id>
    confirm: str = ""


async def _text_prompt(turn: Turn, answers: BroadcastAnswers) -> Prompt:
    return Prompt(turn.texts("bc_ask_text", min=MIN_TEXT, max=MAX_TEXT))


async def _parse_text(turn: Turn, inbound: Inbound, prompt: Prompt, answers: BroadcastAnswers) -> str:
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    # Keep the author's line breaks; trim each line and squeeze runs of blank lines.
    lines = [line.strip() for line in inbound.text.strip().splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    if len(text) < MIN_TEXT:
        raise Invalid(turn.texts("text_too_short", min=MIN_TEXT))
    if len(text) > MAX_TEXT:
        raise Invalid(turn.texts("bc_too_long", got=len(text), max=MAX_TEXT))
    return text


async def _roles_prompt(turn: Turn, answers: BroadcastAnswers) -> Prompt:
    options = tuple(Option(group, turn.texts(f"bc_role_{group}")) for group in GROUPS)
    return Prompt(turn.texts("bc_ask_roles"), options, columns=2)


async def _area_prompt(turn: Turn, answers: BroadcastAnswers) -> Prompt:
    townships = await list_townships(turn.session)
    options = (Option(ALL_AREAS, turn.texts("bc_area_all")), *(Option(f"t{t.id}", t.name) for t in townships))
    return Prompt(turn.texts("bc_ask_area"), options, columns=2)


async def _choice(turn: Turn, answers: BroadcastAnswers) -> tuple[str, str, list[User]]:
    """The chosen group and area as named to the author, and who they reach now."""
    group, area = answers.roles, answers.area
    township_id = None if area == ALL_AREAS else int(area[1:])
    area_name = turn.texts("bc_area_all")
    if township_id is not None:
        names = {t.id: t.name for t in await list_townships(turn.session)}
        area_name = names.get(township_id, area_name)
    people = await audience(turn.session, GROUPS[group], township_id, exclude_user_id=turn.user.id)
    return turn.texts(f"bc_role_{group}"), area_name, people


def _message(turn: Turn, answers: BroadcastAnswers) -> str:
    return turn.texts("bc_message", text=answers.text, sender=turn.user.name or "", date=cn_date(turn.clock.now()))


async def _confirm_prompt(turn: Turn, answers: BroadcastAnswers) -> Prompt:
    roles, area, people = await _choice(turn, answers)
    rechoose = Option("rechoose", turn.texts("bc_rechoose"))
    cancel = Option("cancel", turn.texts("bc_cancel"))
    if not people:
        return Prompt(
            turn.texts("bc_preview_empty", message=_message(turn, answers), roles=roles, area=area), (rechoose, cancel)
        )
    return Prompt(
        turn.texts("bc_preview", message=_message(turn, answers), roles=roles, area=area, n=len(people)),
        (Option("send", turn.texts("bc_send")), rechoose, cancel),
    )


async def _parse_confirm(turn: Turn, inbound: Inbound, prompt: Prompt, answers: BroadcastAnswers) -> str:
    # "send" stays a valid press when the audience emptied after the preview: the finish then says so plainly.
    pressed = buttons.decode(inbound.data) if inbound.kind is Kind.PRESS else None
    if pressed is not None and pressed.value in ("send", "rechoose", "cancel"):
        return pressed.value
    return await parse_option(turn, inbound, prompt)


async def _finish(turn: Turn, answers: BroadcastAnswers) -> list[Reply]:
    if answers.confirm != "send":
        return [turn.menu_reply(turn.texts("bc_cancelled"))]
    if turn.user.role != Role.COUNTY:
        return [turn.menu_reply(turn.texts("bc_only_county"))]
    roles, area, people = await _choice(turn, answers)
    if not people:  # the audience can change between the preview and the press
        return [turn.menu_reply(turn.texts("bc_empty"))]
    message = _message(turn, answers)
    turn.notices.extend(Reply(message, chat_id=person.channel_user_id) for person in people)
    log.info("broadcast by user %s queued for %d recipients", turn.user.id, len(people))
    sent = turn.texts("bc_sent", n=len(people), roles=roles, area=area)
    groups = await _work_groups(turn, answers)
    if groups:
        await push_replies(turn.session, groups, [Reply(message)], turn.clock.now())
        sent += turn.texts("bc_sent_groups", groups=len(groups))
    return [turn.menu_reply(sent)]


async def _work_groups(turn: Turn, answers: BroadcastAnswers) -> list[WorkGroup]:
    """A broadcast to officials also goes to the work groups of its area (all of them for the whole county)."""
    if answers.roles == "operator":
        return []
    area = answers.area
    if area == ALL_AREAS:
        return [group for group, _ in await work_groups.all_groups(turn.session)]
    return await work_groups.groups_of(turn.session, [int(area[1:])])


BROADCAST = Flow(
    "broadcast",
    "发布通知",
    (
        Step("text", _text_prompt, _parse_text),
        Step("roles", _roles_prompt),
        Step("area", _area_prompt),
        Step(
            "confirm",
            _confirm_prompt,
            _parse_confirm,
            next=lambda answers: "roles" if answers.confirm == "rechoose" else None,
        ),
    ),
    _finish,
    state=BroadcastAnswers,
)
