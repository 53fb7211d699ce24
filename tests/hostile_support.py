"""The machinery of the hostile-input tests: hypothesis strategies for hostile events, and a driver that sends
them to the core as a cast of people of every role and checks every answer (tests/test_hostile_input.py)."""

from __future__ import annotations

import logging
import os
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

from handlers.actions import ACTIONS
from handlers.core import Core
from handlers.events import Inbound, Kind, Outcome, Photo, Reply
from handlers.menus import load_menus
from storage.models import OutboxMessage, ProcessedUpdate, Role
from tests.db_invariants import inconsistencies
from tests.world import PEOPLE, World

EXAMPLES = int(os.environ.get("SHIXIAO_HOSTILE_EXAMPLES", "100"))
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("SHIXIAO_HOSTILE_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

CJK = re.compile(r"[\u4e00-\u9fff]")
# What would betray an exception or a driver error in a reply (unless the user typed it and it is echoed).
LEAK_MARKERS = ("Traceback", "Error", "Exception", "sqlalchemy", "asyncpg", "sqlite", "psycopg", 'File "')
UPDATE_BASE = 5_000_000_000  # far above the ids tests.chat_driver hands out
STRANGERS = 3

FRAGMENTS = (
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    '" OR ""="',
    "') UNION SELECT name, phone FROM users --",
    "%",
    "\\",
    "<b>粗体</b>",
    "<script>alert('x')</script>",
    '<a href="javascript:alert(1)">点我</a>',
    "&amp;&lt;",
    "</i>",
    "*粗* _斜_ `代码` [链接](http://example.com)",
    "👍",
    "🇨🇳",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "\u200b",
    "\u202e反向文字",
    "ﷺ",
    "\x00",
    "\ud800",
    "\n\n\n",
    "  ",
    "{name}",
    "{0}",
    "%s",
    "None",
    "null",
    "Traceback (most recent call last):",
    "Error",
    "TS-2026-000001",
    "ts2026-2",
    "ＴＳ－２０２６－０００００３",
    "９９９",
    "²",
    "-1",
    "0",
    "99999999999999999999",
    "跳过",
    "完成",
    "匿名提交",
    "确认提交",
    "确认",
    "是",
    "✓ 符合",
    "/start",
    "/cancel",
    "小餐馆要办哪些证",
    "老王小吃店",
    "13812345678",
)
COMMANDS = ("start", "menu", "help", "cancel", "track", "report", "review", "inspect", "invite", "profile", "ask")
OBJECTS = (
    "<complaint:here_anon>",
    "<complaint:here_real>",
    "<complaint:here_county>",
    "<complaint:there_real>",
    "<inspection:here_submitted>",
    "<inspection:here_returned>",
    "<inspection:there_submitted>",
    "<question:open>",
    "<question:answered>",
    "<milestone>",
    "<unit:here>",
    "<unit:there>",
)
KEYS = tuple(key for key, *_ in PEOPLE)

piece = st.one_of(st.text(max_size=30), st.sampled_from(FRAGMENTS))
short_text = st.lists(piece, max_size=5).map("".join)
long_text = st.sampled_from([f for f in FRAGMENTS if f.strip()] + ["字", "a", "😀"]).map(
    lambda unit: (unit * 10_000)[:10_000]
)
any_text = st.one_of(short_text, short_text, short_text, long_text)

NUMBERS = (
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999",
    "²",
    "３",
    "٣",
    "1e3",
    " 7 ",
)
argument = st.one_of(
    st.none(),
    st.sampled_from(OBJECTS),
    st.sampled_from(OBJECTS).map(lambda o: f"{o}:yes"),
    st.sampled_from(OBJECTS).map(lambda o: f"{o}:no"),
    st.sampled_from(NUMBERS),
    st.integers(-3, 10**20).map(str),
    st.sampled_from(["", "x", "0x10", "1.5", "1:maybe"]),
    st.text(string.printable, max_size=20),
)
ROLE_OF = {key: role for key, _, role, *_ in PEOPLE}
# Each role's own actions (menus.yaml), drawn often: a forged id reaches the action's own checks only when the
# role check lets it through.
MENUS = load_menus(ACTIONS)
OWN_ACTIONS = {role: sorted(a for a in ACTIONS if MENUS.allows(role, a)) for role in Role}


def menu_press(actions: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda action, arg: f"m.{action}" if arg is None else f"m.{action}.{arg}", actions, argument)


any_action = st.sampled_from([*sorted(ACTIONS), "nope"])
step_press = st.builds(
    lambda nonce, choice: f"s{nonce}.{choice}",
    st.integers(0, 10**8),
    st.one_of(
        st.sampled_from(
            [
                "yes",
                "no",
                "submit",
                "send",
                "approve",
                "return",
                "done",
                "skip",
                "anon",
                "real",
                "1",
                "u1",
                "loc",
                "follow",
            ]
        ),
        st.text(max_size=8),
    ),
)
other_press = st.one_of(
    step_press, st.sampled_from(["g.menu", "g.cancel", "g.resume", "g.x", "g.", "m.", "s.", "."]), st.text(max_size=80)
)


@dataclass(frozen=True)
class Event:
    who: str  # a key of tests.world.PEOPLE, or "stranger<n>"
    kind: str
    value: Any = None
    # ("fresh", n): update id BASE + n, maybe seen before; ("again", i): an id already sent; ("none", 0): no id
    # (a terminal chat); ("new", 0): an id never sent.
    update: tuple[str, int] = ("new", 0)


update_choice = st.one_of(
    st.integers(0, 2**20).map(lambda n: ("fresh", n)),
    st.integers(0, 40).map(lambda i: ("again", i)),
    st.just(("none", 0)),
)
command_name = st.one_of(st.sampled_from(COMMANDS), st.from_regex(r"\A[a-z0-9_]{1,12}\Z"))


def values_for(kind: str, role: Role) -> st.SearchStrategy[Any]:
    own = st.sampled_from(OWN_ACTIONS[role])
    return {
        "text": any_text,
        "edited": st.none(),
        "command": st.tuples(command_name, st.one_of(any_text, st.sampled_from(OBJECTS), st.sampled_from(NUMBERS))),
        "press": st.one_of(menu_press(own), menu_press(own), menu_press(any_action), other_press),
        # Button indexes drawn evenly (hypothesis's integers favour 0, the first button, over the rest).
        "press_own": st.sampled_from(range(60)),
        "press_other": st.tuples(st.sampled_from(KEYS), st.sampled_from(range(60))),
        "photo": st.tuples(
            st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=90),
            st.one_of(st.none(), st.integers(0, 30 * 1024 * 1024)),
        ),
        "other": st.none(),
        # Anywhere on earth (and off it), or in and around the county.
        "location": st.one_of(
            st.tuples(st.floats(-1000, 1000), st.floats(-1000, 1000)),
            st.tuples(st.floats(27.9, 28.6), st.floats(120.4, 121.0)),
        ),
        "contact": st.one_of(short_text, st.from_regex(r"\A\+?86?1[3-9]\d{9}\Z")),
        "wait": st.integers(1, 30),
        "plausible": st.sampled_from(PLAUSIBLE),
    }[kind]


