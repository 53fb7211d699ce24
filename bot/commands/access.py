"""`shixiao invite …` and `shixiao users …`: who may use the bot as what. Codes are made, listed and withdrawn;
people are listed and their role revoked (the rules are handlers/access.py, shared with the chat)."""

from __future__ import annotations

from datetime import timedelta

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import load_sample_if_empty
from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, err_console, fail, load_settings, run_async
from bot.db_open import open_database
from handlers import access
from handlers.actions import ACTIONS
from handlers.formatting import cn_datetime
from handlers.menus import load_menus
from handlers.texts import Texts
from storage import invites, outbox, owners, people, users
from storage.areas import AmbiguousArea, AreaNotFound, area_path, find_area
from storage.clock import SystemClock
from storage.inspection_models import Unit
from storage.models import Area, AreaLevel, Role
from storage.units import name_key

ROLE_NAMES = {
    "cadre": Role.CADRE,
    "村干部": Role.CADRE,
    "township": Role.TOWNSHIP,
    "乡镇": Role.TOWNSHIP,
    "乡镇干部": Role.TOWNSHIP,
    "county": Role.COUNTY,
    "县": Role.COUNTY,
    "县整规办": Role.COUNTY,
    "operator": Role.OPERATOR,
    "业主": Role.OPERATOR,
}
AREA_LEVEL = {Role.CADRE: AreaLevel.VILLAGE, Role.OPERATOR: AreaLevel.VILLAGE, Role.TOWNSHIP: AreaLevel.TOWNSHIP}
ROLE_HELP = "cadre 村干部 / township 乡镇干部 / county 县整规办 / operator 业主"

invite_app = ChineseTyper()  # its help is the callback's: making a code is what `shixiao invite` does
users_app = ChineseTyper(help="人员：列出已登记的人员，撤销人员的身份。", no_args_is_help=True)


def _role(value: str, *, resident: bool = False) -> Role:
    chosen = ROLE_NAMES.get(value.strip().lower()) or ROLE_NAMES.get(value.strip())
    if chosen is None and resident and value.strip().lower() in ("resident", "居民"):
        return Role.RESIDENT
    if chosen is None:
        if resident:
            fail(f"未知角色“{value}”。可用：{ROLE_HELP} / resident 居民。")
        fail(f"未知角色“{value}”。可用：cadre、township、county、operator（居民无需邀请码，发送 /start 即可）。")
    return chosen


def _area_error(area: str, error: Exception, level: AreaLevel | None) -> None:
    if isinstance(error, AmbiguousArea):
        fail(f"区域“{area}”有重名：{'、'.join(error.candidates)}。请写作 乡镇/村。")
    kind = {AreaLevel.VILLAGE: "村", AreaLevel.TOWNSHIP: "乡镇"}.get(level) if level else None
    fail(f"找不到区域“{area}”{f'（{kind}）' if kind else ''}。可用 `shixiao areas list` 查看。")


