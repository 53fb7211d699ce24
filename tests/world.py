"""A small county with something of everything, in two areas: people of every role, units, complaints (anonymous
and 实名), inspection reports, questions and the year's plan. For tests that look at the bot from every side
(hostile input, the authorization matrix)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from handlers.core import Core
from handlers.plan_schedule import ensure_plan
from storage import complaints, inspections, questions
from storage.complaint_models import Complaint
from storage.db import Database
from storage.milestone_models import PlanMilestone
from storage.models import Role, User
from storage.users import get_by_channel_id
from tests.chat_driver import Person, register
from tests.complaints_support import file_complaint
from tests.inspection_support import add_unit

HERE_TOWNSHIP, HERE_VILLAGE, HERE_UNIT = "岩头镇", "芙蓉村", "老王小吃店"
THERE_TOWNSHIP, THERE_VILLAGE, THERE_UNIT = "桥下镇", "桥下村", "桥头面馆"
# 实名 complainant: only the county office (and the complainant) may ever see these.
REAL_NAME, REAL_PHONE = "王小明", "13812345678"

# (key, user id, role, area, name); keys starting with "there_" sit in the other township.
PEOPLE = (
    ("resident", 7001, Role.RESIDENT, None, None),
    ("resident2", 7002, Role.RESIDENT, None, None),
    ("operator", 7003, Role.OPERATOR, HERE_VILLAGE, "王老板"),
    ("cadre", 7004, Role.CADRE, HERE_VILLAGE, "李建国"),
    ("township", 7005, Role.TOWNSHIP, HERE_TOWNSHIP, "赵乡长"),
    ("county", 7006, Role.COUNTY, None, "孙主任"),
    ("there_operator", 7013, Role.OPERATOR, THERE_VILLAGE, "钱老板"),
    ("there_cadre", 7014, Role.CADRE, THERE_VILLAGE, "周书记"),
    ("there_township", 7015, Role.TOWNSHIP, THERE_TOWNSHIP, "吴镇长"),
)


@dataclass(frozen=True)
class Filed:
    id: int
    number: str
    description: str


@dataclass
class World:
    people: dict[str, Person]
    user_ids: dict[str, int]  # person key -> users.id
    units: dict[str, int]  # "here" / "there" -> units.id
    complaints: dict[str, Filed]
    inspections: dict[str, int]  # here_submitted, here_returned, there_submitted
    questions: dict[str, int]  # open, answered
    milestone: int  # a task every township marks (and only townships)


async def _filed(db: Database, number: str) -> Complaint:
    async with db.transaction() as session:
        found = await complaints.find_by_number(session, number)
        assert found is not None
        return found


async def _report(
    db: Database, clock, unit_id: int, inspector_id: int, key: str, *, returned_by: int | None = None
) -> int:
    async with db.transaction() as session:
        # Its deadline already passed: the unit is on the overdue list.
        report = inspections.Report(
            unit_id=unit_id,
            submit_key=key,
            industry="small_restaurant",
            answers={"common.display": "fail"},
            notes={"common.display": f"{key}营业执照未悬挂"},
            proposed_compliant=False,
            compliant=False,
            unit_class="rectify",
            rectify_by=clock.now().date() - timedelta(days=3),
        )
        inspection, _ = await inspections.submit(session, report, inspector_id, clock.now())
        if returned_by is not None:
            reviewer = await session.get(User, returned_by)
            await inspections.send_back(session, inspection, reviewer, "照片看不清楚，请重拍", clock.now())
        return inspection.id


async def build_world(core: Core, db: Database, clock) -> World:
    people: dict[str, Person] = {}
    for key, user_id, role, area, name in PEOPLE:
        if role == Role.RESIDENT:
            people[key] = Person(core, user_id)
            await people[key].command("start")
        else:
            people[key] = await register(core, db, clock, user_id, role, area, name)
    async with db.transaction() as session:
        user_ids = {key: (await get_by_channel_id(session, person.user_id)).id for key, person in people.items()}
    units = {
        "here": await add_unit(db, clock, HERE_VILLAGE, HERE_UNIT),
        "there": await add_unit(db, clock, THERE_VILLAGE, THERE_UNIT),
    }

    descriptions = {
        "here_anon": "后厨老鼠乱窜，碗筷不消毒",
        "here_real": "店里卖过期的牛奶和面包",
        "here_county": "诊所无证给人打点滴",
        "there_real": "面馆没有营业执照，油烟扰民",
        "here_operator_anon": "隔壁烧烤摊占道经营，消防通道被堵",
    }
    numbers = {
        "here_anon": await file_complaint(
            people["resident"], category="卫生条件差", unit=None, description=descriptions["here_anon"]
        ),
        "here_real": await file_complaint(
            people["resident2"],
            category="食品过期变质",
            unit=None,
            description=descriptions["here_real"],
            identity="实名提交",
            name=REAL_NAME,
            phone=REAL_PHONE,
        ),
        "here_county": await file_complaint(
            people["resident"], category="非法行医/药品问题", unit=None, description=descriptions["here_county"]
        ),
        # An operator (registered under a name) reporting a neighbour anonymously: no official may learn who.
        "here_operator_anon": await file_complaint(
            people["operator"], category="消防隐患", unit=None, description=descriptions["here_operator_anon"]
        ),
        "there_real": await file_complaint(
            people["resident2"],
            category="无证经营",
            township=THERE_TOWNSHIP,
            village=THERE_VILLAGE,
            unit=None,
            description=descriptions["there_real"],
            identity="实名提交",
            name=REAL_NAME,
            phone=REAL_PHONE,
        ),
    }
    filed = {}
    for key, number in numbers.items():
        assert number is not None
        filed[key] = Filed((await _filed(db, number)).id, number, descriptions[key])

    reports = {
        "here_submitted": await _report(db, clock, units["here"], user_ids["cadre"], "here-submitted"),
        "here_returned": await _report(
            db, clock, units["here"], user_ids["cadre"], "here-returned", returned_by=user_ids["township"]
        ),
        "there_submitted": await _report(db, clock, units["there"], user_ids["there_cadre"], "there-submitted"),
    }
    async with db.transaction() as session:
        asked = await questions.ask(session, user_ids["operator"], "夜市流动摊位要办哪些手续", clock.now())
        answered = await questions.ask(session, user_ids["resident"], "小卖部门口能摆摊吗", clock.now())
        questions.answer(answered, user_ids["county"], "不能占用人行道，需向城管申请", clock.now())
        asked_ids = {"open": asked.id, "answered": answered.id}
    await ensure_plan(db, clock)
    async with db.transaction() as session:
        plan = list(
            await session.scalars(
                select(PlanMilestone).where(PlanMilestone.kind == "task").order_by(PlanMilestone.due_on)
            )
        )
        milestone = next(m.id for m in plan if m.responsible == ["乡镇"])  # townships mark it, the county does not
    for person in people.values():
        person.replies.clear()
    return World(people, user_ids, units, filed, reports, asked_ids, milestone)
