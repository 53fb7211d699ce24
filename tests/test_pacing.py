"""How fast and how fairly one person's messages flow, at the core: double taps absorbed with a toast, too many
messages too fast refused (told once, counted for the county office), question notices folded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.events import Kind
from handlers.question_notices import NOTICE_EVERY
from scheduler.question_jobs import announce_questions
from storage.inspection_models import Inspection
from storage.models import Conversation, OutboxMessage, Role
from storage.pacing import Allowance
from storage.question_models import Question
from tests.chat_driver import Person, register
from tests.inspection_support import add_unit, report_up_to_the_class

UNANSWERABLE = "村里的快递驿站需要办理什么手续"


class Phone(Person):
    """Presses arrive as Telegram sends them: on a message (its id and text), so the core can tell a second tap."""

    async def tap(self, label: str, message_id: int):
        for reply in reversed(self.replies):
            for choice in reply.choices:
                if choice.label == label:
                    await self._send(
                        kind=Kind.PRESS,
                        data=choice.data,
                        pressed_label=label,
                        message_id=message_id,
                        message_text=reply.text,
                    )
                    assert self.last_outcome is not None
                    return self.last_outcome
        raise AssertionError(f"no button {label!r}")


async def phone(core, db, clock, user_id: int, role: Role, area: str | None, name: str) -> Phone:
    person = await register(core, db, clock, user_id, role, area, name)
    return Phone(person.core, person.user_id, person.replies)


async def outbox_rows(db) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)))


async def conversation(db) -> tuple[str, int] | None:
    async with db.transaction() as session:
        row = (await session.scalars(select(Conversation))).first()
        return (row.step, row.nonce) if row else None


async def test_a_second_tap_on_a_taken_button_gets_a_toast_and_nothing_else(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await phone(core, db, clock, 1201, Role.CADRE, "芙蓉村", "李建国")
    await cadre.tap("检查上报", message_id=10)
    first = await cadre.tap("老王小吃店", message_id=11)
    assert first.press_accepted and "检查第1/" in first.replies[0].text
    where, rows = await conversation(db), await outbox_rows(db)
    clock.advance(timedelta(seconds=2))
    for label in ("老王小吃店", "➕ 登记新单位"):  # the same button again, or another one on the same message
        again = await cadre.tap(label, message_id=11)
        assert again.replies == [] and again.toast == "已收到，不必重复点击。请看下方最新消息。"
    assert await conversation(db) == where and await outbox_rows(db) == rows  # nothing changed, nothing sent


async def test_a_genuinely_stale_button_keeps_todays_reply(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await phone(core, db, clock, 1202, Role.CADRE, "芙蓉村", "李建国")
    await cadre.tap("检查上报", message_id=10)
    await cadre.tap("老王小吃店", message_id=11)
    clock.advance(timedelta(seconds=11))  # long after the tap: not a double tap
    late = await cadre.tap("老王小吃店", message_id=11)
    assert late.toast is None and "这个按钮已过期" in late.replies[0].text and "检查第1/" in late.replies[0].text
    await cadre.tap("✓ 符合", message_id=12)
    older = await cadre.tap("老王小吃店", message_id=11)  # a prompt two steps back, whatever the time
    assert older.toast is None and "这个按钮已过期" in older.replies[0].text


async def test_a_double_tap_on_submit_files_one_report_and_says_nothing_more(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await phone(core, db, clock, 1203, Role.CADRE, "芙蓉村", "李建国")
    await report_up_to_the_class(cadre)
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    await cadre.press("确认")
    assert "【检查报告摘要】" in cadre.last.text
    submitted = await cadre.tap("✅ 提交", message_id=50)
    assert "已提交" in submitted.replies[0].text
    for _ in range(2):
        again = await cadre.tap("✅ 提交", message_id=50)
        assert again.replies == [] and again.toast
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Inspection)) == 1


async def test_too_many_messages_too_fast_are_refused_told_once_and_counted_for_the_county(db, clock):
    core = build_core(db, clock, CoreConfig(inbound=Allowance(interval=2.0, burst=20)))
    county = await phone(core, db, clock, 1204, Role.COUNTY, None, "周主任")
    resident = Person(core, 1205)
    await resident.command("start")  # registers: a stranger's first message is not counted
    answered = slowed = 0
    for n in range(60):
        replies = await resident.text(f"饭店要办什么证{n}")
        slow = any("您发送得太快了" in reply.text for reply in replies)
        answered += bool(replies) and not slow
        slowed += slow
    assert (answered, slowed) == (20, 1)  # the burst, then one refusal message only
    clock.advance(timedelta(seconds=30))  # 15 more allowed
    replies = await resident.text("饭店要办什么证")
    assert "【出处】" in replies[0].text
    clock.advance(timedelta(seconds=1))
    for _ in range(20):
        await resident.text("饭店要办什么证")
    clock.advance(timedelta(minutes=1, seconds=1))  # a minute after the first warning: told again, once
    warned = [reply for _ in range(40) for reply in await resident.text("饭店要办什么证") if "太快" in reply.text]
    assert len(warned) == 1
    await county.tap("待答复问题", message_id=90)
    assert "近7天有" in county.last.text and "条消息因发送过快被限流，来自1人" in county.last.text


async def test_a_refused_press_gets_a_toast(db, clock):
    core = build_core(db, clock, CoreConfig(inbound=Allowance(interval=60.0, burst=2)))
    resident = Phone(core, 1206)
    await resident.command("start")  # registers: a stranger's first message is not counted
    await resident.tap("使用帮助", message_id=1)
    await resident.command("menu")
    refused = await resident.tap("我的信息", message_id=3)
    assert refused.toast == "操作太频繁，请稍等一会儿再点。" and "太快" in refused.replies[0].text


async def test_question_notices_are_folded_and_each_asker_has_at_most_three_waiting(core, db, clock):
    officials = [
        await phone(core, db, clock, 1210 + n, Role.COUNTY, None, name) for n, name in enumerate(("周主任", "吴科长"))
    ]
    asker, other = Person(core, 1212), Person(core, 1213)
    for person in (asker, other):
        await person.command("start")

    async def notices() -> list[str]:
        async with db.transaction() as session:
            return [
                row.payload["text"]
                for row in await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.chat_id == officials[0].user_id, OutboxMessage.payload.is_not(None))
                    .order_by(OutboxMessage.id)
                )
                if "待答复问题" in row.payload["text"]
            ]

    assert (await asker.text(UNANSWERABLE))[0].text.startswith("不确定")
    assert len(await notices()) == 1  # the first one at once
    for n in range(2, 4):
        clock.advance(timedelta(seconds=20))
        assert "已转给县整规办" in (await asker.text(f"{UNANSWERABLE}{n}"))[0].text
    refused = await asker.text(f"{UNANSWERABLE}4")
    assert "您已有3个问题在等县整规办答复" in refused[0].text
    await other.text("集市上的流动摊贩归谁管理")
    assert len(await notices()) == 1  # folded: nothing more yet
    assert await announce_questions(db, clock, core.texts) == 0  # not yet ten minutes
    clock.advance(NOTICE_EVERY)
    assert await announce_questions(db, clock, core.texts) == 2  # one summary to each official
    summary = (await notices())[-1]
    assert "又有3个新问题" in summary and f"{UNANSWERABLE}3" in summary and "流动摊贩" in summary
    assert await announce_questions(db, clock, core.texts) == 0  # each question once
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Question)) == 4
        assert (
            await session.scalar(select(func.count()).select_from(Question).where(Question.announced_at.is_(None))) == 0
        )


async def test_sixty_messages_from_one_resident_reach_the_county_as_one_notice(db, clock):
    core = build_core(db, clock, CoreConfig(inbound=Allowance(interval=2.0, burst=20)))
    county = await phone(core, db, clock, 1220, Role.COUNTY, None, "周主任")
    resident = Person(core, 1221)
    await resident.command("start")
    for n in range(60):
        await resident.text(f"{UNANSWERABLE}第{n}遍")
        clock.advance(timedelta(milliseconds=200))
    async with db.transaction() as session:
        to_county = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == county.user_id)))
        asked = await session.scalar(select(func.count()).select_from(Question))
    assert asked == 3  # at most three waiting per asker
    assert len([row for row in to_county if "待答复问题" in row.payload["text"]]) == 1
