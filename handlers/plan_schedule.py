"""The plan's schedule as the milestones of one year: its dated tasks, the start of each phase and the
quarterly supervision of phase 2.

Dates come from a plan YAML in the format of knowledge/data/plan.yaml (the shipped plan by default), read
through the knowledge base's own pydantic specs so the dates live in one place only. The year is a parameter:
the plan is yearly, and the same month/day schedule is reused until the county loads a new one.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.texts import Texts
from knowledge.kb_builder import VALIDATION_MESSAGES
from knowledge.loader import DATA_DIR
from knowledge.models import Milestone, MilestoneSpec, PhaseSpec, Text
from knowledge.yaml_errors import YamlFileError, read_yaml_file
from storage import milestones
from storage.clock import Clock
from storage.db import Database
from storage.milestone_models import MilestoneKind
from storage.milestones import ROLE_WORDS, PlannedMilestone

SHIPPED_PLAN = DATA_DIR / "plan.yaml"
# The plan: "第二阶段（5月-10月）…每季度一次组织对各乡镇各部门整治工作的开展情况进行督查评价". We date each
# supervision at the end of every calendar quarter that ends inside that phase: for 5月-10月 that is 6月30日
# (end of Q2) and 9月30日 (end of Q3); October's part of Q4 is covered by the county check of 10月26日 (task 11).
SUPERVISION_PHASE = 2
QUARTER_END_MONTHS = (3, 6, 9, 12)
# Phase starts and supervisions concern everyone in the plan: the county office organises, townships and
# departments act (supervision: they are evaluated and update their data reports).
EVERYONE = ("县整规办", "乡镇", "各部门")
CN_NUMBERS = "一二三四五六七八九十"


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file and the entry, in Chinese."""


class _Task(MilestoneSpec):
    questions: list[Text] = Field(default_factory=list)  # knowledge-base phrasings; a schedule file may omit them


class _Phase(PhaseSpec):
    questions: list[Text] = Field(default_factory=list)


class ScheduleFile(BaseModel):
    """The parts of a plan file the schedule needs; the knowledge-only parts are ignored here."""

    model_config = ConfigDict(extra="ignore")
    phases: list[_Phase] = []
    milestones: Annotated[list[_Task], Field(min_length=1)]


@dataclass(frozen=True)
class Schedule:
    source: str
    tasks: tuple[Milestone, ...]
    phases: tuple[PhaseSpec, ...]


_MESSAGES = VALIDATION_MESSAGES | {
    "string_pattern_mismatch": "格式不对：只能用小写英文字母、数字和下划线，例如 work_plan",
}


def _entry_name(raw: Any, loc: tuple[Any, ...]) -> str:
    if len(loc) < 2 or loc[0] not in ("milestones", "phases") or not isinstance(loc[1], int):
        return ""
    try:
        node = raw[loc[0]][loc[1]]
    except (KeyError, IndexError, TypeError):
        node = None
    if loc[0] == "milestones":
        ident = node.get("id") if isinstance(node, dict) else None
        return f"时间节点 {ident}：" if isinstance(ident, str) else f"第{loc[1] + 1}个时间节点："
    number = node.get("number") if isinstance(node, dict) else None
    return f"第{number}阶段：" if isinstance(number, int) else f"第{loc[1] + 1}个阶段："


def _describe(err: Any, raw: Any, name: str) -> str:
    loc = tuple(err["loc"])
    entry = _entry_name(raw, loc)
    field = ".".join(str(p) for p in (loc[2:] if entry else loc))
    if err["type"] == "literal_error" and "responsible" in loc:
        allowed = "、".join(ROLE_WORDS)
        return f"{name}：{entry}责任单位“{err.get('input')}”无法识别（可用：{allowed}）"
    if err["type"] == "literal_error":
        message = "取值不在允许范围内"
    elif err["type"] == "value_error":
        message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
    elif err["type"] == "missing":
        return f"{name}：{entry}缺少必填字段 {field}"
    else:
        message = _MESSAGES.get(err["type"], err["msg"])
    return f"{name}：{entry}字段 {field}：{message}" if field else f"{name}：{entry}{message}"


