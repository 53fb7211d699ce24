"""Drives the conversation core directly (no Telegram), for fast unit tests of flows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from handlers.core import Core
from handlers.events import Inbound, Kind, Outcome, Photo, Reply
from storage.areas import find_area
from storage.db import Database
from storage.invites import create_invite
from storage.models import AreaLevel, Role

_update_ids = itertools.count(1000)


@dataclass
class Person:
    core: Core
    user_id: int
    replies: list[Reply] = field(default_factory=list)
    last_outcome: Outcome | None = None

    async def _send(self, **fields) -> list[Reply]:
        inbound = Inbound(user_id=self.user_id, chat_id=self.user_id, update_id=next(_update_ids), **fields)
        self.last_outcome = await self.core.handle(inbound)
        self.replies.extend(self.last_outcome.replies)
        return self.last_outcome.replies

    async def text(self, text: str) -> list[Reply]:
        return await self._send(kind=Kind.TEXT, text=text)

    async def command(self, name: str, argument: str = "") -> list[Reply]:
        return await self._send(kind=Kind.COMMAND, command=name, text=argument)

    async def photo(self) -> list[Reply]:
        return await self._send(kind=Kind.PHOTO, photo=Photo("file-1", "u1", 1000))

    async def sticker(self) -> list[Reply]:
        return await self._send(kind=Kind.OTHER)

    async def press_data(self, data: str) -> list[Reply]:
        return await self._send(kind=Kind.PRESS, data=data)

    async def press(self, label: str) -> list[Reply]:
        """Press the button with this label on the latest message that has buttons."""
        for reply in reversed(self.replies):
            if reply.choices:
                for choice in reply.choices:
                    if choice.label == label:
                        return await self._send(kind=Kind.PRESS, data=choice.data, pressed_label=label)
                raise AssertionError(f"no button {label!r}; have {[c.label for c in reply.choices]}")
        raise AssertionError("no message with buttons yet")

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    def buttons(self) -> list[str]:
        for reply in reversed(self.replies):
            if reply.choices:
                return [choice.label for choice in reply.choices]
        return []


async def make_invite(db: Database, clock, role: Role, area: str | None = None, **kwargs) -> str:
    from datetime import timedelta

    levels = {Role.CADRE: AreaLevel.VILLAGE, Role.OPERATOR: AreaLevel.VILLAGE, Role.TOWNSHIP: AreaLevel.TOWNSHIP}
    async with db.transaction() as session:
        target = await find_area(session, area, levels[role]) if area else None
        invite = await create_invite(session, role, target, clock.now(), kwargs.get("valid", timedelta(days=7)))
        return invite.code


async def register(core: Core, db: Database, clock, user_id: int, role: Role, area: str | None, name: str) -> Person:
    person = Person(core, user_id)
    code = await make_invite(db, clock, role, area)
    await person.command("start", code)
    await person.text(name)
    assert "登记完成" in person.last.text, person.last.text
    return person
