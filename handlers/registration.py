"""Joining: residents just press /start; staff and operators redeem a single-use invite code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Turn
from handlers.events import Inbound, Kind, Reply
from handlers.flow import Flow, Invalid, Prompt, Step, text_parser
from handlers.texts import Texts
from storage import invites, users
from storage.areas import area_path
from storage.models import Invite, Role, User

NAME_MIN, NAME_MAX = 2, 20


def looks_like_invite(text: str) -> bool:
    return invites.looks_like_code(text)


def _invite_problem_text(texts: Texts, problem: invites.InviteProblem) -> str:
    return texts(f"invite_{problem.value}")


async def admit_unknown(
    session: AsyncSession, inbound: Inbound, texts: Texts, now: datetime
) -> tuple[User | None, list[Reply]]:
    """A first message from someone the bot has never seen. Only /start or a valid code creates a user."""
    code = None
    if inbound.kind is Kind.COMMAND and inbound.command == "start":
        code = inbound.text.strip() or None
        if code is None:
            user = await users.create_user(session, inbound.user_id, now, Role.RESIDENT)
            return user, [Reply(texts("welcome_resident"))]
    elif inbound.kind is Kind.TEXT and looks_like_invite(inbound.text):
        code = inbound.text
    if code is None:
        return None, [Reply(texts("unknown_user"))]
    invite = await invites.find_invite(session, code)
    problem = invites.check_invite(invite, now)
    if problem is not None or invite is None:
        return None, [Reply(f"{_invite_problem_text(texts, problem)}\n\n{texts('unknown_user')}")]
    user = await users.create_user(session, inbound.user_id, now)
    await _apply(session, user, invite, now)
    return user, []


async def _apply(session: AsyncSession, user: User, invite: Invite, now: datetime) -> None:
    await users.assign_role(session, user, Role(invite.role), invite.area)
    invites.mark_used(invite, user, now)


async def redeem(turn: Turn, code: str) -> list[Reply]:
    """A known user sends a code: an official taking up a post, or a resident becoming an operator."""
    now = turn.clock.now()
    invite = await invites.find_invite(turn.session, code)
    problem = invites.check_invite(invite, now)
    if problem is not None or invite is None:
        return [turn.menu_reply(_invite_problem_text(turn.texts, problem))]
    await _apply(turn.session, turn.user, invite, now)
    return await after_registration(turn)


async def after_registration(turn: Turn) -> list[Reply]:
    if turn.user.role != Role.RESIDENT and not turn.user.name:
        lead = turn.texts("registered", identity=turn.identity())
        replies = await turn.runner.start(turn, "register")
        return [Reply(lead), *replies]
    if turn.user.role == Role.RESIDENT:
        return [turn.menu_reply()]
    return [turn.menu_reply(turn.texts("registered", identity=turn.identity()))]


async def _name_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("ask_name", min=NAME_MIN, max=NAME_MAX))


_parse_name_text = text_parser(NAME_MIN, NAME_MAX)


async def parse_name(turn: Turn, inbound: Inbound, prompt: Prompt) -> str:
    name = await _parse_name_text(turn, inbound, prompt)
    if any(ch.isdigit() for ch in name) or "/" in name:
        raise Invalid(turn.texts("name_invalid"))
    return name


async def _finish_register(turn: Turn) -> list[Reply]:
    users.set_name(turn.user, turn.data["name"])
    return [turn.menu_reply(turn.texts("register_done", name=turn.data["name"], identity=turn.identity()))]


async def _finish_rename(turn: Turn) -> list[Reply]:
    users.set_name(turn.user, turn.data["name"])
    return [turn.menu_reply(turn.texts("rename_done", name=turn.data["name"]))]


REGISTER = Flow("register", "登记姓名", (Step("name", _name_prompt, parse_name),), _finish_register)
RENAME = Flow("rename", "修改姓名", (Step("name", _name_prompt, parse_name),), _finish_rename)


def describe(user: User, texts: Texts, role_title: str) -> str:
    where = area_path(user.area) or texts("no_area")
    return texts("profile", name=user.name or texts("no_name"), role=role_title, area=where)
