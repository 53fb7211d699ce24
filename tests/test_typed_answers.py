"""Typed answers mean what they say: a button's label without its symbol, a unique beginning, 跳过 at a skippable
step; an ambiguous beginning lists the candidates; 跳过 is never stored as an answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.flow import Ambiguous, Option, Prompt, typed_option
from storage.complaint_models import Complaint
from storage.inspection_models import Unit
from storage.models import Conversation, Role, User
from tests.chat_driver import Person, register
from tests.complaints_support import complaint
from tests.inspection_support import add_unit

CHECK = Prompt(
    "",
    (
        Option("pass", "✓ 符合"),
        Option("fail", "✗ 不符合"),
        Option("na", "不适用"),
        Option("help", "查看说明"),
        Option("rest", "余下各项均符合"),
    ),
)
TOWNSHIPS = Prompt(
    "", (Option("1", "岩头镇"), Option("2", "桥下镇"), Option("3", "桥头镇"), Option("loc", "📍 发送位置"))
)


@pytest.mark.parametrize(
    ("prompt", "typed", "chosen"),
    [
        (CHECK, "不符合", "fail"),
        (CHECK, "符合", "pass"),
        (CHECK, " ✗ 不符合 ", "fail"),
        (CHECK, "不适", "na"),
        (CHECK, "余下", "rest"),
        (CHECK, "查看", "help"),
        (TOWNSHIPS, "岩头", "1"),
        (TOWNSHIPS, "发送位置", "loc"),
        (TOWNSHIPS, "桥下", "2"),
        (TOWNSHIPS, "ＹＡ", None),
        (TOWNSHIPS, "镇", None),
        (Prompt("", (Option("skip", "不清楚，跳过"),)), "跳过", "skip"),
        (Prompt("", (Option("skip", "不填备注"),)), "跳过", "skip"),
        (Prompt("", (Option("other", "不填备注"),)), "跳过", None),  # no skip option: 跳过 names nothing
    ],
)
def test_what_a_typed_text_chooses(prompt: Prompt, typed: str, chosen: str | None):
    option = typed_option(prompt, typed)
    assert (option.id if option else None) == chosen


@pytest.mark.parametrize(
    ("prompt", "typed", "labels"),
    [
        (CHECK, "不", ["✗ 不符合", "不适用"]),
        (TOWNSHIPS, "桥", ["桥下镇", "桥头镇"]),
    ],
)
def test_an_ambiguous_beginning_names_the_candidates(prompt: Prompt, typed: str, labels: list[str]):
    with pytest.raises(Ambiguous) as problem:
        typed_option(prompt, typed)
    assert problem.value.labels == labels


async def start_inspection(core, db, clock) -> Person:
    await add_unit(db, clock, "芙蓉村", "老王小卖部", "small_grocery")
    cadre = await register(core, db, clock, 1701, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小卖部")
    assert "检查第1/" in cadre.last.text
    return cadre


async def test_typing_a_label_without_its_symbol_answers_the_item(core, db, clock):
    cadre = await start_inspection(core, db, clock)
    await cadre.text("不符合")
    assert "请简要说明不符合的情况" in cadre.last.text  # what pressing ✗ 不符合 does
    await cadre.text("执照过期")
    assert "检查第2/" in cadre.last.text
    await cadre.text("符合")
    assert "检查第3/" in cadre.last.text
    replies = await cadre.text("不")
    assert "“✗ 不符合”、“不适用”" in replies[0].text and "检查第3/" in replies[0].text


async def test_a_unique_beginning_picks_the_township(core, db, clock):
    person = Person(core, 1702)
    await person.command("start")
    await person.press("投诉举报")
    await person.press("无证经营")
    await person.text("岩头")
    assert "请选择所在的村" in person.last.text
    await person.text("芙蓉")
    assert "哪家店" in person.last.text
    await person.text("跳过")  # what pressing 不清楚，跳过 does
    assert "请描述问题" in person.last.text


async def test_skipping_a_new_units_address_and_operator_by_typing_stores_nothing(core, db, clock):
    cadre = await register(core, db, clock, 1703, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("➕ 登记新单位")
    await cadre.text("芙蓉村阿三面馆")
    await cadre.text("小餐")  # a unique beginning of 小餐饮店
    assert "经营地址" in cadre.last.text
    await cadre.text("跳过")
    assert "经营者" in cadre.last.text
    await cadre.text("跳过")
    assert "检查第1/" in cadre.last.text
    await cadre.text("余下")  # not offered on the first item: nothing fits
    for _ in range(40):
        if "检查第" not in cadre.last.text:
            break
        await cadre.text("是" if "是否" in cadre.last.text else "符合")
    await cadre.text("完成")  # the photos step's 完成 typed
    assert "位置" in cadre.last.text
    await cadre.text("跳过")
    async with db.transaction() as session:
        conversation_data = await cadre_data(session, cadre)
    assert conversation_data["new_address"] == "" and conversation_data["new_operator"] == ""
    assert conversation_data["location"] is None


async def cadre_data(session, cadre: Person) -> dict:
    user = await session.scalar(select(User).where(User.channel_user_id == cadre.user_id))
    return dict((await session.get(Conversation, user.id)).data)


async def test_skip_is_never_stored_where_a_step_cannot_be_skipped(core, db, clock):
    person = Person(core, 1704)
    await person.command("start")
    await person.press("投诉举报")
    await person.press("无证经营")
    await person.press("岩头镇")
    await person.press("芙蓉村")
    await person.text("老李早餐店")
    replies = await person.text("跳过")  # the description cannot be skipped
    assert "这一步不能跳过" in replies[0].text or "至少需要" in replies[0].text
    await person.text("没有营业执照，天天开门")
    await person.press("完成")
    await person.press("实名提交")
    replies = await person.text("跳过")  # a name is required
    assert "这一步不能跳过" in replies[0].text
    await person.text("王小明")
    await person.text("13812345678")
    await person.press("确认提交")
    filed = await complaint(db, "TS-2026-000001")
    assert isinstance(filed, Complaint) and filed.complainant_name == "王小明"
    async with db.transaction() as session:
        assert await session.scalar(select(Unit).where(Unit.operator_name == "跳过")) is None
