"""`shixiao users list|revoke` and `shixiao invite list|revoke` (issue 21, item 2), run as an administrator would,
on a database where people registered through the chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import build_core
from storage.areas import load_county
from storage.clock import SystemClock
from storage.conversations import load_conversation
from storage.db import Database
from storage.models import Invite, OutboxMessage, Role, User
from tests.chat_driver import Person, make_invite, register

runner = CliRunner()
PEOPLE = (
    (801, Role.COUNTY, None, "孙主任"),
    (802, Role.TOWNSHIP, "岩头镇", "赵乡长"),
    (803, Role.CADRE, "芙蓉村", "李建国"),
    (804, Role.CADRE, "桥下村", "周书记"),
    (805, Role.OPERATOR, "芙蓉村", "王老板"),
)


def invoke(args: list[str], env: dict[str, str]):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def run(url: str, work) -> object:
    async def go():
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'access.db'}"

    async def populate(db: Database) -> None:
        await db.upgrade()
        clock = SystemClock()
        async with db.transaction() as session:
            await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
        core = build_core(db, clock)
        for user_id, role, area, name in PEOPLE:
            await register(core, db, clock, user_id, role, area, name)
        await Person(core, 803).press_data("m.rename")  # the cadre 李建国 is in the middle of renaming
        await Person(core, 806).command("start")  # a resident

    run(url, populate)
    return {"SHIXIAO_DATABASE_URL": url, "SHIXIAO_TELEGRAM_TOKEN": ""}


def lines(output: str) -> list[list[str]]:
    return [line.split("\t") for line in output.splitlines() if "\t" in line]


def test_users_list_one_person_a_line_with_filters(env):
    today = SystemClock().now().date().isoformat()
    everyone = lines(invoke(["users", "list"], env).output)
    assert everyone == [
        ["1", "county", "", "孙主任", today],
        ["2", "township", "岩头镇", "赵乡长", today],
        ["3", "cadre", "岩头镇芙蓉村", "李建国", today],
        ["4", "cadre", "桥下镇桥下村", "周书记", today],
        ["5", "operator", "岩头镇芙蓉村", "王老板", today],
        ["6", "resident", "", "", today],
    ]
    assert [row[3] for row in lines(invoke(["users", "list", "--role", "cadre"], env).output)] == ["李建国", "周书记"]
    assert [row[3] for row in lines(invoke(["users", "list", "--area", "岩头镇"], env).output)] == [
        "赵乡长",
        "李建国",
        "王老板",
    ]
    assert [row[3] for row in lines(invoke(["users", "list", "--role", "村干部", "--area", "芙蓉村"], env).output)] == [
        "李建国"
    ]
    assert [row[0] for row in lines(invoke(["users", "list", "--role", "居民"], env).output)] == ["6"]
    assert "没有符合条件的人员" in invoke(["users", "list", "--role", "township", "--area", "桥下镇"], env).output
    for args, message in ((["--role", "boss"], "未知角色“boss”"), (["--area", "火星村"], "找不到区域“火星村”")):
        result = invoke(["users", "list", *args], env)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_users_revoke_makes_a_resident_and_tells_the_person_and_the_county_office(env):
    result = invoke(["users", "revoke", "3"], env)
    assert result.exit_code == 0, result.output
    assert (
        "已撤销 李建国（编号3） 的身份（原为 村干部（岩头镇芙蓉村）），现为居民；已通知本人和县整规办（1 人）"
        in result.output
    )
    assert lines(invoke(["users", "list", "--role", "resident"], env).output)[0][:4] == ["3", "resident", "", "李建国"]

    async def look(db: Database):
        async with db.transaction() as session:
            outbox = {
                (row.chat_id, row.payload["text"])
                for row in await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.payload["text"].as_string().contains("撤销"))
                )
            }
            return outbox, await load_conversation(session, 3)

    outbox, conversation = run(env["SHIXIAO_DATABASE_URL"], look)
    assert conversation is None  # the rename 李建国 had started ended
    assert {chat for chat, _ in outbox} == {803, 801}
    assert any("操作人：县整规办（命令行）" in text for chat, text in outbox if chat == 801)
    assert any("已被县整规办撤销" in text for chat, text in outbox if chat == 803)


@pytest.mark.parametrize(
    ("user_id", "message"),
    [
        ("1", "这是县整规办唯一的工作人员"),
        ("6", "是居民，没有可撤销的身份"),
        ("99", "没有编号为 99 的用户"),
    ],
)
def test_users_revoke_refusals_are_explained(env, user_id, message):
    result = invoke(["users", "revoke", user_id], env)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert lines(invoke(["users", "list", "--role", "county"], env).output)[0][0] == "1"


def test_invite_list_and_revoke(env):
    made = invoke(["invite", "--role", "county"], env).output
    county = made.splitlines()[0].split("：")[1].strip()
    cadre = invoke(["invite", "--role", "cadre", "--area", "芙蓉村"], env).output.splitlines()[0].split("：")[1].strip()
    assert len(county) == 12 and len(cadre) == 8
    listed = lines(invoke(["invite", "list"], env).output)
    assert [row[:3] for row in listed] == [[county, "county", ""], [cadre, "cadre", "岩头镇芙蓉村"]]
    assert all(row[4] == "县整规办（命令行）" and len(row[3]) == 16 for row in listed)
    result = invoke(["invite", "revoke", cadre.lower()], env)
    assert result.exit_code == 0 and f"邀请码 {cadre} 已作废" in result.output
    assert [row[0] for row in lines(invoke(["invite", "list"], env).output)] == [county]
    for code, message in ((cadre, "已经作废"), ("ZZZZ2222", "没有找到这个邀请码")):
        refused = invoke(["invite", "revoke", code], env)
        assert refused.exit_code == 1 and message in refused.output


def test_invite_revoke_of_a_used_or_expired_code_is_refused(env):
    async def codes(db: Database):
        async with db.transaction() as session:
            used = await session.scalar(select(Invite.code).where(Invite.used_at.is_not(None)).limit(1))
        old = await make_invite(db, SystemClock(), Role.CADRE, "芙蓉村", valid=timedelta(seconds=-1))
        return used, old

    used, expired = run(env["SHIXIAO_DATABASE_URL"], codes)
    assert "已经被使用，无法作废" in invoke(["invite", "revoke", used], env).output
    assert "已过期" in invoke(["invite", "revoke", expired], env).output
    assert "没有未使用的邀请码" in invoke(["invite", "list"], env).output


def test_invite_needs_a_role_unless_listing_or_revoking(env):
    result = invoke(["invite"], env)
    assert result.exit_code == 2 and "缺少选项 --role" in result.output and "shixiao invite list" in result.output
    mixed = invoke(["invite", "--role", "cadre", "list"], env)
    assert mixed.exit_code == 2 and "不能与 list、revoke 一起使用" in mixed.output


def test_a_revoked_user_sees_the_resident_menu(env):
    assert invoke(["users", "revoke", "2"], env).exit_code == 0

    async def menu(db: Database):
        core = build_core(db, SystemClock())
        replies = await Person(core, 802).command("menu")
        async with db.transaction() as session:
            user = await session.scalar(select(User).where(User.channel_user_id == 802))
        return replies[0].text, user.role

    text, role = run(env["SHIXIAO_DATABASE_URL"], menu)
    assert role == Role.RESIDENT and "【十小通】居民" in text


def test_invite_an_owner_for_a_unit_by_name_within_the_village(env):
    from storage import owners
    from tests.inspection_support import add_unit

    async def units(db: Database) -> None:
        for name in ("老王小吃店", "王家小卖部", "王家理发店"):
            await add_unit(db, SystemClock(), "芙蓉村", name)
        await add_unit(db, SystemClock(), "桥下村", "桥头面馆")

    run(env["SHIXIAO_DATABASE_URL"], units)
    made = invoke(["invite", "--role", "operator", "--area", "芙蓉村", "--unit", "老王 小吃店"], env)
    assert made.exit_code == 0 and "单位：老王小吃店" in made.output
    code = made.output.splitlines()[0].split("：")[1].strip()
    ambiguous = invoke(["invite", "--role", "operator", "--area", "芙蓉村", "--unit", "王家"], env)
    assert ambiguous.exit_code != 0
    assert "有多家单位名称包含“王家”" in ambiguous.output and "王家小卖部、王家理发店" in ambiguous.output
    unknown = invoke(["invite", "--role", "operator", "--area", "芙蓉村", "--unit", "桥头面馆"], env)
    assert "找不到“桥头面馆”" in unknown.output and "老王小吃店、王家小卖部、王家理发店" in unknown.output
    assert (
        "--unit 只用于业主邀请码"
        in invoke(["invite", "--role", "cadre", "--area", "芙蓉村", "--unit", "老王"], env).output
    )

    async def redeem(db: Database):
        core = build_core(db, SystemClock())
        owner = Person(core, 809)
        await owner.command("start", code)
        await owner.text("王老板")
        async with db.transaction() as session:
            user = await session.scalar(select(User).where(User.channel_user_id == 809))
            return (
                user.role,
                [unit.name for unit in await owners.units_of(session, user.id)],
                await session.scalar(select(Invite.unit_id).where(Invite.code == code)) is not None,
            )

    assert run(env["SHIXIAO_DATABASE_URL"], redeem) == (Role.OPERATOR, ["老王小吃店"], True)
