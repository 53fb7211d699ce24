"""The conversation core, driven directly: registration, roles, flow mechanics, bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.core import Core, compact
from handlers.events import Inbound, Kind, Reply
from storage import outbox
from storage.models import Conversation, Invite, OutboxMessage, Role, User
from tests.chat_driver import Person, make_invite, register


async def count(db, model) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_start_without_code_makes_a_resident_with_a_menu(core, db):
    person = Person(core, 501)
    replies = await person.command("start")
    assert "欢迎使用十小通" in replies[0].text
    assert "居民" in person.last.text
    # The menus grow with features: compare with what menus.yaml gives a resident.
    assert person.buttons() == [item.label for item in core.parts.menus.menu_for(Role.RESIDENT)]
    assert await count(db, User) == 1


async def test_a_stranger_who_is_not_starting_gets_a_hint_and_nothing_is_stored(core, db):
    person = Person(core, 502)
    for action in (person.text("你好，请问怎么用"), person.sticker(), person.photo(), person.press_data("m.invite")):
        replies = await action
        assert "请发送 /start" in replies[0].text
    assert await count(db, User) == 0


async def test_invite_registers_role_area_and_name(core, db, clock):
    person = await register(core, db, clock, 503, Role.CADRE, "芙蓉村", "李建国")
    assert "村干部（岩头镇芙蓉村）" in person.last.text
    async with db.transaction() as session:
        user = (await session.scalars(select(User))).one()
        assert (user.role, user.name, user.area.name) == ("cadre", "李建国", "芙蓉村")
        invite = (await session.scalars(select(Invite))).one()
        assert invite.used_by_id == user.id


async def test_a_plain_code_also_registers(core, db, clock):
    code = await make_invite(db, clock, Role.TOWNSHIP, "岩头镇")
    person = Person(core, 504)
    replies = await person.text(code.lower())
    assert "乡镇干部（岩头镇）" in replies[0].text
    assert "真实姓名" in person.last.text


async def test_used_expired_and_unknown_codes_are_refused_and_change_nothing(core, db, clock):
    code = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    await register_with(core, 505, code)
    second = Person(core, 506)
    assert "已经使用过" in (await second.command("start", code))[0].text
    old = await make_invite(db, clock, Role.CADRE, "苍坡村")
    clock.advance(timedelta(days=8))
    assert "已过期" in (await second.command("start", old))[0].text
    assert "没有找到" in (await second.command("start", "ZZZZ2222"))[0].text
    assert await count(db, User) == 1  # only the first, successful user exists


async def register_with(core: Core, user_id: int, code: str) -> Person:
    person = Person(core, user_id)
    await person.command("start", code)
    await person.text("张三丰")
    return person


async def test_bad_input_reasks_in_chinese_and_offers_menu_after_three_failures(core, db, clock):
    code = await make_invite(db, clock, Role.OPERATOR, "芙蓉村")
    person = Person(core, 507)
    await person.command("start", code)
    assert "至少需要2个字" in (await person.text("王"))[0].text
    assert "需要输入文字" in (await person.photo())[0].text
    third = (await person.text("x" * 40_000))[0]
    assert "内容太长了" in third.text and "返回主菜单" in [c.label for c in third.choices]
    assert "真实姓名" in third.text  # the step is asked again, nothing lost
    await person.text("赵六")
    assert "登记完成" in person.last.text


async def test_cancel_and_menu_work_mid_flow(core, db, clock):
    person = await register(core, db, clock, 508, Role.COUNTY, None, "周县长")
    await person.press("生成邀请码")
    await person.press("乡镇干部")
    assert "请选择乡镇" in person.last.text
    await person.command("menu")
    assert "未完成的「生成邀请码」" in person.last.text
    await person.press("继续填写「生成邀请码」")
    assert "请选择乡镇" in person.last.text  # same step
    await person.command("cancel")
    assert "已取消「生成邀请码」" in person.last.text
    assert await count(db, Conversation) == 0
    assert "当前没有进行中的操作" in (await person.command("cancel"))[0].text


async def test_forged_and_stale_buttons_are_refused(core, db, clock):
    person = await register(core, db, clock, 509, Role.COUNTY, None, "周县长")
    await person.press("生成邀请码")
    role_buttons = [c.data for c in person.last.choices]
    await person.press("村干部")
    assert "按钮已过期" in (await person.press_data(role_buttons[1]))[0].text
    current = person.last.choices[0].data.split(".")[0]
    assert "按钮无效" in (await person.press_data(f"{current}.zzz' OR 1=1"))[0].text
    assert "按钮无效" in (await person.press_data("完全伪造"))[0].text
    assert "请选择乡镇" in person.last.text


async def test_a_cadre_is_refused_the_invite_action(core, db, clock):
    person = await register(core, db, clock, 510, Role.CADRE, "芙蓉村", "李建国")
    assert "生成邀请码" not in person.buttons()
    invites_before = await count(db, Invite)
    replies = await person.press_data("m.invite")
    assert "无权办理" in replies[0].text and "村干部" in replies[0].text
    assert await count(db, Invite) == invites_before
    assert await count(db, Conversation) == 0


async def test_township_official_invites_only_into_own_villages(core, db, clock):
    person = await register(core, db, clock, 511, Role.TOWNSHIP, "岩头镇", "陈镇长")
    await person.press("生成邀请码")
    await person.press("村干部")
    assert person.buttons() == ["岩头村", "芙蓉村", "苍坡村", "港头村", "渡头村", "下日川村"]
    nonce = person.last.choices[0].data.split(".")[0]
    async with db.transaction() as session:
        from storage.areas import find_area

        other = await find_area(session, "小旦岙村")
    assert "按钮无效" in (await person.press_data(f"{nonce}.{other.id}"))[0].text
    await person.press("苍坡村")
    await person.press("确认")
    match = re.search(r"邀请码：([A-Z0-9]{8})", person.last.text)
    assert match and "村干部（岩头镇苍坡村）" in person.last.text
    newcomer = await register_with(core, 512, match.group(1))
    assert "村干部（岩头镇苍坡村）" in newcomer.last.text


async def test_idle_conversation_expires_with_a_message(db, clock):
    core = build_core(db, clock, CoreConfig(conversation_timeout=timedelta(hours=2)))
    person = await register(core, db, clock, 513, Role.CADRE, "芙蓉村", "李建国")
    await person.press("修改姓名")
    clock.advance(timedelta(hours=3))
    replies = await person.text("李四")
    assert "「修改姓名」超过2小时没有继续，已自动结束" in replies[0].text
    assert await count(db, Conversation) == 0


async def test_a_restarted_core_continues_the_same_step(db, clock):
    first = build_core(db, clock)
    code = await make_invite(db, clock, Role.COUNTY, None)
    person = Person(first, 514)
    await person.command("start", code)
    await person.text("钱主任")
    await person.press("生成邀请码")
    await person.press("村干部")
    restarted = Person(build_core(db, clock), 514, replies=list(person.replies))
    await restarted.press("岩头镇")
    assert "请选择村" in restarted.last.text


async def test_a_redelivered_update_is_handled_once(core, db):
    inbound = Inbound(user_id=515, chat_id=515, kind=Kind.COMMAND, command="start", update_id=77)
    first = await core.handle(inbound)
    again = await core.handle(inbound)
    assert first.replies and again.duplicate and not again.replies
    async with db.transaction() as session:
        assert sum((await outbox.count_by_status(session)).values()) == 1


async def test_unexpected_errors_reach_the_user_as_a_plain_apology(db, clock):
    async def broken(turn, text):
        raise RuntimeError("boom")

    core = build_core(db, clock, free_text=broken)
    person = Person(core, 516)
    await person.command("start")
    replies = await person.text("随便问问")
    assert replies[0].text.startswith("抱歉，系统处理时出现问题")
    assert "Traceback" not in replies[0].text and "boom" not in replies[0].text
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert rows[-1].payload["text"].startswith("抱歉")


async def test_unknown_commands_and_edits_get_chinese_answers(core):
    person = Person(core, 517)
    await person.command("start")
    assert "无法识别的命令 /frobnicate" in (await person.command("frobnicate"))[0].text
    edited = await person._send(kind=Kind.EDITED)
    assert "不会被重新处理" in edited[0].text


def test_compact_folds_plain_texts_into_the_next_message():
    from handlers.events import Choice

    merged = compact([Reply("甲"), Reply("乙"), Reply("丙", choices=(Choice("s1.a", "好"),))])
    assert [r.text for r in merged] == ["甲\n\n乙\n\n丙"]
    assert compact([Reply("甲"), Reply("乙")])[0].text == "甲\n\n乙"
    long = compact([Reply("长" * 3000), Reply("短" * 3000)])
    assert len(long) == 2


def test_every_text_key_used_by_the_code_exists():
    from handlers.texts import Texts

    keys = Texts.load().keys()
    used: set[str] = set()
    for path in Path("handlers").rglob("*.py"):
        used |= set(re.findall(r"texts\(\s*\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    used |= {"class_upgrade", "class_rectify", "class_shutdown"}
    dynamic = {f"help_{role.value}" for role in Role} | {
        f"invite_{p}" for p in ("unknown", "used", "revoked", "expired")
    }
    assert used, "the scan found no keys"
    assert (used | dynamic) - keys == set()


async def test_a_command_runs_its_action_with_the_same_role_check(core, db, clock):
    cadre = await register(core, db, clock, 518, Role.CADRE, "芙蓉村", "李建国")
    assert "无权办理" in (await cadre.command("invite"))[0].text
    assert "姓名：李建国" in (await cadre.command("profile"))[0].text
