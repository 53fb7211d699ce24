"""Start-up cost: a database already at the head skips Alembic, and heavy libraries load only when used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from storage.db import Database
from storage.migrate import current_revision, head_revision, is_at_head, script_heads

REPO = Path(__file__).resolve().parent.parent
# Libraries the bot needs only for exports, charts, migrations or webhook mode, not to start polling and answer.
HEAVY = ("alembic", "openpyxl", "numpy", "matplotlib", "xlsxwriter", "PIL", "aiohttp.web", "typer.rich_utils")

LAZY_AIOGRAM = """
import json, sys
from bot.aiogram_import import aiogram_models, import_aiogram
import_aiogram()
import aiogram.types
from aiogram.methods import SendMessage, SendPhoto
deferred = {"Sticker": aiogram.types.Sticker.__pydantic_complete__, "SendPhoto": SendPhoto.__pydantic_complete__,
            "SendMessage": SendMessage.__pydantic_complete__, "Update": aiogram.types.Update.__pydantic_complete__}
# A deferred model resolves names in the handed-over namespace before its own module's: they must agree.
clashes = sorted({f"{model.__module__}.{name}" for model in aiogram_models()
                  if isinstance(model.__pydantic_parent_namespace__, dict)
                  for name, value in vars(sys.modules[model.__module__]).items()
                  if not name.startswith("__") and model.__pydantic_parent_namespace__.get(name, value) is not value})
failed = []
for model in aiogram_models():
    try:
        model.model_rebuild(raise_errors=True)
    except Exception as error:
        failed.append(f"{model.__module__}.{model.__name__}: {error}")
incomplete = [model.__name__ for model in aiogram_models() if not model.__pydantic_complete__]
keyboard = aiogram.types.InlineKeyboardMarkup(inline_keyboard=[[aiogram.types.InlineKeyboardButton(text="好",
                                                                                                    callback_data="ok")]])
photo = SendPhoto(chat_id=1, photo="file-id", caption="图", reply_markup=keyboard)
print(json.dumps({"deferred": deferred, "failed": failed, "incomplete": incomplete, "models": len(list(aiogram_models())),
                  "button": photo.reply_markup.inline_keyboard[0][0].callback_data, "clashes": clashes}))
"""

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
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO), **env}, cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_aiogram_models_are_built_on_first_use_and_every_one_builds(tmp_path):
    """`shixiao run` imports aiogram with its models deferred (bot/aiogram_import.py). Every model must still
    build from the namespace handed over, or the bot would fail at the first use of a rare type."""
    found = json.loads(python(LAZY_AIOGRAM, tmp_path))
    # Update: built at start
    assert found["deferred"] == {"Sticker": False, "SendPhoto": False, "SendMessage": False, "Update": True}
    assert found["failed"] == [] and found["incomplete"] == [] and found["models"] > 500
    assert found["clashes"] == []
    assert found["button"] == "ok"


ANSWERS = """
import json
from bot.aiogram_import import import_aiogram
import_aiogram()
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto
from bot.aiogram_session import KeepingSession
chat = {"id": 7, "type": "private", "first_name": "x"}
message = {"message_id": 3, "date": 0, "chat": chat, "text": "ok"}
bot, session = Bot("1:a"), KeepingSession()
parsed = [
    session.check_response(bot, SendMessage(chat_id=7, text="ok"), 200, json.dumps({"ok": True, "result": message})),
    session.check_response(bot, SendPhoto(chat_id=7, photo="x"), 200,
                           json.dumps({"ok": True, "result": {**message, "photo": [
                               {"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}})),
    session.check_response(bot, EditMessageText(chat_id=7, message_id=3, text="ok"), 200,
                           json.dumps({"ok": True, "result": message})),
    session.check_response(bot, AnswerCallbackQuery(callback_query_id="q"), 200, json.dumps({"ok": True, "result": True})),
]
print(json.dumps([type(p.result).__name__ for p in parsed]))
"""


def test_answers_to_the_methods_the_bot_uses_parse_with_deferred_models(tmp_path):
    """The answer to a send is parsed after Telegram acted: failing there would re-send the message forever."""
    assert json.loads(python(ANSWERS, tmp_path)) == ["Message", "Message", "Message", "bool"]


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


def test_starting_loads_no_heavy_library_on_a_new_database_or_an_existing_one(tmp_path):
    # A new database gets its schema without Alembic (storage/migrate._create_new); one at the head needs none.
    database = tmp_path / "shixiao.db"
    assert start(database) == []
    assert start(database) == []


COLLECTOR = """
import gc, json, sys
from bot.__main__ import main
sys.argv = ["shixiao", {command!r}, "--help"]
try:
    main()
except SystemExit:
    pass
after_cli = gc.isenabled()
from bot.heap import settle_heap
settle_heap()
print(json.dumps([after_cli, gc.isenabled()]))
"""


def test_the_collector_paused_for_start_up_runs_again_after_it(tmp_path):
    """The launch pauses the garbage collector while it imports (bot/__main__.py): other commands get it back at
    once, `run` when the bot is up (settle_heap). A collector left off would let cyclic garbage pile up."""
    assert json.loads(python(COLLECTOR.format(command="chat"), tmp_path)) == [True, True]
    assert json.loads(python(COLLECTOR.format(command="run"), tmp_path)) == [False, True]
