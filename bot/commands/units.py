"""`shixiao units import` and `shixiao export units|inspections`: the register and reports as Excel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, export_group, fail, load_settings, progress, run_async, xlsx_out
from bot.db_open import open_database
from bot.register_rows import BATCH_ROWS, Conflict, RegisterRows, Tally, describe
from bot.settings import Settings
from bot.unit_import import ImportFileError, RowProblem, industry_lookup, parse_rows, read_rows
from bot.xlsx_exports import write_inspections, write_units
from knowledge.industry_names import industry_names
from storage.areas import AmbiguousArea, AreaNotFound, find_area
from storage.clock import SystemClock

T = TypeVar("T")
units_app = ChineseTyper(help="监管档案：导入“十小”单位名册；删除示例名册。", no_args_is_help=True)


def _problem_table(problems: list[RowProblem]) -> Table:
    table = Table("行号", "列", "问题", title="有问题的行")
    for problem in problems[:200]:
        table.add_row(str(problem.row), problem.column, problem.reason)
    if len(problems) > 200:
        table.add_row("…", "…", f"另有{len(problems) - 200}处问题未列出")
    return table


def _conflict_table(conflicts: list[Conflict], tz: ZoneInfo) -> Table:
    table = Table("行号", "列", "名册中的值", "保留的值", "依据", title="与检查结果不一致，未导入（其余各列已更新）")
    for conflict in conflicts[:200]:
        table.add_row(
            str(conflict.row), conflict.column, conflict.in_file, conflict.current, describe(conflict.report, tz)
        )
    if len(conflicts) > 200:
        table.add_row("…", "…", "…", "…", f"另有{len(conflicts) - 200}处未列出")
    return table


def _batches(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(rows, size)):
        yield batch


async def _import(file: Path, all_or_nothing: bool, settings: Settings) -> tuple[int, RegisterRows]:
    """Read the whole file once to check it (nothing is written from a file that fails half-way), then write its
    good rows in batches of BATCH_ROWS, each its own transaction. With --all-or-nothing the first pass also
    checks every row against the database, and nothing is written if any row has a problem."""
    from knowledge.shipped import shipped_knowledge  # the whole base: not for `export units` (industry_names)

    knowledge = shipped_knowledge()
    industries = industry_lookup(knowledge.checklists)
    names = {slug: checklist.name for slug, checklist in knowledge.checklists.items()}
    clock = SystemClock(settings.tz)
    db = await open_database(settings)
    try:
        from bot.app import load_sample_if_empty  # the handlers and the scheduler: only when importing a register

        # The sample county as run/chat would load it, but not the sample register: this is the county's own.
        await load_sample_if_empty(db, clock, register=False)
        checker = RegisterRows(names, settings.tz)
        total = good = 0
        with progress() as bar:
            task = bar.add_task("检查文件", total=None)
            for batch in _batches(parse_rows(file, industries), BATCH_ROWS):
                async with db.transaction() as session:
                    for _number, row, problems in batch:
                        total += 1
                        checker.tally.problems.extend(problems)
                        if row is not None:
                            good += 1
                            if all_or_nothing:
                                await checker.apply(session, row, clock.now(), write=False)
                bar.advance(task, len(batch))
            if all_or_nothing and checker.tally.problems:
                return total, checker
            writer = RegisterRows(names, settings.tz)
            task = bar.add_task("导入单位", total=good)
            good_rows = (parsed for _number, parsed, _problems in parse_rows(file, industries) if parsed is not None)
            for chunk in _batches(good_rows, BATCH_ROWS):
                async with db.transaction() as session:
                    for parsed in chunk:
                        await writer.apply(session, parsed, clock.now())
                bar.advance(task, len(chunk))
        writer.tally.problems[:0] = checker.tally.problems
        return total, writer
    finally:
        await db.dispose()


@units_app.command("import")
def import_units(
    file: Path = typer.Argument(
        ...,
        help="单位名册 xlsx，列：单位名称、行业、乡镇、村（必填），地址、经营者、联系电话、证照编号、状态、分类、示范点",
    ),
    all_or_nothing: bool = typer.Option(False, "--all-or-nothing", help="有任何一行出错就全部不导入"),
) -> None:
    """导入单位名册：逐行校验并列出出错的行；同一村的同名单位再次导入时更新而不重复；已有检查报告的单位，状态和分类以检查结果为准。"""
    settings = load_settings()
    try:
        next(read_rows(file), None)  # the file's own problems (missing, not xlsx, over a cap, no header) first
        total, rows = run_async(_import(file, all_or_nothing, settings))
    except ImportFileError as error:
        fail(str(error))
    _report(total, rows.tally, all_or_nothing, settings.tz)


def _report(total: int, tally: Tally, strict: bool, tz: ZoneInfo) -> None:
    problems = sorted(tally.problems, key=lambda p: p.row)
    if problems:
        console.print(_problem_table(problems))
    if tally.conflicts:
        console.print(_conflict_table(tally.conflicts, tz))
    bad_rows = len({problem.row for problem in problems})
    kept = f"，{len(tally.conflicts)} 处状态或分类以检查结果为准未导入" if tally.conflicts else ""
    console.print(f"共读取 {total} 行：新增 {tally.created} 家，更新 {tally.updated} 家，有问题 {bad_rows} 行{kept}。")
    if problems and strict:
        console.print("因使用 --all-or-nothing 且存在问题，本次没有导入任何数据。请修改后重新导入。")
    if problems:
        raise typer.Exit(1)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} 日期格式应为 YYYY-MM-DD，例如 2026-05-01（收到：{value}）")


def export_units(out: Path = xlsx_out("units.xlsx")) -> None:
    """导出全部单位名册（列与导入格式一致，可修改后再导入）。"""
    settings = load_settings()

    async def go() -> int:
        db = await open_database(settings)
        try:
            with progress() as bar:
                return await write_units(db, out, bar, industry_names())
        finally:
            await db.dispose()

    count = run_async(go())
    console.print(f"已导出 {count} 家单位到 {out}")


def export_inspections(
    out: Path = xlsx_out("inspections.xlsx"),
    since: str | None = typer.Option(None, "--from", help="起始日期（含），YYYY-MM-DD"),
    until: str | None = typer.Option(None, "--to", help="截止日期（含），YYYY-MM-DD"),
    area: str | None = typer.Option(None, "--area", help="只导出某个乡镇或村"),
) -> None:
    """导出检查报告：第一张表每份报告一行，第二张表每个检查项一行（含照片引用）。"""
    settings = load_settings()
    first, last = _day(since, "--from"), _day(until, "--to")
    if first and last and first > last:
        fail("--from 不能晚于 --to")
    tz = settings.tz
    start = datetime.combine(first, time.min, tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, tz) if last else None
    from knowledge.shipped import shipped_knowledge

    async def go() -> int:
        db = await open_database(settings)
        try:
            scope = None
            if area:
                async with db.transaction() as session:
                    scope = await find_area(session, area)
            with progress() as bar:
                return await write_inspections(db, out, bar, start, end, scope, shipped_knowledge(), tz)
        finally:
            await db.dispose()

    try:
        count = run_async(go())
    except AreaNotFound:
        fail(f"找不到区域“{area}”。可用 `shixiao areas list` 查看。")
    except AmbiguousArea as error:
        fail(f"区域“{area}”有重名：{'、'.join(error.candidates)}。请写作 乡镇/村。")
    console.print(f"已导出 {count} 份检查报告到 {out}")


@units_app.command("remove-sample")
def remove_sample(yes: bool = typer.Option(False, "--yes", help="不询问，直接删除")) -> None:
    """删除示例名册：名称带“（示例）”的示例单位及其检查报告，并撤销“示例县整规办”（变为居民）。正式使用前运行。"""
    from storage.sample_register import count_sample_units, remove_sample_register

    settings = load_settings()

    async def count() -> int:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                return await count_sample_units(session)
        finally:
            await db.dispose()

    async def remove() -> tuple[int, int, bool]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                removed = await remove_sample_register(session)
            return removed.units, removed.inspections, removed.office_revoked
        finally:
            await db.dispose()

    found = run_async(count())
    if found and not yes and not typer.confirm(f"将删除 {found} 家示例单位及其检查报告，确定吗？"):
        fail("已取消，没有删除任何内容。")
    units, reports, revoked = run_async(remove())
    if not units and not revoked:
        console.print("数据库中没有示例名册，没有删除任何内容。", highlight=False)
        return
    console.print(
        f"已删除示例单位 {units} 家、检查报告 {reports} 份"
        + ("；“示例县整规办”已撤销为居民" if revoked else "")
        + "。示例县的乡镇和村仍保留（载入本县区域：shixiao areas load 文件）。",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(units_app, name="units")
    group = export_group(app)
    group.command("units")(export_units)
    group.command("inspections")(export_inspections)
