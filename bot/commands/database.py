"""`shixiao db …`: schema migrations."""

from __future__ import annotations

import typer

from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, run_async
from storage.db import Database
from storage.migrate import current_revision, head_revision

db_app = ChineseTyper(help="数据库：升级或回退表结构（Alembic 迁移）。", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="目标版本，默认最新（head）")) -> None:
    """把数据库升级到最新表结构（run 和 chat 启动时也会自动执行）。"""
    settings = load_settings()

    async def go() -> str | None:
        db = Database(settings.database_url)
        try:
            await db.upgrade(revision)
            return await current_revision(db.engine)
        finally:
            await db.dispose()

    try:
        now = run_async(go())
    except Exception as error:
        fail(f"数据库升级失败：{type(error).__name__}: {error}")
    console.print(f"数据库已升级，当前版本：{now}（最新：{head_revision()}）")


@db_app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="目标版本，如 base 或 0001")) -> None:
    """把数据库回退到指定版本（会删除较新版本的表，慎用）。"""
    settings = load_settings()

    async def go() -> str | None:
        db = Database(settings.database_url)
        try:
            await db.downgrade(revision)
            return await current_revision(db.engine)
        finally:
            await db.dispose()

    try:
        now = run_async(go())
    except Exception as error:
        fail(f"数据库回退失败：{type(error).__name__}: {error}")
    console.print(f"数据库已回退，当前版本：{now or 'base'}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