# What a person would type at most text steps (a description, a note, a name, a deadline, a phone number), so a
# walk through a flow gets past them and meets the steps behind.
PLAUSIBLE = (
    "门口堆放杂物，消防通道被堵",
    "张三丰",
    "7天后",
    "13812345678",
    "TS-2026-000001",
    "老王小吃店",
    "完成",
    "跳过",
)
KINDS = (
    "text",
    "text",
    "press",
    "press",
    "press_own",
    "press_own",
    "press_own",
    "command",
    "press_other",
    "edited",
    "photo",
    "other",
    "location",
    "contact",
    "wait",
)
# One person walking deep into their flows, hostile input in between.
DEEP_KINDS = (
    ("press_own",) * 6
    + ("plausible",) * 3
    + ("text", "text", "press", "command", "edited", "photo", "other", "location", "contact")
)
PROTAGONISTS = ("cadre", "township", "county", "resident", "operator")


@st.composite
def event(draw: st.DrawFn, who: str | None = None, kinds: tuple[str, ...] = KINDS) -> Event:
    who = who or draw(st.sampled_from([*KEYS, *(f"stranger{n}" for n in range(STRANGERS))]))
    kind = draw(st.sampled_from(kinds))
    value = draw(values_for(kind, ROLE_OF.get(who, Role.RESIDENT)))
    return Event(who, kind, value, draw(update_choice))


