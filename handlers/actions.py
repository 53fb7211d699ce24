"""Menu actions: what each menu button does. Which roles see which action is data (menus.yaml)."""

from __future__ import annotations

from handlers.context import Turn
from handlers.core import Action
from handlers.events import Reply
from handlers.flow import Flow
from handlers.inspection import review as inspection_review
from handlers.inspection.report import INSPECTION
from handlers.inspection.review import REVIEW
from handlers.invite import INVITE
from handlers.registration import REGISTER, RENAME, describe


async def profile(turn: Turn) -> list[Reply]:
    return [turn.menu_reply(describe(turn.user, turn.texts, turn.role_title))]


async def rename(turn: Turn) -> list[Reply]:
    return await turn.runner.start(turn, "rename")


async def invite(turn: Turn) -> list[Reply]:
    return await turn.runner.start(turn, "invite")


async def show_help(turn: Turn) -> list[Reply]:
    return [turn.menu_reply(turn.texts(f"help_{turn.user.role}"))]


ACTIONS: dict[str, Action] = {"profile": profile, "rename": rename, "invite": invite, "help": show_help}
ACTIONS |= {"inspect": inspection_review.inspect, "review": inspection_review.review, "fix": inspection_review.fix,
            "overdue": inspection_review.overdue}
# Slash commands that run an action (the action reads its argument from turn.argument).
COMMANDS: dict[str, str] = {"profile": "profile", "invite": "invite", "inspect": "inspect", "review": "review"}
FLOWS: dict[str, Flow] = {flow.name: flow for flow in (REGISTER, RENAME, INVITE, INSPECTION, REVIEW)}
