"""Builds the conversation core from its parts; the runtimes call this and nothing else in handlers."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from handlers.actions import ACTIONS, COMMANDS, FLOWS
from handlers.ask import AskService
from handlers.context import CoreConfig
from handlers.core import Core, CoreParts, FreeTextHandler
from handlers.free_text import free_text as typed_outside_flows
from handlers.free_text import shipped_words
from handlers.menus import load_menus
from handlers.runner import Runner
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from knowledge.shipped import shipped_knowledge as shipped_knowledge  # one cache for the bot and the commands
from storage.clock import Clock
from storage.db import Database

if TYPE_CHECKING:  # imported with the first question (its index and pypinyin), not at start-up
    from knowledge.answer import Answerer


@lru_cache(maxsize=1)
def shipped_answerer() -> Answerer:
    from knowledge.answer import Answerer

    return Answerer(shipped_knowledge())


def answerer_over(knowledge: KnowledgeBase) -> Answerer:
    from knowledge.answer import Answerer

    return Answerer(knowledge)


def build_core(
    db: Database,
    clock: Clock,
    config: CoreConfig | None = None,
    free_text: FreeTextHandler | None = None,
    knowledge: KnowledgeBase | None = None,
) -> Core:
    shipped_words()  # a broken data/free_text.yaml stops the start, not the first message typed
    kb = knowledge or shipped_knowledge()
    parts = CoreParts(
        texts=Texts.load(),
        menus=load_menus(ACTIONS),
        runner=Runner(FLOWS),
        actions=ACTIONS,
        commands=COMMANDS,
        free_text=free_text or typed_outside_flows,
        knowledge=kb,
    )
    parts.ask = AskService(kb, shipped_answerer if knowledge is None else lambda: answerer_over(knowledge))
    return Core(db, clock, config or CoreConfig(), parts)
