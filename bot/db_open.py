"""Opening the database for a command or the bot: upgraded to the head and with fresh planner statistics. Apart from
`bot.app` so that a command needing only the database does not import the handlers, the scheduler and the rest."""

from __future__ import annotations

from bot.settings import Settings
from storage.db import Database


async def open_database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    await db.upgrade()
    await db.optimize()
    return db
