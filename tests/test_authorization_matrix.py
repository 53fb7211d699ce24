"""Who may do what, and where: every role (and someone never registered) × every action the menus and commands
offer × an object in the actor's own area (岩头镇/芙蓉村) or in another (桥下镇/桥下村).

MATRIX is the data: one row per (role, action, area, allowed). An allowed row must show the real content. A refused
row gets a Chinese answer that shows nothing of the object (no description, no unit, no names or phone numbers),
starts no flow, changes nothing stored and sends nothing to anyone else. In every row, allowed or not, the
complainants stay private: an anonymous complainant's name (an operator reporting a neighbour) reaches nobody, and
a 实名 complainant's name and phone reach only the county office. tests/test_complaints_privacy.py covers the rule
itself and /track; this file covers each action's own door to the same data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.core import Core
from handlers.events import Inbound, Kind, Reply
from storage import complaints, owners, questions, work_groups
from storage.channel_models import WorkGroup
from storage.complaint_models import Complaint, ComplaintEvent, ComplaintStatus
from storage.conversations import end_conversation, load_conversation
from storage.inspection_models import Inspection, Unit, UnitClass, UnitClosure, UnitStatus
from storage.milestone_models import MilestoneDone
from storage.models import Area, Invite, OutboxMessage, Role, User
from storage.owner_models import SelfCheck
from storage.question_models import LearnedEntry, Question
from tests.chat_driver import make_invite
from tests.complaints_support import file_complaint
from tests.db_invariants import inconsistencies
from tests.inspection_support import add_unit
from tests.world import REAL_NAME, REAL_PHONE, World, build_world

ROLES = ("resident", "operator", "cadre", "township", "county", "stranger")
OWN, OTHER = "own", "other"
STRANGER_ID = 7099
CJK = re.compile(r"[\u4e00-\u9fff]")

# One cell per role: its own area, then the other area. "+" allowed, "-" refused, "." no such case (the action
# names nothing that lies in an area). The actors sit in 岩头镇 (township) and its village 芙蓉村 (cadre, operator);
# "own" for a resident or an operator means what they filed themselves.
#                                  resident operator cadre township county stranger
TABLE: dict[str, tuple[str, ...]] = {
    "ask": ("+.", "+.", "+.", "+.", "+.", "-."),
    "/ask": ("+.", "+.", "+.", "+.", "+.", "-."),
    "kb": ("+.", "+.", "+.", "+.", "+.", "-."),
    "questions": ("-.", "-.", "-.", "-.", "+.", "-."),
    "kb_answer": ("-.", "-.", "-.", "-.", "+.", "-."),
    "kb_learn": ("-.", "-.", "-.", "-.", "+.", "-."),
    "kb_paraphrase": ("-.", "-.", "-.", "-.", "+.", "-."),
    "report": ("-.", "-.", "-.", "+-", "++", "-."),
    "/report": ("-.", "-.", "-.", "+-", "++", "-."),
    "inspect": ("--", "--", "+-", "--", "--", "--"),
    "/inspect": ("--", "--", "+-", "--", "--", "--"),
    "fix": ("--", "--", "+-", "--", "--", "--"),
    "review": ("--", "--", "--", "+-", "--", "--"),
    "/review": ("--", "--", "--", "+-", "--", "--"),
    "overdue": ("--", "--", "--", "+-", "++", "--"),
    "invite": ("-.", "-.", "-.", "+.", "+.", "-."),
    "/invite": ("-.", "-.", "-.", "+.", "+.", "-."),
    "profile": ("+.", "+.", "+.", "+.", "+.", "-."),
    "/profile": ("+.", "+.", "+.", "+.", "+.", "-."),
    "rename": ("-.", "+.", "+.", "+.", "+.", "-."),
    "help": ("+.", "+.", "+.", "+.", "+.", "-."),
    "complaint_new": ("+.", "+.", "+.", "+.", "+.", "-."),
    "complaint_mine": ("+-", "+-", "+-", "+-", "+-", "--"),
    "/track": ("+-", "+-", "--", "+-", "++", "--"),
    "complaint_track": ("+-", "+-", "--", "+-", "++", "--"),
    "complaint_feedback": ("+-", "--", "--", "--", "--", "--"),
    "complaint_queue": ("--", "--", "--", "+-", "+.", "--"),
    "complaint_view": ("--", "--", "--", "+-", "++", "--"),
    "complaint_view@county_office": ("-.", "-.", "-.", "+.", "+.", "-."),
    "complaint_update": ("--", "--", "--", "+-", "++", "--"),
    "complaint_reroute": ("--", "--", "--", "+-", "++", "--"),
    "complaint_accept": ("--", "--", "--", "+-", "++", "--"),
    "complaint_accept@county_office": ("-.", "-.", "-.", "-.", "+.", "-."),
    "milestones": ("-.", "-.", "-.", "+.", "+.", "-."),
    "ms_done": ("-.", "-.", "-.", "+.", "-.", "-."),
    "ms_view": ("-.", "-.", "-.", "-.", "+.", "-."),
    "broadcast": ("-.", "-.", "-.", "-.", "+.", "-."),
    "closures": ("--", "--", "+-", "+-", "--", "--"),
    "closures@list": ("-.", "-.", "+.", "+.", "-.", "-."),
    "people": ("-.", "-.", "-.", "-.", "+.", "-."),
    "people@list": ("-.", "-.", "-.", "-.", "+.", "-."),
    "person_revoke": ("-.", "-.", "-.", "-.", "+.", "-."),
    "codes": ("-.", "-.", "-.", "-.", "+.", "-."),
    "code_revoke": ("-.", "-.", "-.", "-.", "+.", "-."),
    # The web console's sign-in link; its pages apply these same rules (tests/test_web_console.py, the web rows).
    "web": ("-.", "-.", "-.", "+.", "+.", "-."),
    "/web": ("-.", "-.", "-.", "+.", "+.", "-."),
    "groups": ("-.", "-.", "-.", "-.", "+.", "-."),
    "group_add": ("-.", "-.", "-.", "-.", "+.", "-."),
    "group_remove": ("-.", "-.", "-.", "-.", "+.", "-."),
    # The shop owner in the loop (issue 15): "own" for an operator is the unit they own, else the unit in their area.
    "my_units": ("-.", "+.", "-.", "-.", "-.", "-."),
    "unit_card": ("--", "+-", "+-", "+-", "++", "--"),
    "owner_invite": ("--", "--", "+-", "+-", "--", "--"),
    "rectify_sheet": ("--", "+-", "+-", "+-", "++", "--"),
    "fix_report": ("--", "+-", "--", "--", "--", "--"),
    "self_check": ("--", "+-", "--", "--", "--", "--"),
}
MATRIX: list[tuple[str, str, str, bool]] = [
    (role, action, area, cell == "+")
    for action, cells in TABLE.items()
    for role, pair in zip(ROLES, cells, strict=True)
    for area, cell in zip((OWN, OTHER), pair, strict=True)
    if cell != "."
]


@dataclass
class Scene:
    """The world plus what the rows name: per role, the complaint that is "own" and the complaints each filed."""

    world: World
    closed: str  # a complaint the resident filed and the office closed: the resident is asked for feedback
    kb_id: str
    kb_answer: str
    pending_closure: dict[str, int]  # OWN / OTHER -> a 待关停 unit (classified 关停取缔类, closure not verified)
    code: str  # an open invite code (a cadre's, for 芙蓉村) and its row id
    code_id: int
    learned: int = 0  # an entry learned from the county office's answer (its question: LEARNED)
    group_id: int = 0  # a registered work group (WORK_GROUP)

    def complaint(self, key: str) -> Any:
        return self.world.complaints[key]

    def own_complaint(self, role: str) -> str:
        """ "Own" for a resident or operator: what they filed; for anyone else: a complaint in their area."""
        return "here_anon" if role == "resident" else "here_operator_anon"

    def filed_by(self, role: str) -> list[str]:
        return {"resident": ["here_anon", "here_county", self.closed], "operator": ["here_operator_anon"]}.get(role, [])


def target(scene: Scene, role: str, area: str) -> Any:
    return scene.complaint(scene.own_complaint(role) if area == OWN else "there_real")


def inspection(scene: Scene, area: str, own: str = "here_submitted") -> int:
    return scene.world.inspections[own if area == OWN else "there_submitted"]


def unit(scene: Scene, area: str) -> int:
    return scene.world.units["here" if area == OWN else "there"]


Invoke = Callable[[Scene, str, str], tuple[str, str, str]]  # -> ("press", data, "") | ("command", name, argument)
Strings = Callable[[Scene, str, str], list[str]]


def press(data: Callable[[Scene, str, str], str]) -> Invoke:
    return lambda scene, role, area: ("press", data(scene, role, area), "")


def command(name: str, argument: Callable[[Scene, str, str], str] = lambda *_: "") -> Invoke:
    return lambda scene, role, area: ("command", name, argument(scene, role, area))


def fixed(*words: str) -> Strings:
    return lambda *_: list(words)


@dataclass(frozen=True)
class Probe:
    invoke: Invoke
    shows: Strings  # what an allowed answer contains (and a refused one does not)
    secrets: Strings = lambda *_: []  # what else a refused answer must not contain


QUESTION = "夜市流动摊位要办哪些手续"
PENDING_HERE, PENDING_THERE = "芙蓉违建烧烤店", "桥下无证小卖部"
LEARNED = "村口能摆水果摊吗"
WORK_GROUP = "岩头镇钉钉工作群"
HERE_NOTE, THERE_NOTE = "here-submitted营业执照未悬挂", "there-submitted营业执照未悬挂"


def complaint_secrets(scene: Scene, role: str, area: str) -> list[str]:
    found = target(scene, role, area)
    return [found.description, REAL_NAME, REAL_PHONE]


def complaint_shown(scene: Scene, role: str, area: str) -> list[str]:
    found = target(scene, role, area)
    return [found.number, found.description]


def mine_shown(scene: Scene, role: str, area: str) -> list[str]:
    if area == OTHER:
        return others_complaints(scene, role, area)
    filed = scene.filed_by(role)
    return [scene.complaint(key).number for key in filed] if filed else ["还没有提交或关注过投诉"]


def others_complaints(scene: Scene, role: str, area: str) -> list[str]:
    """Numbers and words of every complaint this person did not file."""
    mine = set(scene.filed_by(role))
    return [
        text
        for key, filed in scene.world.complaints.items()
        if key not in mine
        for text in (filed.number, filed.description)
    ]


def report_shown(scene: Scene, role: str, area: str) -> list[str]:
    if area == OTHER:
        return ["桥下镇"]
    return ["岩头镇"] if role == "township" else ["永嘉县"]


def by_area(own: list[str], other: list[str]) -> Strings:
    return lambda scene, role, area: own if area == OWN else other


def view_secrets(scene: Scene, role: str, area: str) -> list[str]:
    found = target(scene, role, area)
    return [found.number, found.description, REAL_NAME, REAL_PHONE]


def queue_shown(scene: Scene, role: str, area: str) -> list[str]:
    if area == OTHER:
        return [scene.complaint("there_real").number]
    if role == "county":  # the county office's own queue: its categories, escalations, unstaffed townships
        return [scene.complaint("here_county").number]
    return [scene.complaint("here_operator_anon").number, scene.complaint("here_anon").number]


# Each unit has a report waiting for review (tests/world.py): starting an inspection says so before the checklist.
CHECKLIST = by_area(["老王小吃店", "已有待乡镇审核的检查报告"], ["桥头面馆", "已有待乡镇审核的检查报告"])
UNIT_CARD = by_area(["【单位档案】老王小吃店", "待整改项目"], ["【单位档案】桥头面馆", "待整改项目"])
REVIEWED = by_area(["老王小吃店", "请审核", HERE_NOTE], ["桥头面馆", "请审核", THERE_NOTE])


def county_office(scene: Scene, role: str, area: str) -> Any:
    return scene.complaint("here_county")


PROBES: dict[str, Probe] = {
    "ask": Probe(press(lambda *_: "m.ask"), fixed("请输入您的问题")),
    "/ask": Probe(command("ask", lambda *_: "小餐馆要办哪些证"), fixed("营业执照", "出处")),
    "kb": Probe(press(lambda scene, *_: f"m.kb.{scene.kb_id}"), lambda scene, *_: [scene.kb_answer]),
    "questions": Probe(press(lambda *_: "m.questions"), fixed(QUESTION), fixed(QUESTION)),
    "kb_answer": Probe(
        press(lambda scene, *_: f"m.kb_answer.{scene.world.questions['open']}"), fixed(QUESTION), fixed(QUESTION)
    ),
    "kb_learn": Probe(
        press(lambda scene, *_: f"m.kb_learn.{scene.world.questions['answered']}"),
        fixed("已加入知识库"),
        fixed("小卖部门口能摆摊吗", "不能占用人行道"),
    ),
    "kb_paraphrase": Probe(press(lambda scene, *_: f"m.kb_paraphrase.{scene.learned}"), fixed("现有的问法", LEARNED)),
    "report": Probe(press(lambda *_: "m.report"), report_shown, fixed("桥头面馆", "面馆没有营业执照")),
    "/report": Probe(command("report"), report_shown, fixed("桥头面馆", "面馆没有营业执照")),
    "inspect": Probe(press(lambda scene, role, area: f"m.inspect.{unit(scene, area)}"), CHECKLIST, CHECKLIST),
    "/inspect": Probe(command("inspect", lambda scene, role, area: str(unit(scene, area))), CHECKLIST, CHECKLIST),
    "fix": Probe(
        press(lambda scene, role, area: f"m.fix.{inspection(scene, area, 'here_returned')}"),
        fixed("检查报告摘要", "老王小吃店"),
        by_area(["照片看不清楚"], ["桥头面馆", THERE_NOTE]),
    ),
    "review": Probe(press(lambda scene, role, area: f"m.review.{inspection(scene, area)}"), REVIEWED, REVIEWED),
    "/review": Probe(command("review", lambda scene, role, area: str(inspection(scene, area))), REVIEWED, REVIEWED),
    "overdue": Probe(
        press(lambda *_: "m.overdue"), by_area(["老王小吃店"], ["桥头面馆"]), by_area(["老王小吃店"], ["桥头面馆"])
    ),
    "invite": Probe(press(lambda *_: "m.invite"), fixed("要为哪一类人员")),
    "/invite": Probe(command("invite"), fixed("要为哪一类人员")),
    "profile": Probe(press(lambda *_: "m.profile"), fixed("我的信息")),
    "/profile": Probe(command("profile"), fixed("我的信息")),
    "rename": Probe(press(lambda *_: "m.rename"), fixed("真实姓名")),
    "help": Probe(press(lambda *_: "m.help"), fixed("使用说明")),
    "complaint_new": Probe(press(lambda *_: "m.complaint_new"), fixed("请选择问题类别")),
    "complaint_mine": Probe(press(lambda *_: "m.complaint_mine"), mine_shown, others_complaints),
    # The number typed is echoed in the "not found" answer; what the complaint says is not.
    "/track": Probe(
        command("track", lambda scene, role, area: target(scene, role, area).number),
        lambda scene, role, area: [target(scene, role, area).description],
        complaint_secrets,
    ),
    "complaint_track": Probe(
        press(lambda scene, role, area: f"m.complaint_track.{target(scene, role, area).id}"),
        complaint_shown,
        view_secrets,
    ),
    "complaint_feedback": Probe(
        press(
            lambda scene, role, area: (
                f"m.complaint_feedback.{scene.complaint(scene.closed if area == OWN else 'there_real').id}:yes"
            )
        ),
        fixed("谢谢您的反馈"),
        lambda scene, role, area: [
            scene.complaint(scene.closed if area == OWN else "there_real").description,
            REAL_NAME,
            REAL_PHONE,
        ],
    ),
    "complaint_queue": Probe(press(lambda *_: "m.complaint_queue"), queue_shown, queue_shown),
    "complaint_view": Probe(
        press(lambda scene, role, area: f"m.complaint_view.{target(scene, role, area).id}"),
        complaint_shown,
        view_secrets,
    ),
    "complaint_view@county_office": Probe(
        press(lambda scene, role, area: f"m.complaint_view.{county_office(scene, role, area).id}"),
        lambda scene, *_: [scene.complaint("here_county").number, scene.complaint("here_county").description],
        lambda scene, *_: [scene.complaint("here_county").number, scene.complaint("here_county").description],
    ),
    "complaint_update": Probe(
        press(lambda scene, role, area: f"m.complaint_update.{target(scene, role, area).id}"),
        lambda scene, role, area: [target(scene, role, area).number, "请选择新的状态"],
        view_secrets,
    ),
    "complaint_reroute": Probe(
        press(lambda scene, role, area: f"m.complaint_reroute.{target(scene, role, area).id}"),
        lambda scene, role, area: [target(scene, role, area).number, "要怎样转办"],
        view_secrets,
    ),
    "complaint_accept": Probe(
        press(lambda scene, role, area: f"m.complaint_accept.{target(scene, role, area).id}"),
        lambda scene, role, area: [f"已受理投诉 {target(scene, role, area).number}"],
        view_secrets,
    ),
    "complaint_accept@county_office": Probe(
        press(lambda scene, role, area: f"m.complaint_accept.{county_office(scene, role, area).id}"),
        lambda scene, *_: [f"已受理投诉 {scene.complaint('here_county').number}"],
        lambda scene, *_: [scene.complaint("here_county").number, scene.complaint("here_county").description],
    ),
    "milestones": Probe(press(lambda *_: "m.milestones"), fixed("年计划节点")),
    "ms_done": Probe(press(lambda scene, *_: f"m.ms_done.{scene.world.milestone}"), fixed("标记为已完成")),
    "ms_view": Probe(press(lambda scene, *_: f"m.ms_view.{scene.world.milestone}"), fixed("责任单位", "乡镇完成")),
    "broadcast": Probe(press(lambda *_: "m.broadcast"), fixed("请输入要发布的通知内容")),
    "closures": Probe(
        press(lambda scene, role, area: f"m.closures.{scene.pending_closure[area]}"),
        by_area([PENDING_HERE, "请选择核实的结果"], [PENDING_THERE, "请选择核实的结果"]),
        by_area([PENDING_HERE], [PENDING_THERE]),
    ),
    "closures@list": Probe(press(lambda *_: "m.closures"), fixed(PENDING_HERE, "尚未核实关停"), fixed(PENDING_THERE)),
    # 人员管理: the people of a role (names), revoking one (asks first), the open codes, withdrawing one (asks first).
    "people": Probe(press(lambda *_: "m.people"), fixed("请选择要查看的人员类别", "村干部（2人）")),
    "people@list": Probe(press(lambda *_: "m.people.cadre.all"), fixed("李建国", "周书记"), fixed("李建国", "周书记")),
    "person_revoke": Probe(
        press(lambda scene, *_: f"m.person_revoke.{scene.world.user_ids['cadre']}"),
        fixed("确定撤销", "李建国"),
        fixed("李建国"),
    ),
    "codes": Probe(press(lambda *_: "m.codes"), lambda scene, *_: [scene.code], lambda scene, *_: [scene.code]),
    # The matrix's core has no console address: an allowed official is told it is not yet opened.
    "web": Probe(press(lambda *_: "m.web"), fixed("尚未开通")),
    "/web": Probe(command("web"), fixed("尚未开通")),
    "code_revoke": Probe(
        press(lambda scene, *_: f"m.code_revoke.{scene.code_id}"),
        lambda scene, *_: ["确定作废邀请码", scene.code],
        lambda scene, *_: [scene.code],
    ),
    # 工作群: the registered groups (names, masked webhooks), adding one (asks the kind first), removing one (asks).
    "groups": Probe(press(lambda *_: "m.groups"), fixed("已登记的工作群", WORK_GROUP), fixed(WORK_GROUP, "****")),
    "group_add": Probe(press(lambda *_: "m.group_add"), fixed("要添加哪种工作群")),
    "group_remove": Probe(
        press(lambda scene, *_: f"m.group_remove.{scene.group_id}"),
        fixed("确定删除工作群", WORK_GROUP),
        fixed(WORK_GROUP),
    ),
    "my_units": Probe(press(lambda *_: "m.my_units"), fixed("【单位档案】", "老王小吃店"), fixed("老王小吃店")),
    "unit_card": Probe(press(lambda scene, role, area: f"m.unit_card.{unit(scene, area)}"), UNIT_CARD, UNIT_CARD),
    "owner_invite": Probe(
        press(lambda scene, role, area: f"m.owner_invite.{unit(scene, area)}"),
        by_area(["老王小吃店", "业主邀请码："], ["桥头面馆", "业主邀请码："]),
        by_area(["老王小吃店"], ["桥头面馆"]),
    ),
    "rectify_sheet": Probe(
        press(lambda scene, role, area: f"m.rectify_sheet.{inspection(scene, area)}"),
        by_area(["老王小吃店", "整改告知单（PDF"], ["桥头面馆", "整改告知单（PDF"]),
        by_area(["老王小吃店", HERE_NOTE], ["桥头面馆", THERE_NOTE]),
    ),
    "fix_report": Probe(
        press(lambda scene, role, area: f"m.fix_report.{unit(scene, area)}"),
        by_area(["“老王小吃店”：请选择已经整改好的项目"], ["“桥头面馆”：请选择已经整改好的项目"]),
        by_area(["老王小吃店"], ["桥头面馆"]),
    ),
    "self_check": Probe(
        press(lambda scene, role, area: f"m.self_check.{unit(scene, area)}"),
        by_area(["【自查·老王小吃店】第1/"], ["【自查·桥头面馆】第1/"]),
        by_area(["老王小吃店"], ["桥头面馆"]),
    ),
}


def private(role: str) -> list[str]:
    """What this person may never be shown, whatever they do: who filed anonymously (the operator 王老板 filed
    here_operator_anon), and a 实名 complainant's name and phone (the county office's alone)."""
    words = [] if role == "operator" else ["王老板"]
    return words if role == "county" else [*words, REAL_NAME, REAL_PHONE]


async def protected_state(core: Core) -> dict[str, Any]:
    async with core.db.transaction() as session:
        return {
            "complaints": list(
                await session.execute(
                    select(
                        Complaint.id,
                        Complaint.status,
                        Complaint.office_area_id,
                        Complaint.category,
                        Complaint.feedback,
                        Complaint.village_id,
                    ).order_by(Complaint.id)
                )
            ),
            "events": await session.scalar(select(func.count(ComplaintEvent.id))),
            "inspections": list(
                await session.execute(select(Inspection.id, Inspection.status).order_by(Inspection.id))
            ),
            "questions": list(
                await session.execute(select(Question.id, Question.status, Question.learned_id).order_by(Question.id))
            ),
            "learned": await session.scalar(select(func.count(LearnedEntry.id))),
            "marks": await session.scalar(select(func.count(MilestoneDone.id))),
            "units": list(await session.execute(select(Unit.id, Unit.status).order_by(Unit.id))),
            "closures": await session.scalar(select(func.count(UnitClosure.id))),
            "invites": await session.scalar(select(func.count(Invite.id))),
            "work_groups": await session.scalar(select(func.count(WorkGroup.id))),
            "self_checks": await session.scalar(select(func.count(SelfCheck.id))),
            "users": list(await session.execute(select(User.id, User.role, User.area_id, User.name).order_by(User.id))),
        }


async def outbox_after(core: Core, after: int) -> list[OutboxMessage]:
    async with core.db.transaction() as session:
        return list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id))
        )


async def last_outbox_id(core: Core) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.max(OutboxMessage.id))) or 0)


def visible(replies: list[Reply]) -> str:
    """Everything the person sees: texts, captions and button labels."""
    return "\n".join([*(r.text for r in replies), *(c.label for r in replies for c in r.choices)])


@pytest.fixture
async def scene(core, db, clock) -> Scene:
    world = await build_world(core, db, clock)
    closed = "here_closed"
    number = await file_complaint(world.people["resident"], category="其他", unit=None, description="路边摊油锅起火")
    async with db.transaction() as session:
        filed = await complaints.find_by_number(session, number)
        county = await session.get(User, world.user_ids["county"])
        await complaints.change_status(session, filed, ComplaintStatus.CLOSED, county.id, "已处理完毕", clock.now())
    world.complaints[closed] = type(world.complaints["here_anon"])(filed.id, number, "路边摊油锅起火")
    world.people["resident"].replies.clear()
    async with db.transaction() as session:
        asked = await questions.ask(session, world.user_ids["resident"], LEARNED, clock.now())
        questions.answer(asked, world.user_ids["county"], "不能，村口是公共通道", clock.now())
        learned = await questions.learn(session, asked, world.user_ids["county"], "县整规办答复", clock.now())
    entry = core.parts.knowledge.entries[0]
    pending = {
        OWN: await add_unit(db, clock, "芙蓉村", PENDING_HERE),
        OTHER: await add_unit(db, clock, "桥下村", PENDING_THERE),
    }
    async with db.transaction() as session:
        for unit_id in pending.values():
            unit = await session.get(Unit, unit_id)
            unit.status, unit.unit_class = UnitStatus.PENDING_CLOSURE, UnitClass.SHUTDOWN
    async with db.transaction() as session:  # each operator owns the unit of their village
        for person, place in (("operator", "here"), ("there_operator", "there")):
            await owners.bind(session, world.units[place], world.user_ids[person], clock.now())
    code = await make_invite(db, clock, Role.CADRE, "芙蓉村")
    async with db.transaction() as session:
        code_id = await session.scalar(select(Invite.id).where(Invite.code == code))
    async with db.transaction() as session:
        township = await session.scalar(select(Area).where(Area.name == "岩头镇"))
        group = await work_groups.add_group(
            session,
            WORK_GROUP,
            "dingtalk",
            township,
            "https://oapi.dingtalk.com/robot/send?access_token=matrix0token1",
            "SECmatrix",
            clock.now(),
        )
    return Scene(
        world, closed, entry.id, entry.answer.strip().splitlines()[0][:12], pending, code, code_id, learned.id, group.id
    )


def describe(row: tuple[str, str, str, bool]) -> str:
    role, action, area, allowed = row
    return f"{role} {action} ({area} area) {'allowed' if allowed else 'refused'}"


async def run_row(core: Core, scene: Scene, row: tuple[str, str, str, bool], update_id: int) -> list[str]:
    """Play one row; returns what went wrong (empty: as the table says)."""
    role, action, area, allowed = row
    probe = PROBES[action]
    chat = STRANGER_ID if role == "stranger" else scene.world.people[role].user_id
    how, first, second = probe.invoke(scene, role, area)
    inbound = (
        Inbound(chat, chat, Kind.PRESS, data=first, update_id=update_id)
        if how == "press"
        else Inbound(chat, chat, Kind.COMMAND, command=first, text=second, update_id=update_id)
    )
    before_state, before_outbox = await protected_state(core), await last_outbox_id(core)
    replies = (await core.handle(inbound)).replies
    seen = visible(replies)
    problems = [
        f"not plain Chinese: {r.text[:120]!r}"
        for r in replies
        if not CJK.search(r.text) or "Traceback" in r.text or "Error" in r.text
    ]
    if not replies:
        problems.append("no answer")
    problems += [f"shows private {word!r}" for word in private(role) if word in seen]
    user_id = scene.world.user_ids.get(role)
    async with core.db.transaction() as session:
        flow = await load_conversation(session, user_id) if user_id else None
        if user_id:
            await end_conversation(session, user_id)  # the next row starts from the menu
    if allowed:
        problems += [f"does not show {word!r}" for word in probe.shows(scene, role, area) if word not in seen]
    else:
        problems += [f"leaks {word!r}" for word in probe.secrets(scene, role, area) if word in seen]
        problems += [f"shows {word!r}" for word in probe.shows(scene, role, area) if word in seen]
        if flow is not None:
            problems.append(f"started the flow {flow.flow}")
        if await protected_state(core) != before_state:
            problems.append("changed what is stored")
        others = [row.chat_id for row in await outbox_after(core, before_outbox) if row.chat_id != chat]
        if others:
            problems.append(f"sent something to {others}")
    return [f"{describe(row)}: {problem}\n    answer: {seen[:300]!r}" for problem in problems]


@pytest.mark.parametrize("role", ROLES)
async def test_the_authorization_matrix(core, scene, role):
    rows = [row for row in MATRIX if row[0] == role]
    assert rows and {row[1] for row in rows} <= set(PROBES)
    failures: list[str] = []
    for number, row in enumerate(rows):
        failures += await run_row(core, scene, row, 8_000_000_000 + number)
    # Notices count too: everything ever queued for this person (a new complaint's notice to the township, say).
    if role != "stranger":
        chat = scene.world.people[role].user_id
        for message in await outbox_after(core, 0):
            labels = [button["label"] for line in message.payload.get("buttons", []) for button in line]
            text = "\n".join([message.payload.get("text", ""), *labels])
            if message.chat_id == chat:
                failures += [
                    f"{role}: outbox {message.id} shows private {word!r}" for word in private(role) if word in text
                ]
    assert failures == [], "\n".join(failures)
    assert await inconsistencies(core, {STRANGER_ID}) == []


def test_the_matrix_covers_every_action_and_command():
    """A new menu action or command must get its rows here."""
    from handlers.actions import ACTIONS, COMMANDS

    named = {action.split("@")[0] for action in TABLE}
    assert set(ACTIONS) <= named, set(ACTIONS) - named
    assert {f"/{command}" for command in COMMANDS} <= named
    assert set(TABLE) == set(PROBES)


async def test_another_persons_tracking_number_reveals_nothing(core, scene):
    """Tracking someone else's complaint reads exactly like a number that was never issued."""
    world = scene.world
    for role in ("resident", "operator", "cadre", "there_township"):
        person = world.people[role]
        for key in ("here_real", "there_real", "here_county"):
            if key == "here_county" and role == "resident":
                continue  # the resident's own
            number = world.complaints[key].number
            real = (await person.command("track", number))[0].text
            never = (await person.command("track", "TS-2026-999999"))[0].text
            if role == "there_township" and key == "there_real":
                assert world.complaints[key].description in real  # their own township's: shown
                continue
            assert real.replace(number, "TS-2026-999999") == never, (role, key, real)


