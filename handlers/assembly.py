"""Builds the conversation core from its parts; the runtimes call this and nothing else in handlers."""

from __future__ import annotations

from handlers.actions import ACTIONS, COMMANDS, FLOWS
from handlers.context import CoreConfig
from handlers.core import Core, CoreParts, FreeTextHandler
from handlers.menus import load_menus
from handlers.runner import Runner
from handlers.texts import Texts
from storage.clock import Clock
from storage.db import Database


def build_core(
    db: Database, clock: Clock, config: CoreConfig | None = None, free_text: FreeTextHandler | None = None
) -> Core:
    parts = CoreParts(
        texts=Texts.load(),
        menus=load_menus(ACTIONS),
        runner=Runner(FLOWS),
        actions=ACTIONS,
        commands=COMMANDS,
        free_text=free_text,
    )
    return Core(db, clock, config or CoreConfig(), parts)
