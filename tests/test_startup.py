"""Start-up cost: a database already at the head skips Alembic, heavy libraries load only when used, and commands
that never talk to Telegram do not load its clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import current_revision, head_revision, is_at_head, script_heads

REPO = Path(__file__).resolve().parent.parent
# Libraries the bot needs only for exports, charts, migrations or webhook mode, not to start polling and answer.
HEAVY = (
    "alembic",
    "openpyxl",
    "numpy",
    "matplotlib",
    "PIL",
    "aiohttp.web",
    "typer.rich_utils",
    "pypinyin",  # the knowledge search index: built with the first question
    "segno",  # owner QR codes
)

START = """
import asyncio, json, sys
from bot.app import open_app
from bot.settings import Settings
import bot.cli, bot.aiogram_runtime  # what `shixiao run` imports

async def main() -> None:
    app = await open_app(Settings(_env_file=None))
    await app.close()

asyncio.run(main())
print(json.dumps([name for name in {heavy!r} if name in sys.modules]))
"""


def python(code: str, cwd: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_heads_read_from_the_files_match_alembic():
    assert script_heads() == {head_revision()}


async def test_upgrade_skips_only_a_database_at_head(db_url):
    db = Database(db_url)
    try:
        assert not await is_at_head(db.engine)  # nothing there yet
        await db.upgrade()
        assert await is_at_head(db.engine)
        await db.downgrade("0003")
        assert not await is_at_head(db.engine)
        await db.upgrade()  # behind the head: Alembic runs
        assert await current_revision(db.engine) == head_revision()
        assert await is_at_head(db.engine)
    finally:
        await db.dispose()


def start(database: Path) -> list[str]:
    code = START.format(heavy=HEAVY)
    return json.loads(python(code, database.parent, SHIXIAO_DATABASE_URL=f"sqlite+aiosqlite:///{database}"))


@pytest.mark.slow
def test_starting_loads_no_heavy_library_on_a_new_database_or_an_existing_one(tmp_path):
    # A new database gets its schema without Alembic (storage/migrate._create_new); one at the head needs none.
    database = tmp_path / "shixiao.db"
    assert start(database) == []
    assert start(database) == []


# What a command that never talks to Telegram imports, seen at the process's exit.
TELEGRAM_FREE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}}
                                              & {{"aiogram", "telegram", "httpx"}}))))
sys.argv = ["shixiao", *{args!r}]
from bot.__main__ import main
main()
"""
TELEGRAM_FREE_COMMANDS = [
    ["areas", "load", str(REPO / "handlers" / "data" / "sample_county.yaml")],
    ["areas", "list"],
    ["plan", "list", "--year", "2026"],
    ["units", "import", "--help"],
    ["export", "units", "--out", "units.xlsx"],
    ["digest", "--scope", "全县", "--no-print", "--chart", "chart.png"],
    ["ask", "小餐饮店需要办什么证"],
    ["kb", "check"],
]


@pytest.mark.slow
def test_commands_that_never_talk_to_telegram_do_not_import_its_clients(tmp_path):
    """ask, export, digest, plan, units, areas and kb start without aiogram (over a second of imports on a small
    machine) or python-telegram-bot."""
    env = {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "SHIXIAO_TELEGRAM_TOKEN": ""}
    for args in TELEGRAM_FREE_COMMANDS:
        assert json.loads(python(TELEGRAM_FREE.format(args=args), tmp_path, **env)) == [], args


# `export units` names the industries from the data files (knowledge/industry_names.py), without building the
# knowledge base: with it the command took over the 1 s a start-up-bound command may take.
EXPORT_UNITS = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({{"knowledge.loader", "knowledge.models"}} & set(sys.modules)))))
sys.argv = ["shixiao", "export", "units", "--out", "units.xlsx"]
from bot.__main__ import main
main()
"""


@pytest.mark.slow
def test_exporting_the_register_does_not_build_the_knowledge_base(tmp_path):
    env = {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "SHIXIAO_TELEGRAM_TOKEN": ""}
    assert json.loads(python(EXPORT_UNITS.format(), tmp_path, **env)) == []
    assert (tmp_path / "units.xlsx").stat().st_size > 0