async def test_another_townships_complaint_reads_like_one_never_filed(core, scene):
    """An official who forges a button for a complaint outside their township learns nothing: not its contents,
    not the office handling it, not even that it exists."""
    official = scene.world.people["there_township"]
    for key in ("here_real", "here_anon", "here_county"):
        filed = scene.complaint(key)
        for action in ("complaint_view", "complaint_accept", "complaint_update", "complaint_reroute"):
            real = visible(await official.press_data(f"m.{action}.{filed.id}"))
            never = visible(await official.press_data(f"m.{action}.99999999"))
            assert real == never, (key, action, real)


# The web console's doors (bot/web/): the same rules through HTTP. Every role gets a session row directly (only
# township and county officials can get one from /web, but a row that outlived a change of role must open nothing);
# the stranger has no session. Codes: 200 shown, 303 done, 401 no session, 403 refused, 404 reads as never existing.
#                          resident  operator  cadre     township   county     stranger
WEB_TABLE: dict[str, tuple[str, ...]] = {
    "GET /": ("401.", "401.", "401.", "200.", "200.", "401."),
    "GET /review/{i}": ("401401", "401401", "401401", "200404", "403403", "401401"),
    "POST /review/{i}": ("401401", "401401", "401401", "303404", "403403", "401401"),
    "GET /units/{u}": ("401401", "401401", "401401", "200404", "200200", "401401"),
    "GET /complaints/{c}": ("401401", "401401", "401401", "200404", "200200", "401401"),
    "POST /complaints/{c}/accept": ("401401", "401401", "401401", "303404", "303303", "401401"),
    # 转办 and 重复 (bot/web/complaint_actions.py): the matrix's form names no status it was shown, so an official
    # who may act gets 409 (changed meanwhile, nothing saved); tests/test_web_complaint_actions.py does them.
    "POST /complaints/{c}/reroute": ("401401", "401401", "401401", "409404", "409409", "401401"),
    "POST /complaints/{c}/duplicate": ("401401", "401401", "401401", "409404", "409409", "401401"),
    "GET /plan": ("401.", "401.", "401.", "200.", "200.", "401."),
    "GET /map/points.json": ("401.", "401.", "401.", "200.", "200.", "401."),
    "GET /units/export.xlsx": ("401.", "401.", "401.", "200.", "200.", "401."),
}


