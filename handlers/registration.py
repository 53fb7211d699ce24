"""Joining: residents just press /start; staff and operators redeem a single-use invite code."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import access, owner_binding
from handlers.context import Turn
from handlers.events import Inbound, Kind, Reply
from handlers.flow import Flow, Invalid, Option, Prompt, Step, text_parser
from handlers.flow_state import FlowState
from handlers.texts import Texts
from storage import invites, people, users
from storage.areas import area_path
from storage.conversations import load_conversation
from storage.models import Invite, Role, User

log = logging.getLogger(__name__)

NAME_MIN, NAME_MAX = 2, 20


def looks_like_invite(text: str) -> bool:
    return invites.looks_like_code(text)


def _invite_problem_text(texts: Texts, problem: invites.InviteProblem) -> str:
    return texts(f"invite_{problem.value}")


# Failed codes per sender (a chat account, registered or not): after FAILED_CODES_ALLOWED wrong codes within
# FAILED_CODES_WINDOW the next codes are not even looked up until the oldest of them is that old. A person who
# mistypes has five tries; a guesser gets 720 a day against 31^8 ≈ 8.5e11 codes (31^12 for county codes).
FAILED_CODES_ALLOWED = 5
FAILED_CODES_WINDOW = timedelta(minutes=10)


async def _usable_invite(
    session: AsyncSession, texts: Texts, channel_user_id: int, code: str, now: datetime
) -> Invite | str:
    """The open invite a sent code names, or what to tell the sender (the failure counted and logged)."""
    failures = await invites.recent_failures(session, channel_user_id, now - FAILED_CODES_WINDOW)
    if len(failures) >= FAILED_CODES_ALLOWED:
        free_at = failures[len(failures) - FAILED_CODES_ALLOWED] + FAILED_CODES_WINDOW
        log.warning(
            "invite code from user %s not looked up: %d failed codes in %s",
            channel_user_id,
            len(failures),
            FAILED_CODES_WINDOW,
        )
        return texts("invite_too_many", minutes=max(1, math.ceil((free_at - now).total_seconds() / 60)))
    invite = await invites.find_invite(session, code)
    problem = invites.check_invite(invite, now)
    if problem is None and invite is not None:
        return invite
    return await _failed(session, texts, channel_user_id, code, problem or invites.InviteProblem.UNKNOWN, now)


async def _failed(
    session: AsyncSession, texts: Texts, channel_user_id: int, code: str, problem: invites.InviteProblem, now: datetime
) -> str:
    await invites.record_failure(session, channel_user_id, now, FAILED_CODES_WINDOW)
    log.warning(
        "invite code refused for user %s: %s (code %s…)", channel_user_id, problem.value, invites.code_prefix(code)
    )
    return _invite_problem_text(texts, problem)


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
    invite = await _usable_invite(session, texts, inbound.user_id, code, now)
    if isinstance(invite, str):
        return None, [Reply(f"{invite}\n\n{texts('unknown_user')}")]
    gone = await owner_binding.unit_gone(session, texts, invite)
    if gone is not None:
        return None, [Reply(f"{gone}\n\n{texts('unknown_user')}")]
    user = await users.create_user(session, inbound.user_id, now)
    if not await invites.claim(session, invite, user, now):
        # Someone else's redemption of the same code committed first: this sender stays unregistered.
        await people.discard_new(session, user)
        refused = await _failed(session, texts, inbound.user_id, code, invites.InviteProblem.USED, now)
        return None, [Reply(f"{refused}\n\n{texts('unknown_user')}")]
    await users.assign_role(session, user, Role(invite.role), invite.area)
    await owner_binding.bind_from_invite(session, invite, user, now)
    return user, []


async def redeem(turn: Turn, code: str) -> list[Reply]:
    """A known user sends a code: an official taking up a post, or a resident becoming an operator. An official's
    role is never replaced without asking: they confirm first, with a button valid for this code only."""
    now = turn.clock.now()
    invite = await _usable_invite(turn.session, turn.texts, turn.user.channel_user_id, code, now)
    if isinstance(invite, str):
        return [turn.menu_reply(invite)]
    gone = await owner_binding.unit_gone(turn.session, turn.texts, invite)
    if gone is not None:
        return [turn.menu_reply(gone)]
    if invite.unit_id is not None and turn.user.role == Role.OPERATOR:
        # An owner with a code for another (or the same) unit: the unit is added, the role stays.
        return await owner_binding.add_unit(turn, invite)
    if invite.role == turn.user.role and invite.area_id == turn.user.area_id:
        return [turn.menu_reply(turn.texts("invite_same_identity", identity=turn.identity()))]
    if turn.user.role not in access.OFFICIALS:
        return await _take(turn, invite)
    if turn.user.role == Role.COUNTY and len(await people.list_people(turn.session, (Role.COUNTY,))) <= 1:
        return [turn.menu_reply(turn.texts("invite_switch_last_county"))]
    conversation = await load_conversation(turn.session, turn.user.id)
    if conversation is not None and conversation.flow != INVITE_SWITCH.name:
        return [
            await turn.runner.reprompt(
                turn, conversation, turn.texts("invite_switch_busy", title=turn.runner.title(conversation))
            )
        ]
    new = access.identity(turn.menus, invite.role, invite.area)
    return await turn.runner.start(turn, INVITE_SWITCH.name, SwitchAnswers(invite=invite.id, new=new))


async def _take(turn: Turn, invite: Invite) -> list[Reply]:
    """Redeem the code for the turn's user: the code is claimed and the role changed in this one transaction."""
    now, user = turn.clock.now(), turn.user
    before_role, before = user.role, turn.identity()
    if (
        before_role == Role.COUNTY
        and invite.role != Role.COUNTY
        and await access.is_last_county_official(turn.session, user)
    ):
        return [turn.menu_reply(turn.texts("invite_switch_last_county"))]
    if not await invites.claim(turn.session, invite, user, now):
        return [
            turn.menu_reply(
                await _failed(
                    turn.session, turn.texts, user.channel_user_id, invite.code, invites.InviteProblem.USED, now
                )
            )
        ]
    await users.assign_role(turn.session, user, Role(invite.role), invite.area)
    await owner_binding.bind_from_invite(turn.session, invite, user, now)
    if before_role in access.OFFICIALS:
        turn.notices.extend(
            await access.role_changed_notices(turn.session, turn.texts, turn.menus, user, before, invite)
        )
    return await after_registration(turn)


