"""`shixiao plan …`: load the plan's milestones for a year and list them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, err_console, fail, load_settings, run_async
from bot.db_open import open_database
from storage.clock import SystemClock
from storage.milestone_models import MilestoneKind

if TYPE_CHECKING:
    from storage import milestones
    from storage.milestones import PlannedMilestone

# The plan's schedule (handlers.plan_schedule: the knowledge base's models, YAML) and the storage queries are
# imported by the commands that use them: `plan list` reads the database and needs the shipped plan only when the
# year has no milestones yet.

plan_app = ChineseTyper(help="实施方案的时间节点：按年度载入和查看（用于提醒和“计划节点”）。", no_args_is_help=True)

YEAR_HELP = "年度，默认为今年（按 SHIXIAO_TIMEZONE，默认北京时间）"
KIND_NAMES = {MilestoneKind.TASK: "项任务", MilestoneKind.PHASE: "个阶段", MilestoneKind.SUPERVISION: "次督查"}


def _year(year: int | None, settings_tz: ZoneInfo) -> int:
    return year if year is not None else SystemClock(settings_tz).now().year


@plan_app.command("load")
def load(
    file: Path = typer.Argument(
        ..., help="实施方案 YAML，格式同 knowledge/data/plan.yaml（至少含 milestones，可含 phases）"
    ),
    year: int | None = typer.Option(None, "--year", min=2000, max=2100, help=YEAR_HELP),
) -> None:
    """载入一个年度的时间节点；重复载入会替换该年度的节点，不会重复，已标记的完成情况保留。"""
    from handlers.plan_schedule import PlanError, load_plan, planned_milestones, read_schedule
    from handlers.texts import Texts

    settings = load_settings()
    chosen = _year(year, settings.tz)
    texts = Texts.load()
    try:
        schedule = read_schedule(file)
        planned = planned_milestones(schedule, chosen, texts)
    except PlanError as error:
        fail(str(error))

    async def go() -> milestones.ReplaceResult:
        db = await open_database(settings)
        try:
            return await load_plan(db, schedule, chosen, texts, SystemClock(settings.tz))
        finally:
            await db.dispose()

    result = run_async(go())
    counts = "、".join(f"{sum(p.kind == kind for p in planned)}{name}" for kind, name in KIND_NAMES.items())
    console.print(
        f"已载入 {chosen} 年的时间节点：{counts}（共 {len(planned)} 个）；新增 {result.created}，"
        f"更新 {result.updated}，删除 {result.removed}；保留完成记录 {result.kept_marks} 条。",
        highlight=False,
    )


def _print(rows: list[PlannedMilestone]) -> None:
    for row in sorted(rows, key=lambda r: (r.due_on, r.position, r.key)):
        typer.echo(f"{row.due_on.isoformat()}\t{'、'.join(row.responsible)}\t{row.title}")


@plan_app.command("list")
def list_command(year: int | None = typer.Option(None, "--year", min=2000, max=2100, help=YEAR_HELP)) -> None:
    """列出一个年度的时间节点，每行一个：日期（YYYY-MM-DD）、责任单位、事项（制表符分隔），按日期排序。"""
    from storage import milestones
    from storage.milestones import PlannedMilestone

    settings = load_settings()
    chosen = _year(year, settings.tz)

    async def go() -> list[PlannedMilestone]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                return [
                    PlannedMilestone(m.key, m.due_on, m.position, m.kind, m.title, tuple(m.responsible), m.text)
                    for m in await milestones.milestones_for_year(session, chosen)
                ]
        finally:
            await db.dispose()

    rows = run_async(go())
    if not rows:
        from handlers.plan_schedule import PlanError, Schedule, planned_milestones, shipped_schedule
        from handlers.texts import Texts

        try:
            shipped: Schedule = shipped_schedule()
            rows = planned_milestones(shipped, chosen, Texts.load())
        except PlanError as error:
            fail(str(error))
        err_console.print(
            f"{chosen} 年尚未载入时间节点，以下是随程序提供的实施方案（{shipped.source}）"
            f"按 {chosen} 年排出的日期；载入后（shixiao plan load，或机器人启动时自动载入本年度）才会发送提醒。",
            highlight=False,
        )
    _print(rows)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
