"""Menu actions: what each menu button does. Which roles see which action is data (menus.yaml)."""

from __future__ import annotations

from typing import Any

from handlers import (
    ask,
    broadcast,
    closures,
    complaints,
    group_admin,
    milestones,
    owner_fix,
    owners,
    people,
    self_check,
)
from handlers.context import Turn
from handlers.core import Action
from handlers.events import Reply
from handlers.flow import Flow
from handlers.inspection import review as inspection_review
from handlers.inspection.report import INSPECTION
from handlers.inspection.review import REVIEW
from handlers.invite import INVITE
from handlers.registration import INVITE_SWITCH, REGISTER, RENAME, describe
from handlers.report import report
from handlers.web_access import web_console


async def profile(turn: Turn) -> list[Reply]:
    return [turn.menu_reply(describe(turn.user, turn.texts, turn.role_title))]


async def rename(turn: Turn) -> list[Reply]:
    return await turn.runner.start(turn, "rename")


async def invite(turn: Turn) -> list[Reply]:
    return await turn.runner.start(turn, "invite")


async def show_help(turn: Turn) -> list[Reply]:
    return [turn.menu_reply(turn.texts(f"help_{turn.user.role}"))]


ACTIONS: dict[str, Action] = {"profile": profile, "rename": rename, "invite": invite, "help": show_help}
ACTIONS |= {
    "ask": ask.ask,
    "kb": ask.show_entry,
    "questions": ask.question_queue,
    "kb_answer": ask.start_answer,
    "kb_learn": ask.learn,
    "kb_paraphrase": ask.start_paraphrase,
}
ACTIONS |= {
    "report": report,
    "inspect": inspection_review.inspect,
    "review": inspection_review.review,
    "fix": inspection_review.fix,
    "overdue": inspection_review.overdue,
}
ACTIONS |= complaints.ACTIONS
# Slash commands that run an action (the action reads its argument from turn.argument).
COMMANDS: dict[str, str] = {
    "profile": "profile",
    "invite": "invite",
    "inspect": "inspect",
    "review": "review",
    "report": "report",
}
COMMANDS |= complaints.COMMANDS
COMMANDS |= {"ask": "ask"}
FLOWS: dict[str, Flow[Any]] = {
    flow.name: flow
    for flow in (REGISTER, RENAME, INVITE, INSPECTION, REVIEW, ask.ASK, ask.KB_ANSWER, ask.KB_PARAPHRASE)
}
FLOWS |= {flow.name: flow for flow in complaints.FLOWS}
# Plan milestones (计划节点) and broadcasts (发布通知).
ACTIONS |= {
    "milestones": milestones.overview,
    "ms_done": milestones.mark,
    "ms_view": milestones.view,
    "broadcast": broadcast.start,
}
FLOWS |= {flow.name: flow for flow in (milestones.MILESTONE_DONE, broadcast.BROADCAST)}
# 待关停单位: recording a verified closure (已关停 / 已取缔).
ACTIONS |= {"closures": closures.closures_action}
FLOWS |= {closures.CLOSURE.name: closures.CLOSURE}
# 人员管理 (the county office revokes people and codes) and an official's confirmation before a code replaces
# their role.
ACTIONS |= people.ACTIONS
FLOWS |= {flow.name: flow for flow in (*people.FLOWS, INVITE_SWITCH)}
# /web: a sign-in link to the office's web console, or signing out of it everywhere.
ACTIONS |= {"web": web_console}
COMMANDS |= {"web": "web"}
# 工作群 (the county office's DingTalk and WeCom work groups).
ACTIONS |= group_admin.ACTIONS
FLOWS |= {flow.name: flow for flow in group_admin.FLOWS}
# The shop owner in the loop: codes bound to a unit, 我的单位, a unit's card, the 整改告知单.
ACTIONS |= owners.ACTIONS
ACTIONS |= {"fix_report": owner_fix.start, "self_check": self_check.start}
FLOWS |= {flow.name: flow for flow in (owner_fix.OWNER_FIX, self_check.SELF_CHECK)}
