"""Asking in chat: an answer with its source, 您是想问 suggestions, or 不确定 forwarded to the county office,
whose answer reaches the asker and becomes a new entry with one button."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage, Role
from storage.question_models import LearnedEntry, Question
from tests.chat_driver import Person, register


async def test_an_operator_gets_an_answer_with_its_source(core, db, clock):
    operator = await register(core, db, clock, 1101, Role.OPERATOR, "芙蓉村", "王老板")
    replies = await operator.text("饭店要办什么证")
    assert "餐饮服务许可证" in replies[0].text and "【出处】" in replies[0].text
    via_command = await operator.command("ask", "網吧幾點關門")  # traditional characters
    assert "【出处】" in via_command[0].text


async def test_ask_button_starts_a_question_flow(core, db, clock):
    resident = Person(core, 1102)
    await resident.command("start")
    await resident.press("咨询标准")
    assert "请输入您的问题" in resident.last.text
    await resident.text("小餐馆的餐具要消毒吗")
    assert "消毒" in resident.last.text and "【出处】" in resident.last.text


async def test_a_resident_asking_for_the_ten_industries_gets_the_list(core, db, clock):
    resident = Person(core, 1106)
    await resident.command("start")
    await resident.press("咨询标准")
    await resident.text("十小行业包括哪些")
    answer = resident.last.text
    assert "本县“十小”行业名单（共10个）" in answer and "1. 小食杂店" in answer and "10. 小药店" in answer
    assert "可问" not in answer


async def test_an_unknown_question_goes_to_the_county_and_comes_back_as_an_entry(core, db, clock):
    county = await register(core, db, clock, 1103, Role.COUNTY, None, "周主任")
    resident = Person(core, 1104)
    await resident.command("start")
    question = "村里的快递驿站需要办理什么手续"
    replies = await resident.text(question)
    assert replies[0].text.startswith("不确定")
    async with db.transaction() as session:
        queued = (await session.scalars(select(Question))).one()
        notices = [row.payload for row in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == 1103))]
    assert any(question in notice["text"] and "来自一位居民" in notice["text"] for notice in notices)
    await county.press("待答复问题")
    await county.press(question[:30])
    await county.text("快递驿站不属于“十小”行业，请咨询邮政管理部门。")
    assert "答复已发送给提问人" in county.last.text
    async with db.transaction() as session:
        answered = [row.payload["text"] for row in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == 1104))]
    assert any("【县整规办答复】" in text and "邮政管理部门" in text for text in answered)
    await county.press("加入知识库")
    assert "已加入知识库" in county.last.text
    assert "已经在知识库里了" in (await county.press_data(f"m.kb_learn.{queued.id}"))[0].text
    async with db.transaction() as session:
        assert (await session.scalars(select(LearnedEntry))).one().question == question
    again = await resident.text("快递驿站需要办什么手续")
    assert "邮政管理部门" in again[0].text and "县整规办答复" in again[0].text


async def test_bad_questions_never_break(core, db, clock):
    resident = Person(core, 1105)
    await resident.command("start")
    for text in ("🙂", "x" * 10_000, "'; DROP TABLE users; --", "<b>hello</b> 网吧 opening hours?", "a"):
        replies = await resident.text(text)
        assert replies and not replies[0].text.startswith("抱歉，系统处理时出现问题"), text
    assert "问题太短" in (await resident.text("a"))[0].text


async def test_only_the_county_answers_questions(core, db, clock):
    cadre = await register(core, db, clock, 1106, Role.CADRE, "芙蓉村", "李建国")
    assert "无权办理" in (await cadre.press_data("m.kb_answer.1"))[0].text
    assert "无权办理" in (await cadre.press_data("m.kb_learn.1"))[0].text
