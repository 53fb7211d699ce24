"""The updates the inbound throughput bench feeds: many residents, each going through a realistic session.

Every update is queued in the emulator before the bot starts, so each session must be valid without seeing the
bot's replies: menu buttons are pressed on menu messages made up for each press (menu button data carries no
nonce; a second press on one message would be a double tap), and flow steps that offer buttons are answered by typing the button's label, which the flows accept.
Users are interleaved step by step, as many people chatting at once would be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handlers import buttons
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from tests.emulator import TelegramEmulator
from tests.emulator.user import SimulatedUser

FIRST_USER = 700_000
QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "knowledge" / "questions.yaml"
# The resident's menu (handlers/data/menus.yaml), as the button pressed on it would show.
MENU = (
    ("complaint_new", "投诉举报"),
    ("complaint_mine", "我的投诉"),
    ("ask", "咨询标准"),
    ("profile", "我的信息"),
    ("help", "使用帮助"),
)
CATEGORIES = ("无证经营", "卫生条件差", "消防隐患")


@dataclass(frozen=True)
class Step:
    kind: str  # "command", "text" or "press"
    value: str


def session(questions: list[str], township: str, village: str, category: str) -> list[Step]:
    """One resident's visit: join, ask twice (free text, then through the menu), look at their profile and the
    help, file an anonymous complaint (nine steps), back to the menu: 3 commands, 3 presses, 10 texts."""
    return [
        Step("command", "/start"),
        Step("text", questions[0]),  # free text outside any flow: answered from the knowledge base
        Step("press", "ask"),
        Step("text", questions[1]),  # the ask flow's one step
        Step("press", "profile"),
        Step("command", "/help"),
        Step("press", "complaint_new"),
        Step("text", category),
        Step("text", township),
        Step("text", village),
        Step("text", "不清楚，跳过"),
        Step("text", "门口堆满杂物，晚上很吵，没有营业执照"),
        Step("text", "完成"),  # no photos
        Step("text", "匿名提交"),
        Step("text", "确认提交"),
        Step("command", "/menu"),
    ]


UPDATES_PER_USER = len(session(["", ""], "", "", ""))


def in_scope_questions() -> list[str]:
    entries = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [entry["q"] for entry in entries if entry.get("expect")]


def places() -> list[tuple[str, str]]:
    county = parse_area_file(SAMPLE_COUNTY)
    return [(township.name, village) for township in county.townships for village in township.villages]


def menu_message(emulator: TelegramEmulator, user: SimulatedUser) -> dict[str, Any]:
    """A menu the bot "sent" earlier, so presses arrive on a real message (and the bot marks the choice on it)."""
    keyboard = [[{"text": label, "callback_data": buttons.menu_data(action)}] for action, label in MENU]
    return emulator._new_message(
        user.chat, emulator.bot_user, {"text": "请选择要办理的事项", "reply_markup": {"inline_keyboard": keyboard}}
    )


@dataclass(frozen=True)
class Workload:
    users: int
    updates: int
    complaints: int  # complaints filed when every update was handled as a resident would expect


async def queue_workload(emulator: TelegramEmulator, users: int) -> Workload:
    questions, where = in_scope_questions(), places()
    people: list[tuple[SimulatedUser, dict[str, Any], list[Step]]] = []
    for index in range(users):
        person = emulator.user(FIRST_USER + index, f"居民{index}")
        township, village = where[index % len(where)]
        asked = [questions[(2 * index) % len(questions)], questions[(2 * index + 1) % len(questions)]]
        people.append(
            (
                person,
                menu_message(emulator, person),
                session(asked, township, village, CATEGORIES[index % len(CATEGORIES)]),
            )
        )
    senders: dict[str, Callable[[SimulatedUser, dict[str, Any], str], Any]] = {
        "command": lambda person, _menu, value: person.send_command(value),
        "text": lambda person, _menu, value: person.send_text(value),
        # Each press on a menu of its own, as in Telegram: a menu's buttons are gone once one of them was taken.
        "press": lambda person, _menu, value: person.press_data(
            buttons.menu_data(value), menu_message(emulator, person)["message_id"]
        ),
    }
    updates = 0
    for position in range(max(len(steps) for _, _, steps in people)):
        for person, menu, steps in people:
            if position < len(steps):
                step = steps[position]
                await senders[step.kind](person, menu, step.value)
                updates += 1
    return Workload(users, updates, complaints=users)
