"""Typed flow answers: a conversation stored before the answers were typed (one dict keyed by step ids, some
names since changed) resumes where it was; one that cannot be read ends with a plain message, never an error."""

from __future__ import annotations

import dis
import inspect
import types
from datetime import date

import pytest
from sqlalchemy import select

from handlers.complaints.filing_answers import FilingAnswers
from handlers.complaints.official_flows import UpdateAnswers
from handlers.flow_state import Outdated
from storage.complaint_models import Complaint
from storage.inspection_models import Inspection, UnitClosure
from storage.models import Conversation, Role, User
from tests.chat_driver import Person, register
from tests.inspection_support import add_unit, report_up_to_the_class


async def conversation_of(db, person: Person) -> dict:
    async with db.transaction() as session:
        user = await session.scalar(select(User).where(User.channel_user_id == person.user_id))
        conversation = await session.get(Conversation, user.id)
        return {"flow": conversation.flow, "step": conversation.step, "data": dict(conversation.data)}


async def store_old_shape(db, person: Person, data: dict) -> None:
    """Overwrite the person's conversation row with what the version before typed answers wrote."""
    async with db.transaction() as session:
        user = await session.scalar(select(User).where(User.channel_user_id == person.user_id))
        conversation = await session.get(Conversation, user.id)
        conversation.data = data


async def test_a_complaint_draft_of_the_old_shape_is_filed_as_it_was(core, db):
    resident = Person(core, 7101)
    await resident.command("start")
    await resident.press("投诉举报")
    await resident.press("无证经营")
    await resident.press("岩头镇")
    await resident.press("芙蓉村")
    await resident.press("不清楚，跳过")
    now = await conversation_of(db, resident)
    assert now["step"] == "description"
    typed = now["data"]
    # As the dict-based flow stored it: every step's raw value under the step's id, beside what its store derived
    # (the "unit" step's dict, the village option as a string of digits).
    old = {
        "key": "7101-00112233aabbccdd",
        "category": typed["category"],
        "where": "township",
        "township": str(typed["township"]),
        "village": str(typed["village"]),
        "unit": {"unit_query": None, "unit_matches": [], "dup": None},
        "unit_query": None,
        "unit_matches": [],
        "dup": None,
        "unit_id": None,
        "unit_name": None,
    }
    await store_old_shape(db, resident, old)

    await resident.text("没有营业执照，天天开门卖烟酒")
    assert "照片" in resident.last.text
    await resident.press("完成")
    await resident.press("匿名提交")
    assert "确认提交吗" in resident.last.text and "岩头镇芙蓉村" in resident.last.text
    await resident.press("确认提交")
    assert "编号：TS-" in resident.last.text
    async with db.transaction() as session:
        complaint = (await session.scalars(select(Complaint))).one()
        assert (complaint.submit_key, complaint.township_id, complaint.village_id, complaint.unit_name) == (
            "7101-00112233aabbccdd",
            typed["township"],
            typed["village"],
            None,
        )
        assert complaint.description == "没有营业执照，天天开门卖烟酒" and complaint.anonymous


async def test_a_closure_of_the_old_shape_keeps_its_date_under_the_new_name(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 7102, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 7103, Role.CADRE, "芙蓉村", "李建国")
    await report_up_to_the_class(cadre)
    await cadre.press("关停取缔类")
    await cadre.press("✅ 提交")
    await official.press_data(f"m.closures.{unit_id}")
    await official.press("已取缔")
    await official.press("今天")
    await official.press("跳过")
    assert "确认后" in official.last.text
    # The old dict named the day "date" (now closed_on) and kept the kind's option as a plain string.
    await store_old_shape(
        db, official, {"unit_id": str(unit_id), "kind": "banned", "date": "2026-05-04", "note": "县市场监管局现场取缔"}
    )
    await official.press("确认记录")
    assert "已记录：老王小吃店已取缔（2026年5月4日）" in official.last.text
    async with db.transaction() as session:
        row = (await session.scalars(select(UnitClosure))).one()
        assert (row.kind, row.closed_on, row.note) == ("banned", date(2026, 5, 4), "县市场监管局现场取缔")


