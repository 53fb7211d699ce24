"""Hostile input, generated: random Unicode, 10,000-character texts, emoji, SQL and HTML, forged buttons (garbage,
and plausible m.<action>.<id> data naming other people's objects), strangers, edited messages, photos, stickers,
locations and contacts where text is expected, duplicate and out-of-order update ids.

Whatever comes in: nothing crashes (no error is logged), every message gets an answer in Chinese that shows no
trace of an exception, a redelivered update is answered once, and the database still hangs together afterwards
(tests/db_invariants.py). The core is driven directly on both databases; a last test sends a handful of such
updates through the real Telegram runtimes and the emulator.

The examples are derandomized so CI is repeatable; SHIXIAO_HOSTILE_RANDOM=1 explores new ones and
SHIXIAO_HOSTILE_EXAMPLES=500 explores more.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.complaint_models import Complaint, ComplaintEvent
from storage.conversations import end_conversation
from storage.inspection_models import Inspection
from storage.milestone_models import MilestoneDone
from storage.models import Invite, Role, User
from storage.question_models import LearnedEntry, Question
from tests.complaints_support import file_complaint
from tests.db_invariants import inconsistencies
from tests.hostile_support import (
    COMMANDS,
    DEEP_KINDS,
    HOSTILE,
    OWN_ACTIONS,
    PROTAGONISTS,
    ROLE_OF,
    Event,
    Hostile,
    event,
    logged_errors,
    menu_press,
    plainly_chinese,
)
from tests.inspection_support import answer_checklist_with_one_failure
from tests.world import build_world


@pytest.fixture
async def hostile(core, db, clock) -> Any:
    world = await build_world(core, db, clock)
    with logged_errors() as errors:
        harness = Hostile(core, clock, world, errors)
        for person in world.people.values():
            shown = [reply for reply in person.replies if reply.choices]
            harness.buttons[person.user_id] = [c.data for c in shown[-1].choices] if shown else []
        yield harness


@pytest.mark.slow
@HOSTILE
@given(sequence=st.lists(event(), min_size=1, max_size=12))
async def test_any_sequence_of_hostile_events_is_answered_in_chinese_and_keeps_the_database_consistent(
    hostile, sequence
):
    hostile.errors.records.clear()  # each example answers for its own errors
    for item in sequence:
        await hostile.send(item)
    await hostile.check_database()


@pytest.mark.slow
@HOSTILE
@given(data=st.data())
async def test_walking_deep_into_flows_with_hostile_input_between_the_steps(hostile, data):
    hostile.errors.records.clear()
    who = data.draw(st.sampled_from(PROTAGONISTS))
    for item in data.draw(st.lists(event(who, DEEP_KINDS), min_size=1, max_size=25)):
        await hostile.send(item)
    await hostile.check_database()


ODD_ARGUMENTS = ("", "0", "²", "99999999999999999999", "2147483648", "1:yes", ":no")


@pytest.mark.slow
async def test_every_action_and_command_with_odd_arguments_is_answered_in_chinese(hostile):
    """Systematically what the generated tests meet by chance: each role's every action (m.<action>.<argument>)
    and every command, with arguments that are no id, too large for one, or nothing at all."""
    for who in ("resident", "operator", "cadre", "township", "county"):
        user_id = hostile.world.user_ids[who]
        for action in OWN_ACTIONS[ROLE_OF[who]]:
            for odd in ODD_ARGUMENTS:
                await hostile.send(Event(who, "press", f"m.{action}.{odd}" if odd else f"m.{action}"))
                async with hostile.core.db.transaction() as session:
                    await end_conversation(session, user_id)  # so the next press runs its action
        for command in COMMANDS:
            for odd in ODD_ARGUMENTS:
                await hostile.send(Event(who, "command", (command, odd)))
                async with hostile.core.db.transaction() as session:
                    await end_conversation(session, user_id)
    await hostile.check_database()


# People who may not act on 岩头镇's complaints, reports, questions or plan marks (the other township's official
# handles only 桥下镇's), and what their forged buttons must never change.
OUTSIDERS = ("resident", "resident2", "operator", "there_operator", "there_cadre", "there_township")


async def protected_state(hostile: Hostile) -> dict[str, Any]:
    world = hostile.world
    here = [world.complaints[key].id for key in ("here_anon", "here_real", "here_county")]
    async with hostile.core.db.transaction() as session:
        return {
            "complaints": list(
                await session.execute(
                    select(
                        Complaint.id, Complaint.status, Complaint.office_area_id, Complaint.category, Complaint.feedback
                    )
                    .where(Complaint.id.in_(here))
                    .order_by(Complaint.id)
                )
            ),
            "events": list(
                await session.scalars(
                    select(ComplaintEvent.id).where(ComplaintEvent.complaint_id.in_(here)).order_by(ComplaintEvent.id)
                )
            ),
            "inspections": list(
                await session.execute(
                    select(Inspection.id, Inspection.status, Inspection.version).order_by(Inspection.id)
                )
            ),
            # Anyone may ask (m.ask.<question>): new questions are no harm, a change to an existing one would be.
            "questions": list(
                await session.execute(
                    select(Question.id, Question.status, Question.learned_id)
                    .where(Question.id.in_(world.questions.values()))
                    .order_by(Question.id)
                )
            ),
            "learned": list(await session.scalars(select(LearnedEntry.id))),
            "marks": list(await session.scalars(select(MilestoneDone.id))),
            "invites": list(await session.scalars(select(Invite.id).where(Invite.used_at.is_(None)))),
            "roles": list(await session.execute(select(User.id, User.role, User.area_id).order_by(User.id))),
        }


OBJECT_ACTIONS = st.sampled_from(
    [
        "complaint_accept",
        "complaint_view",
        "complaint_update",
        "complaint_reroute",
        "complaint_feedback",
        "complaint_track",
        "review",
        "fix",
        "inspect",
        "ms_done",
        "ms_view",
        "kb_answer",
        "kb_learn",
    ]
)


@pytest.mark.slow
@HOSTILE
@given(presses=st.lists(st.tuples(st.sampled_from(OUTSIDERS), menu_press(OBJECT_ACTIONS)), min_size=1, max_size=8))
async def test_forged_buttons_naming_other_peoples_objects_change_nothing(hostile, presses):
    hostile.errors.records.clear()
    before = await protected_state(hostile)
    for who, data in presses:
        await hostile.send(Event(who, "press", data))
    assert await protected_state(hostile) == before
    await hostile.check_database()


# --- the longest answers -------------------------------------------------------------------------------------


async def test_the_longest_answer_each_step_accepts_is_stored(core, db, clock):
    """PostgreSQL enforces column lengths where SQLite does not: every text step filled to its limit (with the
    widest characters there are) must fit wherever it is stored."""
    world = await build_world(core, db, clock)
    people = world.people
    cadre, township, county = people["cadre"], people["township"], people["county"]
    with logged_errors() as errors:
        await cadre.command("inspect")
        await cadre.press("➕ 登记新单位")
        await cadre.text("ﷺ" * 50)  # one character that NFKC (the register's name key) widens to 18
        await cadre.press("小餐饮店")
        await cadre.text("址" * 100)
        await cadre.text("王" * 100)
        if "内容太长" in cadre.last.text:  # the step may refuse what the register cannot hold, plainly
            await cadre.text("王" * 64)
        await answer_checklist_with_one_failure(cadre, note="脏" * 200)
        await cadre.photo()
        await cadre.press("完成（已传1张）")
        await cadre.press("跳过")
        await cadre.press("改判")
        await cadre.text("理" * 200)
        await cadre.press(cadre.buttons()[0])
        assert "请核对" in cadre.last.text, cadre.last.text
        await cadre.press("✅ 提交")
        assert "已提交" in cadre.last.text, cadre.last.text
        async with db.transaction() as session:
            inspection_id = await session.scalar(select(func.max(Inspection.id)))
        await township.command("review", str(inspection_id))
        await township.press("退回修改")
        await township.text("因" * 300)
        assert "已退回" in township.last.text, township.last.text

        number = await file_complaint(
            people["resident"],
            unit="店" * 50,
            description="描" * 1000,
            identity="实名提交",
            name="名" * 20,
            phone="13900001111",
        )
        async with db.transaction() as session:
            complaint_id = await session.scalar(select(Complaint.id).where(Complaint.number == number))
        await township.press_data(f"m.complaint_update.{complaint_id}")
        await township.press("调查中")
        await township.text("注" * 500)
        assert "已更新" in township.last.text, township.last.text
        await township.press_data(f"m.ms_done.{world.milestone}")
        await township.text("备" * 200)
        assert "已标记完成" in township.last.text, township.last.text

        await county.press_data(f"m.kb_answer.{world.questions['open']}")
        await county.text("答" * 1000)
        await county.press("加入知识库")
        await county.press_data("m.broadcast")
        await county.text("通" * 3500)
        await county.press("全部工作人员和业主")
        await county.press("全县")
        await county.press("✅ 确认发送")
        assert "通知已发出" in county.last.text, county.last.text
    assert not errors.records, errors.describe()
    for person in people.values():
        for reply in person.replies:
            assert plainly_chinese(reply.text, set()) is None, reply.text[:200]
    assert await inconsistencies(core) == []


# --- a handful through the real Telegram runtimes -------------------------------------------------------------


@pytest.mark.contract  # each runtime turns odd updates into events its own way
async def test_hostile_updates_through_telegram_are_answered_in_chinese(emulator, bot):
    from tests.telegram_harness import join

    stranger = emulator.user(9101, "<b>陌生人</b>")
    await stranger.send_text("<script>alert('x')</script>'; DROP TABLE users; --")
    await stranger.expect("请发送 /start")
    await stranger.press_data("m.complaint_view.1")
    await stranger.expect("请发送 /start")

    township = await join(emulator, bot, 9102, Role.TOWNSHIP, "岩头镇", "赵乡长")
    resident = emulator.user(9103, "王")
    await resident.send_command("/start")
    await resident.expect("居民")
    update = await resident.send_text("😀" * 2000)  # 4000 UTF-16 units: about as long as Telegram lets a user write
    await resident.expect(lambda m: not m.is_edit)
    await resident.send_text("网吧\x00让未成年人通宵上网怎么办")  # a NUL, which PostgreSQL text cannot hold
    await resident.expect(lambda m: not m.is_edit)
    await resident.press_data("m.complaint_accept.1")  # a forged official's button
    await resident.expect("无权办理")
    await resident.press_data("m.review.99999999999999999999")
    await resident.expect("无权办理")
    await resident.press("投诉举报")
    await resident.expect("请选择问题类别")
    await resident.send_sticker()
    await resident.expect("请点击下方按钮选择")
    await resident.send_location(0.0, 0.0)
    await resident.expect("请点击下方按钮选择")
    sent = emulator.updates[update]["message"]["message_id"]
    await resident.edit_text(sent, "改过的内容")
    await resident.expect("不会被重新处理")
    await emulator.settle()
    answered = len(resident.messages)
    emulator.redeliver(update)  # the same update again: handled once
    await township.press_data("m.review.²")
    await township.expect("按钮无效")
    await township.send_command("/review", "²")
    await township.expect("没有待审核")
    await township.send_command("/review", "99999999999999999999")
    await township.expect("没有找到这份检查报告")
    await emulator.settle()
    assert len(resident.messages) == answered

    for user in (stranger, township, resident):
        for message in user.messages:
            assert plainly_chinese(message.content, set()) is None, message.content
    assert await inconsistencies(bot.app.core, {9101}) == []
