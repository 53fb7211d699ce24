"""`shixiao areas …`: the county's areas."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, run_async
from bot.db_open import open_database
from handlers.area_files import AreaFileError, parse_area_file
from storage.areas import list_areas, load_county
from storage.clock import SystemClock

areas_app = ChineseTyper(help="区域：加载和查看县、乡镇、村。", no_args_is_help=True)


@areas_app.command("load")
def load(
    file: Path = typer.Argument(..., help="区域文件：YAML（county/townships/villages）或 xlsx（列：县、乡镇、村）"),
) -> None:
    """加载一个县的乡镇和村；重复加载同一文件不会产生重复。"""
    settings = load_settings()
    try:
        spec = parse_area_file(file)
    except AreaFileError as error:
        fail(str(error))

    async def go() -> tuple[int, int]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                result = await load_county(session, spec, SystemClock(settings.tz).now())
            return result.created, result.existing
        finally:
            await db.dispose()

    created, existing = run_async(go())
    villages = sum(len(t.villages) for t in spec.townships)
    console.print(
        f"已加载 {spec.name}：{len(spec.townships)} 个乡镇、{villages} 个村；新增 {created} 条，已存在 {existing} 条。"
    )


@areas_app.command("list")
def list_command() -> None:
    """列出所有区域，每行一个：级别、名称、上级名称（以制表符分隔）。"""
    settings = load_settings()

    async def go() -> list[tuple[str, str, str]]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                return [(a.level, a.name, a.parent.name if a.parent else "") for a in await list_areas(session)]
        finally:
            await db.dispose()

    for level, name, parent in run_async(go()):
        typer.echo(f"{level}\t{name}\t{parent}")


def register(app: typer.Typer) -> None:
    app.add_typer(areas_app, name="areas")
