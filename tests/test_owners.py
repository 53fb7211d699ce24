"""Issue 15, items 1, 2 and 7: owners bound to units by a code (chat and CLI), what the owner is told after an
inspection (text and 整改告知单 PDF), the owner's card, and the bad input around them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from handlers.rectification_pdf import ensure_sheet
from storage import owners
from storage.inspection_models import Unit, UnitStatus
from storage.models import Invite, Role, User
from tests.chat_driver import Person, make_invite, register
from tests.inspection_support import add_unit
from tests.owner_support import inspect_with_one_failure, last_outbox_id, outbox_to, owner_core

OWNER = 7301


def read(path: str) -> bytes | None:
    return Path(path).read_bytes() if Path(path).exists() else None


async def invited_code(cadre: Person) -> str:
    """The cadre presses 邀请业主 under the submitted report; returns the code shown."""
    await cadre.press("邀请业主")
    qr, text = cadre.replies[-2], cadre.replies[-1]
    assert qr.photo and read(qr.photo)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "https://t.me/shixiao_test_bot?start=" in text.text
    return text.text.split("业主邀请码：")[1][:8]


async def test_cadre_invites_the_owner_who_registers_and_is_told_of_the_next_inspection(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    await register(core, db, clock, 7201, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 7202, Role.CADRE, "芙蓉村", "李建国")
    await inspect_with_one_failure(cadre)
    assert "业主尚未登记" in cadre.last.text
    assert {"打印整改告知单", "单位档案", "邀请业主"} <= set(cadre.buttons())
    code = await invited_code(cadre)

    owner = Person(core, OWNER)
    await owner.command("start", code)
    assert "真实姓名" in owner.last.text
    await owner.text("王老板")
    assert "登记完成" in owner.last.text and "我的单位" in [c.label for c in owner.last.choices]
    async with db.transaction() as session:
        user = await session.scalar(select(User).where(User.channel_user_id == OWNER))
        assert user.role == Role.OPERATOR
        assert [unit.id for unit in await owners.units_of(session, user.id)] == [unit_id]
    await owner.press("我的单位")
    card = owner.replies[-2].text
    assert "老王小吃店" in card and "整改中" in card and "待整改项目（1项）" in card and "整改期限" in card

    # The next inspection of the unit: the owner is told, with the sheet.
    before = await last_outbox_id(db)
    clock.advance(__import__("datetime").timedelta(days=1))
    await inspect_with_one_failure(cadre, deadline="14天后")
    assert "已将检查结果和整改要求通知业主（1人）" in cadre.last.text
    sent = await outbox_to(db, OWNER, before)
    assert [row.kind for row in sent] == ["message", "document"]
    text = sent[0].payload["text"]
    for words in (
        "检查结果：不达标（需整改）",
        "整治分类：整改规范类",
        "实际经营项目与执照、许可证核定的范围一致",
        "依据：",
        "怎么整改：",
        "现场情况：营业执照未悬挂在显眼处",
        "2026年5月21日前整改完毕",
    ):
        assert words in text, (words, text)
    assert read(sent[1].payload["document"]) is None  # rendered by the sender, outside the transaction
    ensure_sheet(sent[1].payload)  # what the sender does before sending it
    pdf = read(sent[1].payload["document"])
    assert pdf.startswith(b"%PDF") and b"/Type3" in pdf  # the glyphs drawn are in the file
    assert sent[0].payload["fallback"]["chat_id"] == 7202  # whom the sender tells if the owner blocked the bot


async def test_a_second_code_adds_a_unit_and_officials_are_asked_first(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    first = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    second = await add_unit(db, clock, "芙蓉村", "王家小卖部", "grocery")
    cadre = await register(core, db, clock, 7202, Role.CADRE, "芙蓉村", "李建国")
    codes = {}
    for unit_id in (first, second, second):
        await cadre.press_data(f"m.owner_invite.{unit_id}")
        codes.setdefault(unit_id, []).append(cadre.last.text.split("业主邀请码：")[1][:8])
    owner = Person(core, OWNER)
    await owner.text(codes[first][0])
    await owner.text("王老板")
    await owner.text(codes[second][0])
    assert "已将“王家小卖部”加入您的单位。您现在共有2家单位" in owner.last.text
    await owner.text(codes[second][1])
    assert "您已经是“王家小卖部”的业主" in owner.last.text
    await owner.press("我的单位")
    assert {"老王小吃店 · 未检查", "王家小卖部 · 未检查"} == set(owner.buttons())
    # A cadre sending an owner's code: asked to confirm before the role changes.
    other = await register(core, db, clock, 7203, Role.CADRE, "芙蓉村", "张会计")
    await other.text(codes[second][1])
    assert "确认更换吗" in other.last.text
    await other.press("保留现有身份")
    async with db.transaction() as session:
        assert (await session.scalar(select(User.role).where(User.channel_user_id == 7203))) == Role.CADRE
        assert (await session.scalar(select(Invite.used_at).where(Invite.code == codes[second][1]))) is None


async def test_owners_see_only_their_own_units_and_forged_buttons_change_nothing(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    mine = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    theirs = await add_unit(db, clock, "芙蓉村", "隔壁面馆")
    foreign = await add_unit(db, clock, "桥下村", "桥头面馆")
    cadre = await register(core, db, clock, 7202, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.owner_invite.{mine}")
    code = cadre.last.text.split("业主邀请码：")[1][:8]
    owner = Person(core, OWNER)
    await owner.command("start", code)
    await owner.text("王老板")
    for data in (
        f"m.unit_card.{theirs}",
        f"m.unit_card.{foreign}",
        "m.unit_card.abc",
        "m.unit_card.99999999999",
        f"m.owner_invite.{mine}",
        "m.rectify_sheet.1",
    ):
        await owner.press_data(data)
        assert "隔壁面馆" not in owner.last.text and "桥头面馆" not in owner.last.text
        assert "无权" in owner.last.text or "不能使用" in owner.last.text, (data, owner.last.text)
    # A cadre cannot invite an owner for another village's unit.
    before = await last_outbox_id(db)
    await cadre.press_data(f"m.owner_invite.{foreign}")
    assert "无权查看" in cadre.last.text
    async with db.transaction() as session:
        assert len(list(await session.scalars(select(Invite).where(Invite.unit_id == foreign)))) == 0
    assert len(await outbox_to(db, 7202, before)) == 1


async def test_a_code_for_a_closed_unit_is_refused(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 7202, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.owner_invite.{unit_id}")
    code = cadre.last.text.split("业主邀请码：")[1][:8]
    async with db.transaction() as session:
        (await session.get(Unit, unit_id)).status = UnitStatus.CLOSED
    owner = Person(core, OWNER)
    await owner.command("start", code)
    assert "已不在监管档案中" in owner.last.text
    resident = Person(core, OWNER + 1)
    await resident.command("start")
    await resident.text(code)
    assert "已不在监管档案中" in resident.last.text
    async with db.transaction() as session:
        assert await session.scalar(select(User).where(User.channel_user_id == OWNER)) is None
        assert (await session.scalar(select(User.role).where(User.channel_user_id == OWNER + 1))) == Role.RESIDENT
        assert (await session.scalar(select(Invite.used_at).where(Invite.code == code))) is None


async def test_an_operator_code_without_a_unit_still_works(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    owner = Person(core, OWNER)
    await owner.command("start", await make_invite(db, clock, Role.OPERATOR, "芙蓉村"))
    await owner.text("王老板")
    await owner.press("我的单位")
    assert "您还没有绑定单位" in owner.last.text


async def test_the_owner_reports_a_fix_with_photos_and_the_cadre_gets_a_task(db, clock, tmp_path):
    from storage.owner_models import OwnerFix

    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 7202, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.owner_invite.{unit_id}")
    owner = Person(core, OWNER)
    await owner.command("start", cadre.last.text.split("业主邀请码：")[1][:8])
    await owner.text("王老板")
    await owner.press_data(f"m.fix_report.{unit_id}")
    assert "没有待整改的项目" in owner.last.text  # not inspected yet
    await inspect_with_one_failure(cadre)
    await owner.press("我的单位")
    assert "报告已整改" in [choice.label for choice in owner.replies[-2].choices]  # on the card
    await owner.press_data(f"m.fix_report.{unit_id}")
    assert "请选择已经整改好的项目" in owner.last.text
    await owner.press(owner.buttons()[0])
    assert "每项至少1张" in owner.last.text and owner.last.choices == ()
    await owner.text("已整改")  # no photo: refused
    assert "需要至少1张整改后的照片" in owner.last.text
    await owner.photo()
    await owner.press("完成（已传1张）")
    await owner.text("已按执照核定范围经营")
    assert "提交（已报1项）" in owner.buttons()
    before = await last_outbox_id(db)
    await owner.press("提交（已报1项）")
    assert "已通知村干部（1人）上门复查" in owner.last.text
    sent = await outbox_to(db, 7202, before)
    task = next(row for row in sent if "【复查任务】" in row.payload.get("text", ""))
    assert (
        "实际经营项目与执照、许可证核定的范围一致" in task.payload["text"]
        and "已按执照核定范围经营" in task.payload["text"]
    )
    assert task.payload["buttons"][0][0]["data"] == f"m.inspect.{unit_id}"
    assert any(row.kind == "photo" and row.payload["photo"] == "file-1" for row in sent)
    async with db.transaction() as session:
        fix = (await session.scalars(select(OwnerFix))).one()
        assert list(fix.items) == ["common.scope"] and fix.items["common.scope"]["note"] == "已按执照核定范围经营"
        assert (await session.get(Unit, unit_id)).status == UnitStatus.RECTIFYING  # numbers unchanged


async def test_an_item_takes_five_photos_at_most_and_is_reported_afresh_when_chosen_again(db, clock, tmp_path):
    from storage.owner_models import OwnerFix

    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 7203, Role.CADRE, "芙蓉村", "李建国")
    await inspect_with_one_failure(cadre)
    await cadre.press("邀请业主")
    owner = Person(core, OWNER)
    await owner.command("start", cadre.last.text.split("业主邀请码：")[1][:8])
    await owner.text("王老板")
    await owner.press_data(f"m.fix_report.{unit_id}")
    item = owner.buttons()[0]
    await owner.press(item)
    for _ in range(5):
        await owner.photo()
    assert "已收到5张" in owner.last.text
    await owner.photo()  # a sixth: refused, the five kept
    assert "每项最多5张照片" in owner.last.text and "已收到5张" in owner.last.text
    await owner.press("完成（已传5张）")
    await owner.text("跳过")
    assert owner.buttons()[0] == f"✅ {item}" and "提交（已报1项）" in owner.buttons()
    await owner.press(f"✅ {item}")  # chosen again: its photos and note start afresh
    assert "已收到0张" in owner.last.text
    await owner.photo()
    await owner.press("完成（已传1张）")
    await owner.text("重新挂好了执照")
    assert "提交（已报1项）" in owner.buttons()
    await owner.press("提交（已报1项）")
    async with db.transaction() as session:
        fix = (await session.scalars(select(OwnerFix))).one()
        entry = fix.items["common.scope"]
        assert (len(entry["photos"]), entry["note"]) == (1, "重新挂好了执照")