async def test_a_conversation_that_cannot_be_read_ends_with_a_plain_message(core, db, clock):
    cadre = await register(core, db, clock, 7104, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("修改姓名")
    await store_old_shape(db, cadre, {"name": {"first": "李"}})  # no version of the flow wrote this
    replies = await cadre.text("李四")
    assert "系统已升级，您之前未完成的「修改姓名」无法继续，已自动结束" in replies[0].text
    assert "修改姓名" in cadre.buttons()  # the menu, to start again
    async with db.transaction() as session:
        assert (await session.scalars(select(Conversation))).first() is None
        user = await session.scalar(select(User).where(User.channel_user_id == 7104))
        assert user.name == "李建国"  # nothing of the unread answers was applied


def test_old_keys_are_read_and_new_rows_use_the_typed_names():
    answers = UpdateAnswers.load({"cid": "12", "from": "accepted", "status": "closed", "note": "已处理"})
    assert (answers.cid, answers.from_status, answers.status) == (12, "accepted", "closed")
    assert "from" not in answers.dump() and answers.dump()["from_status"] == "accepted"
    with pytest.raises(Outdated):
        FilingAnswers.load({"category": "unlicensed"})  # no submit key: filing it would risk a double complaint


MUTATING = {"append", "clear", "extend", "insert", "pop", "popitem", "remove", "setdefault", "update"}
WRITES = {"STORE_ATTR", "STORE_SUBSCR", "DELETE_ATTR", "DELETE_SUBSCR"}


def writes_in(function, seen: set) -> list[str]:
    """What a route (and the handlers functions it calls) writes: attribute or item stores, mutating calls."""
    if function in seen or not inspect.isfunction(function):
        return []
    seen.add(function)
    found = []
    for instruction in dis.get_instructions(function):
        if instruction.opname in WRITES:
            found.append(f"{function.__qualname__}: {instruction.opname} {instruction.argval}")
        elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and instruction.argval in MUTATING:
            found.append(f"{function.__qualname__}: .{instruction.argval}()")
        elif instruction.opname == "LOAD_GLOBAL":
            called = function.__globals__.get(instruction.argval)
            if inspect.isfunction(called) and called.__module__.startswith("handlers."):
                found += writes_in(called, seen)
    for constant in function.__code__.co_consts:  # lambdas and comprehensions inside
        if inspect.iscode(constant):
            found += writes_in(types.FunctionType(constant, function.__globals__), seen)
    return found


def test_choosing_the_next_step_never_writes_the_answers():
    from handlers.assembly import FLOWS

    routes = [(flow.name, step.id, step.next) for flow in FLOWS.values() for step in flow.steps if callable(step.next)]
    assert len(routes) > 20
    assert [(flow, step) for flow, step, route in routes if inspect.iscoroutinefunction(route)] == []
    assert {f"{flow}.{step}": found for flow, step, route in routes if (found := writes_in(route, set()))} == {}


# The keys the dict-based inspection flow wrote (the typed model added notice_due, class_choice and deadline_ok).
OLD_INSPECTION_KEYS = {
    "submit_key",
    "find",
    "unit_id",
    "industry",
    "unit_name",
    "answers",
    "notes",
    "cursor",
    "item",
    "help_for",
    "photos",
    "photos_acked",
    "location",
    "result",
    "proposed",
    "compliant",
    "override_reason",
    "unit_class",
    "class_reason",
    "deadline_typed",
    "rectify_by",
}


async def test_an_inspection_of_the_old_shape_is_submitted_as_it_was(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 7105, Role.CADRE, "芙蓉村", "李建国")
    await report_up_to_the_class(cadre)
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    now = await conversation_of(db, cadre)
    assert now["step"] == "deadline_ok"
    typed = now["data"]
    old = {key: value for key, value in typed.items() if key in OLD_INSPECTION_KEYS}
    # Each step's raw value under its id too; the class step's under "class", a keyword for the typed model.
    old |= {
        "class": typed["class_choice"],
        "deadline": typed["deadline_typed"],
        "note": "营业执照未悬挂在显眼处",
        "photo": "done",
        "unit_id": str(typed["unit_id"]),
    }
    assert old["deadline_typed"] == "2026-05-13" and old["answers"] and old["unit_class"] == "rectify"
    await store_old_shape(db, cadre, old)

    await cadre.press("确认")
    assert "分类：整改规范类" in cadre.last.text and "整改期限：2026年5月13日" in cadre.last.text
    await cadre.press("✅ 提交")
    assert "JC0000" in cadre.last.text
    async with db.transaction() as session:
        report = (await session.scalars(select(Inspection))).one()
        assert (report.submit_key, report.compliant, report.unit_class, report.rectify_by) == (
            typed["submit_key"],
            False,
            "rectify",
            date(2026, 5, 13),
        )
        assert report.answers == typed["answers"] and list(report.notes.values()) == ["营业执照未悬挂在显眼处"]
