"""Wiring: the only place that builds settings, database, clock and core and hands them to a runtime."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.settings import Settings
from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.core import Core
from scheduler.sender import Limits
from storage.area_files import SAMPLE_COUNTY, parse_area_file
from storage.areas import count_areas, load_county
from storage.clock import Clock, SystemClock
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: Database
    clock: Clock
    core: Core

    async def close(self) -> None:
        await self.db.dispose()


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        conversation_timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        invite_valid_for=timedelta(days=settings.invite_valid_days),
    )


def send_limits(settings: Settings) -> Limits:
    return Limits(global_per_second=settings.send_global_per_second,
                  per_chat_interval=settings.send_per_chat_interval)


async def open_database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    await db.upgrade()
    return db


async def load_sample_if_empty(db: Database, clock: Clock) -> bool:
    """A fresh install gets the sample county so the bot can be tried at once."""
    async with db.transaction() as session:
        if await count_areas(session) > 0:
            return False
        result = await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
    log.info("loaded the sample county (%s areas)", result.created)
    return True


async def open_app(settings: Settings, clock: Clock | None = None, *, sample: bool = True) -> App:
    clock = clock or SystemClock(settings.tz)
    db = await open_database(settings)
    if sample:
        await load_sample_if_empty(db, clock)
    core = build_core(db, clock, core_config(settings))
    return App(settings, db, clock, core)


def configure_logging(settings: Settings, log_file: Path | None = None) -> None:
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    else:
        handlers.append(logging.StreamHandler())
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
