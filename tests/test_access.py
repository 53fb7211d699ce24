"""Access in the chat (issue 21, items 2 and 8): failed codes limited per sender, county codes of 12 characters,
an official's role never replaced without asking (and the county office told), and the county office revoking
people and codes with a confirmation step, never its own last official."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import invites
from storage.conversations import load_conversation
from storage.models import Invite, OutboxMessage, Role, User
from tests.chat_driver import Person, make_invite, register


async def user_row(db, channel_user_id: int) -> User | None:
    async with db.transaction() as session:
        return await session.scalar(select(User).where(User.channel_user_id == channel_user_id))


async def invite_row(db, code: str) -> Invite:
    async with db.transaction() as session:
        return (await session.scalars(select(Invite).where(Invite.code == code))).one()


async def outbox_texts(db, chat_id: int) -> list[str]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return [row.payload.get("text", "") for row in rows]


# --- codes -----------------------------------------------------------------------------------------------------


async def test_county_codes_have_12_characters_and_the_others_8(core, db, clock):
    lengths = {
        role: len(await make_invite(db, clock, role, area))
        for role, area in (
            (Role.COUNTY, None),
            (Role.TOWNSHIP, "岩头镇"),
            (Role.CADRE, "芙蓉村"),
            (Role.OPERATOR, "芙蓉村"),
        )
    }
    assert lengths == {Role.COUNTY: 12, Role.TOWNSHIP: 8, Role.CADRE: 8, Role.OPERATOR: 8}
    county = await make_invite(db, clock, Role.COUNTY)
    spaced = f"{county[:4]} {county[4:8]}-{county[8:]}".lower()
    assert invites.looks_like_code(spaced) and invites.looks_like_code("ABCD EFGH")
    assert not invites.looks_like_code("ABCDEFGHJK")  # 10: neither length
    assert len(invites.ALPHABET) == 31 and len(invites.ALPHABET) ** 12 > 7.8e17
    print(f"county codes: 12 of {len(invites.ALPHABET)} characters = {len(invites.ALPHABET) ** 12:.1e} values")
    replies = await Person(core, 601).text(spaced)
    assert "县整规办干部" in replies[0].text
    assert (await user_row(db, 601)).role == Role.COUNTY


async def test_a_withdrawn_code_is_refused(core, db, clock):
    code = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    async with db.transaction() as session:
        invite = await invites.find_invite(session, code)
        assert await invites.revoke(session, invite, clock.now())
    assert "已被作废" in (await Person(core, 602).command("start", code))[0].text
    assert await user_row(db, 602) is None


@pytest.mark.parametrize("who", ["stranger", "resident"])
async def test_failed_codes_are_limited_per_sender(core, db, clock, caplog, who):
    person = Person(core, 603)
    if who == "resident":
        await person.command("start")
    good = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    caplog.set_level(logging.INFO)
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        assert "没有找到这个邀请码" in (await person.text(f"ZZZZZZZ{n + 2}"))[0].text
    clock.advance(timedelta(minutes=1))  # the first failure was 5 minutes ago
    refused = (await person.text(good))[0].text
    assert "请稍后再试（约5分钟后）" in refused
    assert (await invite_row(db, good)).used_at is None  # not even looked up
    other = Person(core, 604)  # another sender is not affected
    assert "没有找到这个邀请码" in (await other.text("ZZZZZZZ9"))[0].text
    clock.advance(timedelta(minutes=5))
    await person.text(good)
    assert (await user_row(db, 603)).role == Role.CADRE
    # Each failure is logged with the sender, and only a prefix of what was sent.
    failures = [record.getMessage() for record in caplog.records if "invite code refused" in record.getMessage()]
    assert len(failures) == 6 and all("603" in line or "604" in line for line in failures)
    assert "ZZZ…" in failures[0] and "ZZZZZZZ" not in caplog.text and good not in caplog.text
    assert any("not looked up" in record.getMessage() for record in caplog.records)
    print(
        f"failed codes: 5 wrong in 5 minutes, the 6th (a good code) refused for about 5 minutes; {len(failures)} logged"
    )


# --- an official redeeming another code ------------------------------------------------------------------------


async def test_an_official_confirms_before_a_code_replaces_their_role(core, db, clock):
    county = await register(core, db, clock, 610, Role.COUNTY, None, "孙主任")
    cadre = await register(core, db, clock, 611, Role.CADRE, "芙蓉村", "李建国")
    code = await make_invite(db, clock, Role.TOWNSHIP, "岩头镇")
    asked = (await cadre.text(code))[0]
    assert "您当前的身份是村干部（岩头镇芙蓉村）" in asked.text and "乡镇干部（岩头镇）" in asked.text
    assert [c.label for c in asked.choices] == ["确认更换", "保留现有身份"]
    await cadre.press("保留现有身份")
    assert "您的身份仍是村干部" in cadre.last.text
    assert (await user_row(db, 611)).role == Role.CADRE and (await invite_row(db, code)).used_at is None
    assert not [t for t in await outbox_texts(db, county.user_id) if "人员变动" in t]

    await cadre.text(code)
    await cadre.press("确认更换")
    assert "乡镇干部（岩头镇）" in cadre.last.text
    changed = await user_row(db, 611)
    assert (changed.role, changed.area.name) == (Role.TOWNSHIP, "岩头镇")
    notices = [t for t in await outbox_texts(db, county.user_id) if "人员变动" in t]
    assert notices == [
        "人员变动：李建国（编号2） 使用邀请码，身份由 村干部（岩头镇芙蓉村） 变更为 乡镇干部（岩头镇）。"
        "如有异常，可在“人员管理”中撤销。"
    ]
    assert not [t for t in await outbox_texts(db, cadre.user_id) if "人员变动" in t]


async def test_the_confirmation_is_valid_for_that_code_only(core, db, clock):
    cadre = await register(core, db, clock, 612, Role.CADRE, "芙蓉村", "李建国")
    first = await make_invite(db, clock, Role.TOWNSHIP, "岩头镇")
    second = await make_invite(db, clock, Role.CADRE, "苍坡村")
    old_yes = (await cadre.text(first))[0].choices[0].data
    assert "苍坡村" in (await cadre.command("start", second))[0].text
    assert "这个按钮" in (await cadre.press_data(old_yes))[0].text  # invalid, or stale
    assert (await user_row(db, 612)).role == Role.CADRE
    await cadre.press("确认更换")
    assert (await user_row(db, 612)).area.name == "苍坡村"
    assert (await invite_row(db, first)).used_at is None


async def test_a_resident_or_operator_takes_a_code_without_confirmation_and_no_notice(core, db, clock):
    county = await register(core, db, clock, 613, Role.COUNTY, None, "孙主任")
    resident = Person(core, 614)
    await resident.command("start")
    await resident.text(await make_invite(db, clock, Role.OPERATOR, "芙蓉村"))
    assert "真实姓名" in resident.last.text and (await user_row(db, 614)).role == Role.OPERATOR
    await resident.text("王老板")
    await resident.text(await make_invite(db, clock, Role.OPERATOR, "苍坡村"))
    assert (await user_row(db, 614)).area.name == "苍坡村"
    assert not [t for t in await outbox_texts(db, county.user_id) if "人员变动" in t]


async def test_an_official_sending_a_code_for_what_they_already_are_keeps_it(core, db, clock):
    cadre = await register(core, db, clock, 615, Role.CADRE, "芙蓉村", "李建国")
    code = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    assert "无需使用这个邀请码" in (await cadre.text(code))[0].text
    assert (await invite_row(db, code)).used_at is None


async def test_the_last_county_official_cannot_take_another_role(core, db, clock):
    county = await register(core, db, clock, 616, Role.COUNTY, None, "孙主任")
    code = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    assert "唯一的工作人员" in (await county.text(code))[0].text
    second = await register(core, db, clock, 617, Role.COUNTY, None, "钱主任")
    await county.text(code)
    await county.press("确认更换")
    assert (await user_row(db, 616)).role == Role.CADRE
    assert [t for t in await outbox_texts(db, second.user_id) if "孙主任（编号1） 使用邀请码" in t]


async def test_an_official_in_the_middle_of_something_finishes_it_first(core, db, clock):
    cadre = await register(core, db, clock, 618, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("修改姓名")
    code = await make_invite(db, clock, Role.TOWNSHIP, "岩头镇")
    assert "请先完成或取消「修改姓名」" in (await cadre.command("start", code))[0].text
    async with db.transaction() as session:
        assert (await load_conversation(session, (await user_row(db, 618)).id)).flow == "rename"


# --- 人员管理 ---------------------------------------------------------------------------------------------------


async def test_the_county_office_revokes_a_person_after_confirming(core, db, clock):
    county = await register(core, db, clock, 620, Role.COUNTY, None, "孙主任")
    other = await register(core, db, clock, 621, Role.COUNTY, None, "钱主任")
    cadre = await register(core, db, clock, 622, Role.CADRE, "芙蓉村", "李建国")
    await register(core, db, clock, 623, Role.CADRE, "桥下村", "周书记")
    await cadre.press("修改姓名")  # an open conversation, ended by the revocation
    await county.press("人员管理")
    assert "村干部（2人）" in county.buttons() and "县整规办干部（2人）" in county.buttons()
    await county.press("村干部（2人）")
    await county.press("岩头镇（1）")
    listing = county.last.text
    assert "李建国（编号3）｜村干部（岩头镇芙蓉村）｜2026年5月6日登记" in listing and "周书记" not in listing
    await county.press("撤销 李建国")
    assert "确定撤销 李建国（编号3）（村干部（岩头镇芙蓉村））的身份吗" in county.last.text
    await county.press("取消")
    assert (await user_row(db, 622)).role == Role.CADRE
    await county.press("人员管理")
    await county.press("村干部（2人）")
    await county.press("全县（2人）")
    await county.press("撤销 李建国")
    await county.press("确认撤销")
    assert "已撤销 李建国（编号3） 的身份（原为 村干部（岩头镇芙蓉村）），现为居民" in county.last.text
    revoked = await user_row(db, 622)
    assert (revoked.role, revoked.area_id, revoked.name) == (Role.RESIDENT, None, "李建国")
    async with db.transaction() as session:
        assert await load_conversation(session, revoked.id) is None
    assert [t for t in await outbox_texts(db, cadre.user_id) if "已被县整规办撤销" in t]
    assert [
        t
        for t in await outbox_texts(db, other.user_id)
        if "人员变动：李建国（编号3） 的身份" in t and "操作人：孙主任（编号1）" in t
    ]
    assert not [t for t in await outbox_texts(db, county.user_id) if "人员变动" in t]  # the actor has the reply
    # The revoked cadre's next message gets the resident's menu; their old buttons are refused.
    assert "居民" in (await cadre.command("menu"))[0].text
    assert "无权办理" in (await cadre.press_data("m.inspect"))[0].text


async def test_the_county_office_never_revokes_its_last_official(core, db, clock):
    county = await register(core, db, clock, 624, Role.COUNTY, None, "孙主任")
    me = (await user_row(db, 624)).id
    await county.press_data(f"m.person_revoke.{me}")
    await county.press("确认撤销")
    assert "这是县整规办唯一的工作人员" in county.last.text
    assert (await user_row(db, 624)).role == Role.COUNTY
    resident = Person(core, 625)
    await resident.command("start")
    assert "是居民，没有可撤销的身份" in (await county.press_data(f"m.person_revoke.{me + 1}"))[0].text
    assert "没有编号为 99999 的用户" in (await county.press_data("m.person_revoke.99999"))[0].text


async def test_the_county_office_withdraws_a_code_after_confirming(core, db, clock):
    county = await register(core, db, clock, 626, Role.COUNTY, None, "孙主任")
    code = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    await county.press("人员管理")
    await county.press("未使用的邀请码（1个）")
    assert (
        f"1. {code}｜村干部（岩头镇芙蓉村）｜有效期至 2026年5月13日 09:00｜生成人：县整规办（命令行）"
        in county.last.text
    )
    await county.press(f"作废 {code}")
    assert f"确定作废邀请码 {code}（村干部（岩头镇芙蓉村））吗" in county.last.text
    await county.press("确认作废")
    assert f"邀请码 {code} 已作废" in county.last.text
    assert (await invite_row(db, code)).revoked_at is not None
    assert "已被作废" in (await Person(core, 627).text(code))[0].text
    assert "这个邀请码已经作废" in (await county.press_data(f"m.code_revoke.{(await invite_row(db, code)).id}"))[0].text
    assert "目前没有未使用的邀请码" in (await county.press_data("m.codes"))[0].text


async def test_people_lists_are_paged(core, db, clock):
    county = await register(core, db, clock, 628, Role.COUNTY, None, "孙主任")
    for n in range(10):
        await register(core, db, clock, 700 + n, Role.OPERATOR, "芙蓉村", f"业主{'甲乙丙丁戊己庚辛壬癸'[n]}")
    await county.press_data("m.people.operator.all")
    assert "共10人（第1/2页）" in county.last.text and "下一页 ➡" in county.buttons()
    await county.press("下一页 ➡")
    assert "（第2/2页）" in county.last.text and "9. 业主壬" in county.last.text
    assert "撤销 业主癸" in county.buttons() and "⬅ 上一页" in county.buttons()
    for forged in ("m.people.operator.abc", "m.people.nobody", "m.people.operator.99999", "m.people.operator.all.x"):
        assert (await county.press_data(forged))[0].text  # a chooser or the list again, never an error