def read_schedule(path: Path) -> Schedule:
    """Parse and check a plan file (dates are checked per year in `planned_milestones`)."""
    name = path.name
    try:
        raw = read_yaml_file(path)
    except YamlFileError as exc:
        raise PlanError(f"{path if not path.exists() else name}：{exc}") from None
    if not isinstance(raw, dict):
        raise PlanError(f"{name}：文件内容应为键值对，至少包含 milestones（时间节点列表）")
    try:
        parsed = ScheduleFile.model_validate(raw)
    except ValidationError as exc:
        raise PlanError("\n".join(_describe(err, raw, name) for err in exc.errors())) from None
    seen: set[str] = set()
    for spec in parsed.milestones:
        if spec.id in seen:
            raise PlanError(f"{name}：时间节点 {spec.id}：id 重复，每个时间节点的 id 必须不同")
        seen.add(spec.id)
    for phase in parsed.phases:
        if phase.start_month > phase.end_month:
            raise PlanError(
                f"{name}：第{phase.number}阶段：开始月份 {phase.start_month} 晚于结束月份 {phase.end_month}"
            )
    if len({p.number for p in parsed.phases}) != len(parsed.phases):
        raise PlanError(f"{name}：阶段序号 number 重复")
    tasks = tuple(
        Milestone(s.id, s.number, s.month, s.day, s.year_end, s.title, tuple(s.responsible), s.text)
        for s in parsed.milestones
    )
    return Schedule(name, tasks, tuple(parsed.phases))


def shipped_schedule() -> Schedule:
    return read_schedule(SHIPPED_PLAN)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def planned_milestones(schedule: Schedule, year: int, texts: Texts) -> list[PlannedMilestone]:
    """The year's milestones, in date order; a date the year does not have (2月30日, 2月29日 in 2027) is an error."""
    planned: list[PlannedMilestone] = []
    for phase in schedule.phases:
        title = texts(
            "ms_phase_title",
            number=CN_NUMBERS[phase.number - 1] if phase.number <= 10 else phase.number,
            name=phase.name,
            start=phase.start_month,
            end=phase.end_month,
        )
        planned.append(
            PlannedMilestone(
                f"phase.{phase.number}",
                date(year, phase.start_month, 1),
                0,
                MilestoneKind.PHASE,
                title,
                EVERYONE,
                phase.summary,
            )
        )
        if phase.number == SUPERVISION_PHASE:
            for month in QUARTER_END_MONTHS:
                if phase.start_month <= month <= phase.end_month:
                    quarter = month // 3
                    planned.append(
                        PlannedMilestone(
                            f"supervision.q{quarter}",
                            _month_end(year, month),
                            0,
                            MilestoneKind.SUPERVISION,
                            texts("ms_supervision_title", quarter=CN_NUMBERS[quarter - 1]),
                            EVERYONE,
                            texts("ms_supervision_text"),
                        )
                    )
    for task in schedule.tasks:
        try:
            due = task.due(year)
        except ValueError:
            raise PlanError(
                f"{schedule.source}：时间节点 {task.id}（第{task.number}项）：{year}年没有"
                f"{task.month}月{task.day}日，请改为有效日期"
            ) from None
        planned.append(
            PlannedMilestone(
                f"task.{task.id}", due, task.number, MilestoneKind.TASK, task.title, task.responsible, task.text
            )
        )
    return sorted(planned, key=lambda p: (p.due_on, p.position, p.key))


async def load_plan(
    db: Database, schedule: Schedule, year: int, texts: Texts, clock: Clock
) -> milestones.ReplaceResult:
    planned = planned_milestones(schedule, year, texts)
    async with db.transaction() as session:
        return await milestones.replace_year(session, year, planned, clock.now())


async def ensure_plan(db: Database, clock: Clock, texts: Texts | None = None) -> int:
    """At start-up: when the current year (the clock's zone) has no milestones, load the shipped plan for it.
    Returns how many milestones were loaded (0: the year already had its plan)."""
    year = clock.now().year
    async with db.transaction() as session:
        if await milestones.count_for_year(session, year):
            return 0
    planned = planned_milestones(shipped_schedule(), year, texts or Texts.load())
    async with db.transaction() as session:
        if await milestones.count_for_year(session, year):  # another process was quicker
            return 0
        await milestones.replace_year(session, year, planned, clock.now())
    return len(planned)