class ErrorLog(logging.Handler):
    """Every error logged anywhere while hostile input is handled (the core logs the exceptions it catches)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def describe(self) -> str:
        return "\n".join(self.format(record) for record in self.records)


@contextmanager
def logged_errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def plainly_chinese(text: str, echoed: set[str]) -> str | None:
    """Why this reply is not a plain Chinese answer, or None when it is."""
    if not CJK.search(text):
        return "no Chinese in it"
    leaked = [marker for marker in LEAK_MARKERS if marker in text and marker not in echoed]
    return f"shows {leaked}" if leaked else None


class Hostile:
    """Sends events to the core and checks each answer; state survives between hypothesis examples."""

    def __init__(self, core: Core, clock: Any, world: World, errors: ErrorLog) -> None:
        self.core, self.clock, self.world, self.errors = core, clock, world, errors
        self.internal_error = core.texts("internal_error")
        self.seen: list[int] = []  # update ids sent, in order
        self.echoed: set[str] = set()  # leak markers the users themselves typed
        self.buttons: dict[int, list[str]] = {}  # chat -> data of the latest buttons shown
        self.outbox_checked = 0

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"Hostile({len(self.seen)} updates sent)"

    def chat_of(self, who: str) -> int:
        if who.startswith("stranger"):
            return 9_000_000 + int(who.removeprefix("stranger"))
        return self.world.people[who].user_id

    def resolve(self, data: str) -> str:
        """The OBJECTS placeholders replaced by the ids of the world's objects."""
        for token in OBJECTS:
            if token in data:
                data = data.replace(token, str(self.object_id(token)))
        return data

    def object_id(self, token: str) -> int:
        table, _, key = token.strip("<>").partition(":")
        world = self.world
        if table == "complaint":
            return world.complaints[key].id
        if table == "milestone":
            return world.milestone
        return {"inspection": world.inspections, "question": world.questions, "unit": world.units}[table][key]

    def update_id(self, event: Event) -> int | None:
        how, number = event.update
        if how == "none":
            return None
        if how == "again" and self.seen:
            return self.seen[-1 - number % len(self.seen)]
        if how == "new":
            return max([UPDATE_BASE + 2**21, *self.seen]) + 1
        return UPDATE_BASE + number

    def inbound(self, event: Event, chat: int, update_id: int | None) -> Inbound:
        base = {"user_id": chat, "chat_id": chat, "update_id": update_id}
        value = event.value
        if event.kind in ("text", "plausible"):
            return Inbound(kind=Kind.TEXT, text=value, **base)
        if event.kind == "edited":
            return Inbound(kind=Kind.EDITED, **base)
        if event.kind == "command":
            return Inbound(kind=Kind.COMMAND, command=value[0], text=value[1], **base)
        if event.kind in ("press", "press_own", "press_other"):
            return Inbound(kind=Kind.PRESS, data=self.press_data(event, chat), **base)
        if event.kind == "photo":
            return Inbound(kind=Kind.PHOTO, photo=Photo(value[0], value[0][::-1][:40], value[1]), **base)
        if event.kind == "location":
            return Inbound(kind=Kind.LOCATION, location=value, **base)
        if event.kind == "contact":
            return Inbound(kind=Kind.CONTACT, phone=value, **base)
        return Inbound(kind=Kind.OTHER, **base)

    def press_data(self, event: Event, chat: int) -> str:
        if event.kind == "press":
            return self.resolve(event.value)
        source = chat if event.kind == "press_own" else self.chat_of(event.value[0])
        index = event.value if event.kind == "press_own" else event.value[1]
        shown = self.buttons.get(source) or ["g.menu"]
        # Mostly a button that moves on (not 返回主菜单/放弃), so walks get somewhere.
        onward = [data for data in shown if not data.startswith("g.")]
        chosen = onward if onward and index < 50 else shown
        return chosen[index % len(chosen)]

    async def send(self, event: Event) -> Outcome | None:
        if event.kind == "wait":
            self.clock.advance(timedelta(hours=event.value))
            return None
        chat = self.chat_of(event.who)
        update_id = self.update_id(event)
        inbound = self.inbound(event, chat, update_id)
        typed = " ".join(str(part) for part in (inbound.text, inbound.data, inbound.phone) if part)
        self.echoed.update(marker for marker in LEAK_MARKERS if marker in typed)
        duplicate = update_id is not None and update_id in self.seen
        outcome = await self.core.handle(inbound)
        assert not self.errors.records, f"{event}: errors logged\n{self.errors.describe()}"
        if duplicate:
            assert outcome.duplicate and not outcome.replies, f"{event}: update {update_id} handled twice"
            return outcome
        if update_id is not None:
            self.seen.append(update_id)
        assert not outcome.duplicate and outcome.replies, f"{event}: no answer"
        for reply in outcome.replies:
            self.check_reply(event, reply)
            if reply.choices:
                self.buttons[chat] = [choice.data for choice in reply.choices]
        return outcome

    def check_reply(self, event: Event, reply: Reply) -> None:
        problem = plainly_chinese(reply.text, self.echoed)
        assert problem is None, f"{event}: reply {problem}: {reply.text[:300]!r}"
        assert reply.text != self.internal_error, f"{event}: the apology for a crash"

    async def check_database(self) -> None:
        strangers = {self.chat_of(f"stranger{n}") for n in range(STRANGERS)}
        assert await inconsistencies(self.core, strangers) == []
        async with self.core.db.transaction() as session:
            recorded = set(
                await session.scalars(select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id >= UPDATE_BASE))
            )
            rows = list(
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id > self.outbox_checked).order_by(OutboxMessage.id)
                )
            )
        assert recorded == set(self.seen), "every update recorded once, none missing"
        for row in rows:
            problem = plainly_chinese(row.payload["text"], self.echoed)
            assert problem is None, f"outbox {row.id} to {row.chat_id}: {problem}: {row.payload['text'][:300]!r}"
        self.outbox_checked = rows[-1].id if rows else self.outbox_checked
