"""`shixiao digest` and `shixiao export report`: the weekly digest in the terminal and the 数据报表 as Excel."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import (
    console,
    export_group,
    fail,
    load_settings,
    progress,
    run_async,
    suffix_check,
    xlsx_out,
)
from bot.db_open import open_database
from bot.xlsx_book import MOMENT_WIDTH, Book, Percent
from handlers.digest_render import chart_png, digest_text, split_message
from handlers.report import industry_names, targets_of
from handlers.texts import Texts
from knowledge.shipped import shipped_knowledge
from storage.areas import AmbiguousArea, AreaNotFound, find_area, the_county
from storage.clock import SystemClock
from storage.digest import Digest, compute_digest
from storage.inspection_models import UnitStatus
from storage.models import Area, AreaLevel

COUNTY_WORDS = ("county", "全县")
RATE_LABEL = "达标率（待关停计入基数，已关停不计入）"
SCOPE_HINT = "--scope 应为 全县（或 county、县名）或一个乡镇的名称"


class ScopeProblem(Exception):
    """A --scope that names no county or township, explained in Chinese."""


async def _scope(session: AsyncSession, name: str) -> Area:
    county = await the_county(session)
    if county is None:
        raise ScopeProblem(
            "还没有载入县、乡镇和村：请先运行 `shixiao areas load 区域文件`（或启动一次机器人，载入示例县）。"
        )
    if name.strip().lower() in COUNTY_WORDS or name.strip() == county.name:
        return county
    try:
        return await find_area(session, name, AreaLevel.TOWNSHIP)
    except AmbiguousArea as error:
        raise ScopeProblem(f"“{name}”有重名：{'、'.join(error.candidates)}。") from None
    except AreaNotFound:
        pass
    try:
        other = await find_area(session, name)
    except AmbiguousArea as error:  # a village name used in two townships
        raise ScopeProblem(
            f"“{name}”是村（{'、'.join(error.candidates)}），周报只按全县或乡镇生成：{SCOPE_HINT}。"
        ) from None
    except AreaNotFound:
        raise ScopeProblem(f"找不到“{name}”：{SCOPE_HINT}，可用 `shixiao areas list` 查看。") from None
    # Only a village is left: a digest covers the county or a township, so name the village's township instead.
    township = other.parent.name if other.parent else ""
    raise ScopeProblem(f"“{name}”是{township}的村，周报只按全县或乡镇生成：{SCOPE_HINT}，例如 --scope {township}。")


async def _digest(scope_name: str) -> tuple[Digest, SystemClock]:
    settings = load_settings()
    clock = SystemClock(settings.tz)
    db = await open_database(settings)
    try:
        async with db.transaction() as session:
            scope = await _scope(session, scope_name)
            return await compute_digest(session, scope, clock.now(), targets_of(shipped_knowledge())), clock
    finally:
        await db.dispose()


def _load(scope: str) -> tuple[Digest, SystemClock]:
    try:
        return run_async(_digest(scope))
    except ScopeProblem as problem:
        fail(str(problem))


def digest(
    ctx: typer.Context,
    scope: str = typer.Option("county", "--scope", help="全县（也可写 county 或县名）或乡镇名称，如 岩头镇"),
    print_: bool = typer.Option(
        True, "--print/--no-print", help="在终端打印周报（默认）；--no-print 须与 --chart 同用"
    ),
    chart: Path | None = typer.Option(
        None,
        "--chart",
        help="同时把达标率图表保存为 PNG（全县按乡镇，乡镇按村）",
        callback=suffix_check(".png", "图表只能保存为 PNG 文件", "图表"),
    ),
    push: bool = typer.Option(
        False, "--push", help="同时把周报（文字和图表）推送到该范围已登记的工作群（钉钉、企业微信），立即发送"
    ),
) -> None:
    """生成一个范围（全县或某乡镇）的周报：达标率与80%/70%目标、乡镇排名、检查、投诉、逾期整改。"""
    if not print_ and chart is None:
        # Neither printed nor charted, the command would do nothing and say nothing.
        raise typer.BadParameter(
            "--no-print 不打印周报，又没有用 --chart 保存图表，命令将什么也不做："
            "请去掉 --no-print，或加上 --chart 图表.png。",
            ctx,
        )
    result, clock = _load(scope)
    texts, knowledge = Texts.load(), shipped_knowledge()
    if print_:
        for part in split_message(digest_text(result, texts, industry_names(knowledge), clock.tz)):
            typer.echo(part)
    if chart is not None:
        chart_png(result, texts, chart)
        console.print(f"图表已保存到 {chart}")
    if push:
        from bot.commands.groups import push_digest  # the robots' HTTP client, only when pushing

        push_digest(scope)


def export_report(out: Path = xlsx_out("report.xlsx")) -> None:
    """导出全县数据报表（汇总、各乡镇达标情况、各行业达标情况）。"""
    result, clock = _load("county")
    names = industry_names(shipped_knowledge())
    targets = result.targets
    book = Book()
    summary = book.sheet("汇总", ("项目", "数值"), {"项目": 24, "数值": MOMENT_WIDTH})
    with progress() as bar:
        task = bar.add_task("导出数据报表", total=len(result.townships) + len(result.industries))
        for label, value in (
            ("统计截止", result.end.astimezone(clock.tz).replace(tzinfo=None)),
            ("登记单位", result.units),
            ("规范达标", result.status_counts.get(UnitStatus.COMPLIANT, 0)),
            ("整改中", result.status_counts.get(UnitStatus.RECTIFYING, 0)),
            ("未检查", result.status_counts.get(UnitStatus.UNCHECKED, 0)),
            ("待关停", result.pending_closure),
            ("已关停（含已取缔）", result.closed),
            (RATE_LABEL, Percent(result.share.rate)),
            ("基本完成的乡镇", f"{result.townships_complete.part}/{result.townships_complete.whole}"),
            (
                f"乡镇目标（{targets.county_township_share}%）",
                "达到" if result.townships_complete.reaches(targets.county_township_share) else "未达到",
            ),
            ("近7天检查", result.inspections_this_week),
            ("前7天检查", result.inspections_last_week),
            ("近7天新收投诉", result.complaints_opened),
            ("近7天办结投诉", result.complaints_closed),
            ("超期未办结投诉", result.complaints_overdue),
            ("逾期未整改单位", result.overdue_rectifications),
        ):
            summary.append([label, value])
        if result.sample_units:  # invented units are never taken for the county's own
            summary.append(["其中示例单位（名称带“（示例）”）", result.sample_units])
        townships = book.sheet(
            "各乡镇达标情况",
            (
                "排名",
                "乡镇",
                "登记单位",
                "达标",
                "待关停",
                "已关停",
                "计入基数",
                "达标率",
                f"基本完成（≥{targets.township_unit_share}%）",
            ),
        )
        for rank, line in enumerate(result.townships, start=1):
            townships.append(
                [
                    rank,
                    line.name,
                    line.units,
                    line.share.part,
                    line.pending_closure,
                    line.closed,
                    line.share.whole,
                    Percent(line.share.rate),
                    "是" if line.complete else "否",
                ]
            )
            bar.advance(task)
        industries = book.sheet(
            "各行业达标情况",
            ("行业", "达标", "待关停", "已关停", "计入基数", "达标率", f"达到{targets.industry_unit_share}%"),
        )
        for industry in result.industries:
            industries.append(
                [
                    names.get(industry.slug, industry.slug),
                    industry.share.part,
                    industry.pending_closure,
                    industry.closed,
                    industry.share.whole,
                    Percent(industry.share.rate),
                    "是" if industry.meets_target else "否",
                ]
            )
            bar.advance(task)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    console.print(f"数据报表已导出到 {out}")


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
    export_group(app).command("report")(export_report)