@invite_app.callback(invoke_without_command=True)
def invite(
    ctx: typer.Context,
    role: str | None = typer.Option(None, "--role", help=f"生成邀请码时必填，角色：{ROLE_HELP}"),
    area: str | None = typer.Option(
        None, "--area", help="区域名称：村干部、业主填村，乡镇干部填乡镇；重名时写作 乡镇/村"
    ),
    days: int | None = typer.Option(
        None, "--days", min=1, max=365, help="有效天数（默认取 SHIXIAO_INVITE_VALID_DAYS）"
    ),
    unit: str | None = typer.Option(None, "--unit", help="业主邀请码绑定的单位名称（在 --area 所填的村内查找）"),
) -> None:
    """生成一个一次性邀请码（--role，需要时加 --area）；对方在机器人中发送 /start 邀请码 或直接发送邀请码即可登记。
    县整规办的邀请码为12位，其他为8位。`shixiao invite list` 列出未使用的邀请码，`shixiao invite revoke 邀请码` 作废一个。"""
    if ctx.invoked_subcommand is not None:
        if role is not None or area is not None or days is not None or unit is not None:
            fail("--role、--area、--days、--unit 只用于生成邀请码，不能与 list、revoke 一起使用。", code=2)
        return
    if role is None:
        fail(
            "缺少选项 --role。生成邀请码：shixiao invite --role cadre --area 芙蓉村；"
            "查看未使用的邀请码：shixiao invite list。",
            code=2,
        )
    settings = load_settings()
    chosen = _role(role)
    if chosen is not Role.COUNTY and not area:
        fail("该角色需要 --area：村干部和业主填村名，乡镇干部填乡镇名。")
    if unit is not None and chosen is not Role.OPERATOR:
        fail("--unit 只用于业主邀请码（--role operator）。")

    async def go() -> tuple[str, str, str, str]:
        db = await open_database(settings)
        clock = SystemClock(settings.tz)
        # As run/chat do, so a fresh install can be tried at once.
        await load_sample_if_empty(db, clock, register=settings.sample_register)
        try:
            async with db.transaction() as session:
                target = None
                if chosen is not Role.COUNTY and area:
                    target = await find_area(session, area, AREA_LEVEL[chosen])
                bound = None
                if unit is not None and target is not None:
                    bound = await _unit_in_village(session, target, unit)
                valid = timedelta(days=days or settings.invite_valid_days)
                created = await invites.create_invite(
                    session, chosen, target, clock.now(), valid, unit_id=bound.id if bound else None
                )
                return (
                    created.code,
                    area_path(target),
                    cn_datetime(created.expires_at, settings.tz),
                    bound.name if bound else "",
                )
        finally:
            await db.dispose()

    try:
        code, where, expires, unit_name = run_async(go())
    except (AreaNotFound, AmbiguousArea) as error:
        _area_error(area or "", error, AREA_LEVEL.get(chosen))
    except access.Refused as refused:
        fail(refused.message)
    title = load_menus(ACTIONS).title(chosen)
    console.print(f"邀请码：[bold]{code}[/]", highlight=False)
    console.print(f"角色：{title}{f'（{where}）' if where else ''}", highlight=False)
    if unit_name:
        console.print(f"单位：{unit_name}（业主登记后即绑定这家单位）", highlight=False)
    console.print(f"有效期至：{expires}", highlight=False)
    console.print(f"对方在十小通中发送 /start {code}（或直接发送 {code}）即可登记，仅可使用一次。", highlight=False)


async def _unit_in_village(session: AsyncSession, village: Area, name: str) -> Unit:
    """The unit of that name in the village, or Refused listing the candidates."""
    match = await owners.match_in_village(session, village.id, name)
    if match.unit is not None:
        if not owners.bindable(match.unit):
            raise access.Refused(f"单位“{match.unit.name}”已关停，不能生成业主邀请码。")
        return match.unit
    where = area_path(village)
    if not match.candidates:
        raise access.Refused(f"{where}还没有登记任何单位，找不到“{name}”。可用 `shixiao units import` 导入监管档案。")
    listed = "、".join(match.candidates[:20]) + ("等" if len(match.candidates) > 20 else "")
    problem = "有多家单位名称包含" if any(name_key(name) in name_key(c) for c in match.candidates) else "找不到"
    raise access.Refused(f"{where}{problem}“{name}”。候选单位：{listed}。请写出完整的单位名称。")


@invite_app.command("list")
def invite_list() -> None:
    """列出可以使用的邀请码（未使用、未作废、未过期），每行一个：邀请码、角色、区域、有效期至、生成人（以制表符分隔）。"""
    settings = load_settings()
    texts = Texts.load()

    async def go() -> list[tuple[str, ...]]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                found = await invites.open_invites(session, SystemClock(settings.tz).now())
                return [
                    (
                        invite.code,
                        invite.role,
                        area_path(invite.area),
                        invite.expires_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
                        access.person(texts, made_by) if made_by is not None else texts("access_by_cli"),
                    )
                    for invite, made_by in found
                ]
        finally:
            await db.dispose()

    rows = run_async(go())
    for row in rows:
        typer.echo("\t".join(row))
    if not rows:
        err_console.print("没有未使用的邀请码。", highlight=False)


