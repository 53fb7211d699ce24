"""Everything a step or an action needs while one inbound event is handled (one transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons
from handlers.events import Choice, Inbound, Reply
from handlers.menus import Menus
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from storage.areas import area_path
from storage.clock import Clock
from storage.models import Conversation, User
from storage.pacing import Allowance

ID_DIGITS = 9  # ids are 32-bit integers in the database


def parse_id(raw: str) -> int | None:
    """The id a button or command argument names: None when it is no plain number; 0, which no row has, when the
    number is too long to be an id (the database would refuse to look it up)."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= ID_DIGITS else 0


@dataclass(frozen=True)
class CoreConfig:
    conversation_timeout: timedelta = timedelta(days=7)
    invite_valid_for: timedelta = timedelta(days=7)
    charts_dir: Path = Path("data") / "charts"
    bot_username: str = ""  # for t.me start links (an owner's code as a QR code)
    # What one person may send (handlers/pacing.py): None, no limit (set from the settings by bot/app.py).
    inbound: Allowance | None = None
    # A second tap on a button within this long after its first tap was taken is a double tap.
    double_tap_within: timedelta = timedelta(seconds=10)
    # The web console's address (SHIXIAO_WEB_BASE_URL), for /web sign-in links; empty: no console.
    web_base_url: str = ""
    # Work-group webhooks may be plain http (tests' fake robots only; SHIXIAO_ROBOTS_ALLOW_HTTP).
    robots_allow_http: bool = False


class Flows(Protocol):
    """What an action may do with flows (handlers/runner.py): named here so that the turn, which every step is
    given, does not depend on the runner that runs the steps."""

    async def start(self, turn: Turn, name: str, data: Any = None, at: str | None = None) -> list[Reply]: ...

    async def reprompt(self, turn: Turn, conversation: Conversation, lead: str | None = None) -> Reply: ...

    def title(self, conversation: Conversation) -> str: ...


@dataclass
class Turn:
    session: AsyncSession
    user: User
    clock: Clock
    texts: Texts
    menus: Menus
    config: CoreConfig
    inbound: Inbound
    runner: Flows
    # Messages to other chats (notifications) produced while handling this event.
    notices: list[Reply] = field(default_factory=list)
    # What an action was given: a command's text (/track TS-…) or the id carried by a button (m.review.12).
    argument: str = ""
    knowledge: KnowledgeBase | None = None
    ask: Any = None  # handlers.ask.AskService

    @property
    def argument_id(self) -> int | None:
        return parse_id(self.argument)

    @property
    def role_title(self) -> str:
        return self.menus.title(self.user.role)

    def identity(self) -> str:
        """Role and area as shown to the user, e.g. 村干部（岩头镇芙蓉村）."""
        where = area_path(self.user.area)
        return f"{self.role_title}（{where}）" if where else self.role_title

    def menu_reply(self, lead: str | None = None) -> Reply:
        items = self.menus.menu_for(self.user.role)
        header = self.texts("menu_header", identity=self.identity())
        text = f"{lead}\n\n{header}" if lead else header
        choices = tuple(Choice(buttons.menu_data(item.id), item.label) for item in items)
        return Reply(text, choices=choices, columns=2)