async def test_the_web_console_follows_the_same_matrix(core, scene, db, clock, tmp_path):
    import httpx

    from bot.web.app import Console, build_app
    from bot.web.auth import COOKIE, Cookies
    from storage import web
    from storage.media import LocalMediaStore

    cookies = Cookies("matrix-secret", secure=False)
    app = build_app(
        Console(
            db=db,
            clock=clock,
            texts=core.texts,
            menus=core.parts.menus,
            knowledge=core.parts.knowledge,
            media=LocalMediaStore(tmp_path / "media"),
            cookies=cookies,
            files_dir=tmp_path / "files",
            charts_dir=tmp_path / "charts",
            upload_max=1 << 20,
        )
    )
    world = scene.world
    ids = {
        "i": (world.inspections["here_submitted"], world.inspections["there_submitted"]),
        "u": (world.units["here"], world.units["there"]),
        "c": (world.complaints["here_operator_anon"].id, world.complaints["there_real"].id),
    }
    failures = []
    for number, role in enumerate(ROLES):
        jar = {}
        if role != "stranger":
            async with db.transaction() as session:
                token, row = await web.start_session(session, world.user_ids[role], clock.now())
                csrf = row.csrf
            jar = {COOKIE: cookies.sign(token)}
        for door, cells in WEB_TABLE.items():
            method, path = door.split(" ")
            for area, code in zip((OWN, OTHER), (cells[number][:3], cells[number][3:]), strict=True):
                if code in ("", "."):
                    continue
                url = path
                for key, (own, other) in ids.items():
                    url = url.replace("{" + key + "}", str(own if area == OWN else other))
                before = await protected_state(core)
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://matrix", cookies=jar
                ) as client:
                    answer = (
                        await client.post(url, data={"csrf": csrf if jar else "", "decision": "approve"})
                        if method == "POST"
                        else await client.get(url)
                    )
                text = answer.text
                if str(answer.status_code) != code:
                    failures.append(f"{role} {door} ({area}): {answer.status_code}, expected {code}")
                if answer.status_code >= 400:
                    if not CJK.search(text) or "Traceback" in text:
                        failures.append(f"{role} {door} ({area}): refusal not in plain Chinese")
                    if await protected_state(core) != before:
                        failures.append(f"{role} {door} ({area}): refused, yet changed what is stored")
                failures += [
                    f"{role} {door} ({area}): shows private {word!r}" for word in private(role) if word in text
                ]
    assert failures == [], "\n".join(failures)
