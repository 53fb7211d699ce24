"""Asking in chat: an answer with its source, 您是想问 suggestions, or 不确定 forwarded to the county office,
whose answer reaches the asker and becomes a new entry with one button."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.free_text import FreeTextError, load_words
from storage.models import OutboxMessage, Role
from storage.question_models import LearnedEntry, Question
from tests.chat_driver import Person, register
from tests.complaints_support import file_complaint


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
        notices = [
            row.payload for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 1103))
        ]
    assert any(question in notice["text"] and "来自一位居民" in notice["text"] for notice in notices)
    await county.press("待答复问题")
    await county.press(question[:30])
    await county.text("快递驿站不属于“十小”行业，请咨询邮政管理部门。")
    assert "答复已发送给提问人" in county.last.text
    async with db.transaction() as session:
        answered = [
            row.payload["text"]
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 1104))
        ]
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


async def questions_and_county_notices(db, county_chat: int) -> tuple[int, int]:
    async with db.transaction() as session:
        queued = len(list(await session.scalars(select(Question))))
        notices = [
            row
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == county_chat))
            if "待答复问题" in row.payload["text"]
        ]
    return queued, len(notices)


async def test_what_is_no_question_is_not_sent_to_the_county(core, db, clock):
    await register(core, db, clock, 1107, Role.COUNTY, None, "周主任")
    resident = Person(core, 1108)
    await resident.command("start")
    assert "您好！我是十小通，您的身份是居民" in (await resident.text("你好！"))[0].text
    assert "不客气" in (await resident.text("谢谢啦"))[0].text
    for junk in ("99", "-1", "asdfgh", "ABCD1234", "老王", "😡😡😡"):
        reply = (await resident.text(junk))[0]
        assert "没有看懂您的问题" in reply.text or "问题太短" in reply.text, junk
    assert "问题太长了（5000个字），请精简到500个字以内" in (await resident.text("饭" * 5000))[0].text
    wish = await resident.text("我想投诉隔壁饭店")
    assert "直接发来的消息不会作为投诉受理" in wish[-1].text and resident.buttons() == ["投诉举报", "我的投诉"]
    await resident.press("投诉举报")
    assert "投诉举报" in resident.last.text  # the flow itself starts
    await resident.command("cancel")
    assert await questions_and_county_notices(db, 1107) == (0, 0)
    await resident.text("村里的快递驿站需要办理什么手续")  # a real question still goes
    assert await questions_and_county_notices(db, 1107) == (1, 1)


async def test_a_question_about_reporting_is_answered_with_the_complaint_button_beside(core, db, clock):
    """举报 in a knowledge question (被举报会怎样, can I report an unlicensed clinic) gets the answer, with the complaint
    flow offered as a button, not the complaint hint alone."""
    resident = Person(core, 1111)
    await resident.command("start")
    replies = await resident.text("有人举报我的店会怎么样")
    assert "被投诉不等于要罚款" in replies[0].text and "【出处】" in replies[0].text
    assert resident.buttons() == ["投诉举报", "我的投诉"]
    replies = await resident.text("村里有个无证诊所能举报吗")
    assert "县卫生健康部门" in replies[0].text and resident.buttons() == ["投诉举报", "我的投诉"]


async def test_a_tracking_number_typed_in_a_sentence_shows_the_complaint(core, db, clock):
    resident = Person(core, 1109)
    await resident.command("start")
    number = await file_complaint(resident)
    assert number == "TS-2026-000001"
    for typed in ("查一下TS-2026-000001的进度", "ts–2026–1。", "TS-2026-000001"):
        reply = (await resident.text(typed))[0]
        assert "TS-2026-000001" in reply.text and "没有看懂" not in reply.text and "不确定" not in reply.text, typed
    assert "TS-2026-000001" in (await resident.command("track", "TS-2026-000001。"))[0].text
    stranger = Person(core, 1110)
    await stranger.command("start")
    assert "没有找到" in (await stranger.text("TS-2026-000001"))[0].text  # someone else's reads as never issued


async def test_the_county_can_dismiss_a_non_question(core, db, clock):
    county = await register(core, db, clock, 1111, Role.COUNTY, None, "周主任")
    resident = Person(core, 1112)
    await resident.command("start")
    await resident.text("隔壁老王家的狗叫个不停")
    await county.press("待答复问题")
    assert county.buttons() == ["隔壁老王家的狗叫个不停", "返回主菜单"]
    await county.press("隔壁老王家的狗叫个不停")
    await county.press("忽略此问题")
    assert "已忽略" in county.last.text
    assert "目前没有待答复的问题" in (await county.press("待答复问题"))[0].text
    async with db.transaction() as session:
        assert (await session.scalars(select(Question))).one().status == "dismissed"
        told = [
            row.payload["text"]
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 1112))
        ]
    assert not any("县整规办答复" in text for text in told)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("greetings: [你好]\n", "需要且只能有这几项"),
        ("greetings: [你好]\nthanks: []\nparticles: [啊]\ncomplaint_words: [投诉]\n", "thanks 必须是非空的文字列表"),
        (
            "greetings: [你好]\nthanks: [谢谢]\nparticles: [啊]\ncomplaint_words: [投诉]\nextra: [x]\n",
            "需要且只能有这几项",
        ),
    ],
)
def test_a_broken_free_text_file_is_refused_at_load(tmp_path, content, problem):
    path = tmp_path / "free_text.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FreeTextError, match=problem):
        load_words(path)
    assert load_words().greetings  # the shipped file loads


async def test_not_sure_still_offers_up_to_three_questions_and_forwards(core, db, clock):
    """Between sure and nothing: 不确定 with 您是想问 buttons, and the question still goes to the county office."""
    await register(core, db, clock, 1120, Role.COUNTY, None, "周主任")
    resident = Person(core, 1121)
    await resident.command("start")
    reply = (await resident.text("旅馆的窗户有什么要求"))[0]
    assert reply.text.startswith("不确定") and "已转给县整规办" in reply.text
    offered = [c for c in reply.choices if c.data.startswith("m.kb.")]
    assert 1 <= len(offered) <= 3 and all(c.label.startswith("您是想问") for c in offered)
    assert await questions_and_county_notices(db, 1120) == (1, 1)
    shown = await resident.press_data(offered[0].data)
    assert "【出处】" in shown[0].text


async def test_another_county_is_declined_naming_this_one_and_not_forwarded(core, db, clock):
    await register(core, db, clock, 1122, Role.COUNTY, None, "周主任")
    resident = Person(core, 1123)
    await resident.command("start")
    reply = (await resident.text("乐清开饭店要办什么证"))[0]
    assert "乐清" in reply.text and "永嘉县" in reply.text and "餐饮服务许可证" not in reply.text
    assert await questions_and_county_notices(db, 1122) == (0, 0)


async def test_a_question_with_nothing_of_the_campaign_is_declined_and_not_forwarded(core, db, clock):
    """明天会下雨吗 is no question for the county office: said so plainly, and not put in its queue."""
    await register(core, db, clock, 1127, Role.COUNTY, None, "周主任")
    resident = Person(core, 1128)
    await resident.command("start")
    reply = (await resident.text("明天会下雨吗"))[0]
    assert "不在十小通的解答范围内" in reply.text and "已转给县整规办" not in reply.text
    assert await questions_and_county_notices(db, 1127) == (0, 0)
    assert (await resident.text("村里的快递驿站需要办理什么手续"))[0].text.startswith("不确定")
    assert await questions_and_county_notices(db, 1127) == (1, 1)


async def test_the_current_phase_comes_from_the_clock(core, db, clock):
    from datetime import datetime

    resident = Person(core, 1124)
    await resident.command("start")
    clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=clock.tz))
    december = (await resident.text("现在是哪个阶段"))[0].text
    assert "今天是2026年12月9日" in december and "总结提升阶段" in december and "还有22天" in december
    clock.set(datetime(2027, 4, 10, 10, 0, tzinfo=clock.tz))
    april = (await resident.text("现在是哪个阶段"))[0].text
    assert "宣传发动阶段" in april and "2027年4月15日前" in april


@pytest.mark.slow
async def test_learned_entries_keep_paraphrases_and_the_county_adds_more(core, db, clock):
    county = await register(core, db, clock, 1125, Role.COUNTY, None, "周主任")
    resident = Person(core, 1126)
    await resident.command("start")
    await resident.text("村口卖水果的流动摊需要办理什么手续")
    await county.press("待答复问题")
    await county.press("村口卖水果的流动摊需要办理什么手续"[:30])
    await county.text("流动摊贩由乡镇统一安排摊位，不属于“十小”行业。")
    learned = await county.press("加入知识库")
    assert "已加入知识库" in learned[0].text and "村口卖水果的流动摊要办什么证" in learned[0].text
    found = (await resident.text("卖水果的流动摊得办几个证"))[0].text
    assert "乡镇统一安排摊位" in found, found
    await county.press("补充问法")
    assert "现有的问法" in county.last.text
    await county.text("摆个水果摊要不要许可\n流动水果摊归谁管")
    assert "已补充2个问法" in county.last.text
    assert "乡镇统一安排摊位" in (await resident.text("流动水果摊归谁管"))[0].text
    async with db.transaction() as session:
        entry = (await session.scalars(select(LearnedEntry))).one()
    assert entry.questions()[0] == "村口卖水果的流动摊需要办理什么手续" and len(entry.questions()) == 7


async def test_answering_leaves_the_event_loop_free_for_other_chats(db):
    """Building the index at the first question (0.3 s) and encoding an unsure question run on the answerer's own
    thread (handlers/ask.py AskService): meanwhile the event loop goes on serving other updates."""
    import asyncio

    from handlers.ask import AskService
    from handlers.assembly import answerer_over
    from knowledge.shipped import shipped_knowledge

    service = AskService(shipped_knowledge(), lambda: answerer_over(shipped_knowledge()))
    ticks = 0

    async def another_chat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    running = asyncio.create_task(another_chat())
    try:
        async with db.transaction() as session:
            answer = await service.answer(session, "小饭店要办什么证")
    finally:
        running.cancel()
    assert answer.entry_id == "rest.licences"
    assert ticks >= 10, ticks  # on the loop's thread the build would have left room for one tick at most


async def test_a_matter_outside_the_campaign_is_declined_and_not_forwarded(core, db, clock):
    await register(core, db, clock, 1131, Role.COUNTY, None, "周主任")
    resident = Person(core, 1132)
    await resident.command("start")
    reply = (await resident.text("驾照到期了要去哪里换新的"))[0]
    assert reply.text.startswith("驾驶证的问题不在十小通的解答范围内"), reply.text
    assert await questions_and_county_notices(db, 1131) == (0, 0)
