"""Officials create invite codes in chat: the county for anyone, a township for its own villages."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Turn
from handlers.events import Reply
from handlers.flow import Flow, Option, Prompt, Step
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


async def _role_prompt(turn: Turn) -> Prompt:
    grants = GRANTS.get(turn.user.role, ())
    options = tuple(Option(role.value, turn.menus.title(role)) for role in grants)
    return Prompt(turn.texts("invite_ask_role"), options, columns=2)


async def _township_prompt(turn: Turn) -> Prompt:
    townships = list(
        (await turn.session.scalars(select(Area).where(Area.level == AreaLevel.TOWNSHIP).order_by(Area.id))).unique()
    )
    options = tuple(Option(str(area.id), area.name) for area in townships)
    return Prompt(turn.texts("invite_ask_township"), options, columns=3)


async def _village_prompt(turn: Turn) -> Prompt:
    township_id = int(turn.data["township"])
    villages = await children_of(turn.session, township_id)
    options = tuple(Option(str(area.id), area.name) for area in villages)
    return Prompt(turn.texts("invite_ask_village"), options, columns=3)


async def _target_area(turn: Turn) -> Area | None:
    role = turn.data["role"]
    if role == Role.COUNTY:
        return None
    key = "village" if role in NEEDS_VILLAGE else "township"
    return await get_area(turn.session, int(turn.data[key]))


async def _confirm_prompt(turn: Turn) -> Prompt:
    area = await _target_area(turn)
    role_title = turn.menus.title(turn.data["role"])
    summary = f"{role_title}（{area_path(area)}）" if area else role_title
    options = (Option("yes", turn.texts("button_confirm")), Option("no", turn.texts("button_cancel")))
    return Prompt(turn.texts("invite_confirm", summary=summary), options, columns=2)


def _after_role(turn: Turn) -> str | None:
    role = turn.data["role"]
    if role == Role.COUNTY:
        return "confirm"
    if turn.user.role == Role.TOWNSHIP:
        # A township official invites only into their own township.
        turn.data["township"] = str(turn.user.area_id)
        return "village"
    return "township"


def _after_township(turn: Turn) -> str | None:
    return "village" if turn.data["role"] in NEEDS_VILLAGE else "confirm"


async def _finish(turn: Turn) -> list[Reply]:
    if turn.data.get("confirm") != "yes":
        return [turn.menu_reply(turn.texts("cancelled", title="生成邀请码"))]
    area = await _target_area(turn)
    invite = await invites.create_invite(
        turn.session, Role(turn.data["role"]), area, turn.clock.now(), turn.config.invite_valid_for, turn.user
    )
    role_title = turn.menus.title(invite.role)
    who = f"{role_title}（{area_path(area)}）" if area else role_title
    text = turn.texts("invite_created", code=invite.code, who=who,
                      expires=cn_datetime(invite.expires_at, turn.clock.tz))
    return [turn.menu_reply(text)]


INVITE = Flow(
    "invite",
    "生成邀请码",
    (
        Step("role", _role_prompt, next=_after_role),
        Step("township", _township_prompt, next=_after_township),
        Step("village", _village_prompt, next="confirm"),
        Step("confirm", _confirm_prompt, next=None),
    ),
    _finish,
)