class SwitchAnswers(FlowState):
    invite: int  # the one code this confirmation is about
    new: str  # the identity it gives, as shown
    confirm: str = ""


def _switch_yes(answers: SwitchAnswers) -> str:
    """The confirm button's choice names the code: a button of an earlier prompt for another code never matches
    (even one with the same nonce)."""
    return f"y{answers.invite}"


async def _switch_prompt(turn: Turn, answers: SwitchAnswers) -> Prompt:
    options = (
        Option(_switch_yes(answers), turn.texts("button_switch_confirm")),
        Option("no", turn.texts("button_switch_keep")),
    )
    return Prompt(turn.texts("invite_switch_confirm", current=turn.identity(), new=answers.new), options, 2)


async def _finish_switch(turn: Turn, answers: SwitchAnswers) -> list[Reply]:
    if answers.confirm != _switch_yes(answers):
        return [turn.menu_reply(turn.texts("invite_switch_kept", identity=turn.identity()))]
    now = turn.clock.now()
    invite = await invites.get_invite(turn.session, answers.invite)
    problem = invites.check_invite(invite, now)
    if problem is not None or invite is None:
        return [turn.menu_reply(_invite_problem_text(turn.texts, problem or invites.InviteProblem.UNKNOWN))]
    return await _take(turn, invite)


# The confirmation an official gives before a code replaces their role; the flow's data names that one code.
INVITE_SWITCH = Flow(
    "invite_switch", "更换身份", (Step("confirm", _switch_prompt, next=None),), _finish_switch, state=SwitchAnswers
)


async def after_registration(turn: Turn) -> list[Reply]:
    if turn.user.role != Role.RESIDENT and not turn.user.name:
        lead = turn.texts("registered", identity=turn.identity())
        replies = await turn.runner.start(turn, "register")
        return [Reply(lead), *replies]
    if turn.user.role == Role.RESIDENT:
        return [turn.menu_reply()]
    return [turn.menu_reply(turn.texts("registered", identity=turn.identity()))]


class NameAnswers(FlowState):
    name: str = ""


async def _name_prompt(turn: Turn, answers: NameAnswers) -> Prompt:
    return Prompt(turn.texts("ask_name", min=NAME_MIN, max=NAME_MAX))


_parse_name_text = text_parser(NAME_MIN, NAME_MAX)


async def parse_name(turn: Turn, inbound: Inbound, prompt: Prompt, answers: Any = None) -> str:
    name = await _parse_name_text(turn, inbound, prompt, answers)
    if any(ch.isdigit() for ch in name) or "/" in name:
        raise Invalid(turn.texts("name_invalid"))
    return name


async def _finish_register(turn: Turn, answers: NameAnswers) -> list[Reply]:
    users.set_name(turn.user, answers.name)
    return [turn.menu_reply(turn.texts("register_done", name=answers.name, identity=turn.identity()))]


async def _finish_rename(turn: Turn, answers: NameAnswers) -> list[Reply]:
    users.set_name(turn.user, answers.name)
    return [turn.menu_reply(turn.texts("rename_done", name=answers.name))]


REGISTER = Flow("register", "登记姓名", (Step("name", _name_prompt, parse_name),), _finish_register, state=NameAnswers)
RENAME = Flow("rename", "修改姓名", (Step("name", _name_prompt, parse_name),), _finish_rename, state=NameAnswers)


def describe(user: User, texts: Texts, role_title: str) -> str:
    where = area_path(user.area) or texts("no_area")
    return texts("profile", name=user.name or texts("no_name"), role=role_title, area=where)