@invite_app.command("revoke")
def invite_revoke(code: str = typer.Argument(..., help="要作废的邀请码（不区分大小写）")) -> None:
    """作废一个还没有人使用的邀请码；之后用它登记会被告知“已作废”。"""
    settings = load_settings()
    texts = Texts.load()

    async def go() -> str:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                invite = await invites.find_invite(session, code)
                await access.revoke_code(session, texts, invite, SystemClock(settings.tz).now())
                assert invite is not None
                return invite.code
        finally:
            await db.dispose()

    try:
        revoked = run_async(go())
    except access.Refused as refused:
        fail(refused.message)
    console.print(f"邀请码 {revoked} 已作废。", highlight=False)


@users_app.command("list")
def users_list(
    role: str | None = typer.Option(None, "--role", help=f"只列出这一角色：{ROLE_HELP} / resident 居民"),
    area: str | None = typer.Option(
        None, "--area", help="只列出这一区域的人员：乡镇（含其下各村）或村；重名时写作 乡镇/村"
    ),
) -> None:
    """列出已登记的人员，每行一个：编号、角色、区域、姓名、登记日期（以制表符分隔）。编号用于 `shixiao users revoke`。"""
    settings = load_settings()
    chosen = _role(role, resident=True) if role is not None else None

    async def go() -> list[tuple[str, ...]]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                area_id = None
                if area:
                    found = await find_area(session, area)
                    area_id = None if found.level == AreaLevel.COUNTY else found.id
                listed = await people.list_people(session, (chosen,) if chosen else None, area_id)
                return [
                    (
                        str(user.id),
                        user.role,
                        area_path(user.area),
                        user.name or "",
                        user.created_at.astimezone(settings.tz).date().isoformat(),
                    )
                    for user in listed
                ]
        finally:
            await db.dispose()

    try:
        rows = run_async(go())
    except (AreaNotFound, AmbiguousArea) as error:
        _area_error(area or "", error, None)
    for row in rows:
        typer.echo("\t".join(row))
    if not rows:
        err_console.print("没有符合条件的人员。", highlight=False)


@users_app.command("revoke")
def users_revoke(
    user_id: int = typer.Argument(..., metavar="ID", help="人员编号（见 shixiao users list 第一列）"),
) -> None:
    """撤销一个人的身份：该用户成为居民，所属区域清空，进行中的操作结束；本人和县整规办都会在机器人中收到通知。
    不能撤销县整规办的最后一名工作人员（请先让接任者用县整规办邀请码登记）。"""
    settings = load_settings()
    texts, menus = Texts.load(), load_menus(ACTIONS)

    async def go() -> tuple[str, str, int]:
        db = await open_database(settings)
        now = SystemClock(settings.tz).now()
        try:
            async with db.transaction() as session:
                subject = await users.get_user(session, user_id)
                before = access.identity(menus, subject.role, subject.area) if subject is not None else ""
                notices = await access.revoke_person(session, texts, menus, user_id, now)
                for notice in notices:
                    assert notice.chat_id is not None
                    await outbox.enqueue(session, notice.chat_id, notice.kind, notice.payload(), now)
                assert subject is not None
                return access.person(texts, subject), before, len(notices) - 1
        finally:
            await db.dispose()

    try:
        who, before, office = run_async(go())
    except access.Refused as refused:
        fail(refused.message)
    console.print(
        f"已撤销 {who} 的身份（原为 {before}），现为居民；已通知本人和县整规办（{office} 人）。", highlight=False
    )


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")
    app.add_typer(users_app, name="users")
