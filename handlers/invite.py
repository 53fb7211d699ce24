"""Officials create invite codes in chat: the county for anyone, a township for its own villages."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Turn
from handlers.events import Inbound, Reply
from handlers.flow import Flow, Option, Prompt, Step, parse_option
from handlers.flow_state import FlowState
from handlers.formatting import cn_datetime
from storage import invites
from storage.areas import area_path, children_of, get_area
from storage.models import Area, AreaLevel, Role

# Which roles each inviter may hand out.
GRANTS: dict[str, tuple[Role, ...]] = {
    Role.COUNTY: (Role.CADRE, Role.TOWNSHIP, Role.OPERATOR, Role.COUNTY),
    Role.TOWNSHIP: (Role.CADRE, Role.OPERATOR),
}
NEEDS_VILLAGE = (Role.CADRE, Role.OPERATOR)


class InviteAnswers(FlowState):
    role: Role | None = None
    township: int | None = None
    village: int | None = None
    confirm: str = ""


async def _role_prompt(turn: Turn, answers: InviteAnswers) -> Prompt:
    grants = GRANTS.get(turn.user.role, ())
    options = tuple(Option(role.value, turn.menus.title(role)) for role in grants)
    return Prompt(turn.texts("invite_ask_role"), options, columns=2)


async def _parse_role(turn: Turn, inbound: Inbound, prompt: Prompt, answers: InviteAnswers) -> tuple[str, int | None]:
    """The role, and the township it is for when the inviter is a township official (their own, always)."""
    role = await parse_option(turn, inbound, prompt)
    return role, turn.user.area_id if turn.user.role == Role.TOWNSHIP else None


def _store_role(answers: InviteAnswers, value: tuple[str, int | None]) -> None:
    answers.role, answers.township = Role(value[0]), value[1]


async def _township_prompt(turn: Turn, answers: InviteAnswers) -> Prompt:
    townships = list(
        (await turn.session.scalars(select(Area).where(Area.level == AreaLevel.TOWNSHIP).order_by(Area.id))).unique()
    )
    options = tuple(Option(str(area.id), area.name) for area in townships)
    return Prompt(turn.texts("invite_ask_township"), options, columns=3)


async def _village_prompt(turn: Turn, answers: InviteAnswers) -> Prompt:
    assert answers.township is not None
    villages = await children_of(turn.session, answers.township)
    options = tuple(Option(str(area.id), area.name) for area in villages)
    return Prompt(turn.texts("invite_ask_village"), options, columns=3)


async def _target_area(turn: Turn, answers: InviteAnswers) -> Area | None:
    if answers.role == Role.COUNTY:
        return None
    area_id = answers.village if answers.role in NEEDS_VILLAGE else answers.township
    return await get_area(turn.session, area_id) if area_id is not None else None


async def _confirm_prompt(turn: Turn, answers: InviteAnswers) -> Prompt:
    area = await _target_area(turn, answers)
    role_title = turn.menus.title(answers.role or "")
    summary = f"{role_title}（{area_path(area)}）" if area else role_title
    options = (Option("yes", turn.texts("button_confirm")), Option("no", turn.texts("button_cancel")))
    return Prompt(turn.texts("invite_confirm", summary=summary), options, columns=2)


def _after_role(answers: InviteAnswers) -> str:
    if answers.role == Role.COUNTY:
        return "confirm"
    # A township official invites only into their own township, which the role's answer carries.
    return "village" if answers.township is not None else "township"


def _after_township(answers: InviteAnswers) -> str:
    return "village" if answers.role in NEEDS_VILLAGE else "confirm"


async def _finish(turn: Turn, answers: InviteAnswers) -> list[Reply]:
    if answers.confirm != "yes" or answers.role is None:
        return [turn.menu_reply(turn.texts("cancelled", title="生成邀请码"))]
    area = await _target_area(turn, answers)
    invite = await invites.create_invite(
        turn.session, answers.role, area, turn.clock.now(), turn.config.invite_valid_for, turn.user
    )
    role_title = turn.menus.title(invite.role)
    who = f"{role_title}（{area_path(area)}）" if area else role_title
    text = turn.texts(
        "invite_created", code=invite.code, who=who, expires=cn_datetime(invite.expires_at, turn.clock.tz)
    )
    return [turn.menu_reply(text)]


INVITE = Flow(
    "invite",
    "生成邀请码",
    (
        Step("role", _role_prompt, _parse_role, store=_store_role, next=_after_role),
        Step("township", _township_prompt, next=_after_township),
        Step("village", _village_prompt, next="confirm"),
        Step("confirm", _confirm_prompt, next=None),
    ),
    _finish,
    state=InviteAnswers,
)
