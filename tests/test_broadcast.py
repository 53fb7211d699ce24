"""Broadcasts by the county office: audience by role and area, preview with the count, refusals, long text."""

from __future__ import annotations

from sqlalchemy import select, update

from storage.models import OutboxMessage, Role, User
from tests.chat_driver import Person, register

HEAD = "【县整规办通知】"


async def broadcast_rows(db) -> list[tuple[int, str]]:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.chat_id, row.payload["text"]) for row in rows if row.payload.get("text", "").startswith(HEAD)]


async def people(core, db, clock) -> dict[str, Person]:
    return {
        "county": await register(core, db, clock, 901, Role.COUNTY, None, "县整规办老周"),
        "county2": await register(core, db, clock, 902, Role.COUNTY, None, "县整规办小李"),
        "yantou": await register(core, db, clock, 903, Role.TOWNSHIP, "岩头镇", "陈镇长"),
        "qiaoxia": await register(core, db, clock, 904, Role.TOWNSHIP, "桥下镇", "吴镇长"),
        "cadre1": await register(core, db, clock, 905, Role.CADRE, "芙蓉村", "李建国"),
        "cadre2": await register(core, db, clock, 906, Role.CADRE, "苍坡村", "王村长"),
        "cadre3": await register(core, db, clock, 907, Role.CADRE, "桥下村", "赵村长"),
        "operator": await register(core, db, clock, 908, Role.OPERATOR, "芙蓉村", "王老板"),
    }


async def compose(county: Person, text: str, roles: str, area: str) -> str:
    await county.press("发布通知")
    assert "请输入要发布的通知内容" in county.last.text
    await county.text(text)
    await county.press(roles)
    await county.press(area)
    return county.last.text


async def test_a_notice_reaches_the_chosen_roles_in_the_chosen_township(core, db, clock):
    cast = await people(core, db, clock)
    county = cast["county"]
    preview = await compose(county, "各村：\n\n\n\n  请于5月10日前完成监管档案的建档。  \n谢谢配合", "村干部", "岩头镇")
    message = "【县整规办通知】\n各村：\n\n请于5月10日前完成监管档案的建档。\n谢谢配合\n\n——县整规办老周（县整规办）2026年5月6日"
    assert preview.startswith("【通知预览】\n" + message)
    assert "接收人：村干部 · 岩头镇，共2人。" in preview
    assert await broadcast_rows(db) == []  # nothing goes out before the confirmation
    await county.press("✅ 确认发送")
    assert "通知已发出，共2人（村干部 · 岩头镇）" in county.last.text
    assert await broadcast_rows(db) == [(905, message), (906, message)]


async def test_everyone_in_the_county_but_the_author_and_residents(core, db, clock):
    cast = await people(core, db, clock)
    resident = Person(core, 909)
    await resident.command("start")
    preview = await compose(cast["county"], "全县“十小”整规推进会定于下周一召开。", "全部工作人员和业主", "全县")
    assert "共7人" in preview
    await cast["county"].press("✅ 确认发送")
    assert sorted(chat for chat, _ in await broadcast_rows(db)) == [902, 903, 904, 905, 906, 907, 908]


async def test_an_empty_audience_sends_nothing_and_offers_a_new_choice(core, db, clock):
    cast = await people(core, db, clock)
    county = cast["county"]
    preview = await compose(county, "请各业主亮证经营。", "“十小”业主", "东城街道")
    assert "没有符合条件的接收人" in preview
    assert county.buttons() == ["重新选择接收人", "取消，不发送"]
    await county.press("重新选择接收人")
    assert "发给哪些人" in county.last.text
    await county.press("“十小”业主")
    await county.press("岩头镇")
    assert "共1人" in county.last.text
    # The only recipient leaves before the author confirms: nothing is sent.
    async with db.transaction() as session:
        await session.execute(update(User).where(User.channel_user_id == 908).values(role=Role.RESIDENT))
    await county.press("✅ 确认发送")
    assert "没有符合条件的接收人，通知未发送" in county.last.text
    assert await broadcast_rows(db) == []


async def test_a_text_over_the_limit_is_refused_and_nothing_is_lost(core, db, clock):
    cast = await people(core, db, clock)
    county = cast["county"]
    await county.press("发布通知")
    refused = await county.text("通" * 10_000)
    assert "通知内容太长了（10000个字）。一条通知最多3500个字（Telegram 单条消息上限为4096个字符）" in refused[0].text
    await county.photo()
    assert "需要输入文字" in county.last.text
    longest = "知" * 3500
    await county.text(longest)
    await county.press("乡镇干部")
    await county.press("全县")
    assert len(county.last.text) <= 4096
    await county.press("✅ 确认发送")
    rows = await broadcast_rows(db)
    assert len(rows) == 2 and all(longest in text and len(text) <= 4096 for _, text in rows)


async def test_only_the_county_office_may_broadcast(core, db, clock):
    cast = await people(core, db, clock)
    for who in ("yantou", "cadre1", "operator"):
        refused = await cast[who].press_data("m.broadcast")
        assert "「发布通知」仅限相关工作人员使用" in refused[0].text
        assert "发布通知" not in cast[who].buttons()
    forged = await cast["yantou"].press_data("s1234.send")  # a step button without a conversation of its own
    assert "过期" in forged[0].text
    await cast["county"].command("menu")
    assert "发布通知" in cast["county"].buttons()
    await cast["county"].press("发布通知")
    await cast["county"].text("测试通知")
    await cast["county"].press("乡镇干部")
    await cast["county"].press("全县")
    await cast["county"].press("取消，不发送")
    assert "已取消，通知未发送" in cast["county"].last.text
    assert await broadcast_rows(db) == []
