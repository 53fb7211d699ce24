"""`shixiao areas …` and `shixiao invite`: the county's areas and invite codes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from bot.app import load_sample_if_empty, open_database
from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, run_async
from handlers.actions import ACTIONS
from handlers.area_files import AreaFileError, parse_area_file
from handlers.formatting import cn_datetime
from handlers.menus import load_menus
from storage import invites
from storage.areas import AmbiguousArea, AreaNotFound, area_path, find_area, list_areas, load_county
from storage.clock import SystemClock
from storage.models import AreaLevel, Role

areas_app = ChineseTyper(help="区域：加载和查看县、乡镇、村。", no_args_is_help=True)

ROLE_NAMES = {
    "cadre": Role.CADRE, "村干部": Role.CADRE,
    "township": Role.TOWNSHIP, "乡镇": Role.TOWNSHIP, "乡镇干部": Role.TOWNSHIP,
    "county": Role.COUNTY, "县": Role.COUNTY, "县整规办": Role.COUNTY,
    "operator": Role.OPERATOR, "业主": Role.OPERATOR,
}
AREA_LEVEL = {Role.CADRE: AreaLevel.VILLAGE, Role.OPERATOR: AreaLevel.VILLAGE, Role.TOWNSHIP: AreaLevel.TOWNSHIP}


@areas_app.command("load")
def load(file: Path = typer.Argument(..., help="区域文件：YAML（county/townships/villages）或 xlsx（列：县、乡镇、村）")) -> None:
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
    console.print(f"已加载 {spec.name}：{len(spec.townships)} 个乡镇、{villages} 个村；新增 {created} 条，已存在 {existing} 条。")


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


def invite(
    role: str = typer.Option(..., "--role", help="角色：cadre 村干部 / township 乡镇干部 / county 县整规办 / operator 业主"),
    area: str | None = typer.Option(None, "--area", help="区域名称：村干部、业主填村，乡镇干部填乡镇；重名时写作 乡镇/村"),
    days: int | None = typer.Option(None, "--days", min=1, max=365, help="有效天数（默认取 SHIXIAO_INVITE_VALID_DAYS）"),
) -> None:
    """生成一个一次性邀请码；对方在机器人中发送 /start 邀请码 或直接发送邀请码即可登记。"""
    settings = load_settings()
    chosen = ROLE_NAMES.get(role.strip().lower()) or ROLE_NAMES.get(role.strip())
    if chosen is None:
        fail(f"未知角色“{role}”。可用：cadre、township、county、operator（居民无需邀请码，发送 /start 即可）。")
    if chosen is not Role.COUNTY and not area:
        fail("该角色需要 --area：村干部和业主填村名，乡镇干部填乡镇名。")
    async def go() -> tuple[str, str, str]:
        db = await open_database(settings)
        clock = SystemClock(settings.tz)
        await load_sample_if_empty(db, clock)  # as run/chat do, so a fresh install can be tried at once
        try:
            async with db.transaction() as session:
                target = None
                if chosen is not Role.COUNTY and area:
                    target = await find_area(session, area, AREA_LEVEL[chosen])
                valid = timedelta(days=days or settings.invite_valid_days)
                created = await invites.create_invite(session, chosen, target, clock.now(), valid)
                return created.code, area_path(target), cn_datetime(created.expires_at, settings.tz)
        finally:
            await db.dispose()

    try:
        code, where, expires = run_async(go())
    except AreaNotFound:
        fail(f"找不到区域“{area}”（{'村' if AREA_LEVEL.get(chosen) == AreaLevel.VILLAGE else '乡镇'}）。"
             "可用 `shixiao areas list` 查看。")
    except AmbiguousArea as error:
        fail(f"区域“{area}”有重名：{'、'.join(error.candidates)}。请写作 乡镇/村。")
    title = load_menus(ACTIONS).title(chosen)
    console.print(f"邀请码：[bold]{code}[/]", highlight=False)
    console.print(f"角色：{title}{f'（{where}）' if where else ''}", highlight=False)
    console.print(f"有效期至：{expires}", highlight=False)
    console.print(f"对方在十小通中发送 /start {code}（或直接发送 {code}）即可登记，仅可使用一次。", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(areas_app, name="areas")
    app.command("invite")(invite)
