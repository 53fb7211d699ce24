"""`shixiao units import` and `shixiao export units|inspections`: the register and reports as Excel."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import typer
from rich.table import Table

from bot.app import load_sample_if_empty, open_database
from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, export_group, fail, load_settings, progress, run_async, xlsx_out
from bot.unit_import import ImportFileError, ParsedFile, RowProblem, industry_lookup, parse_file
from bot.xlsx_exports import write_inspections, write_units
from handlers.assembly import shipped_knowledge
from storage.areas import AmbiguousArea, AreaNotFound, find_area
from storage.clock import SystemClock
from storage.models import AreaLevel
from storage.units import upsert_unit


class _NothingImported(Exception):
    """Raised inside the transaction to roll back every row (--all-or-nothing with problems)."""


units_app = ChineseTyper(help="监管档案：导入“十小”单位名册。", no_args_is_help=True)


def _problem_table(problems: list[RowProblem]) -> Table:
    table = Table("行号", "列", "问题", title="有问题的行")
    for problem in problems[:200]:
        table.add_row(str(problem.row), problem.column, problem.reason)
    if len(problems) > 200:
        table.add_row("…", "…", f"另有{len(problems) - 200}处问题未列出")
    return table


@units_app.command("import")
def import_units(
    file: Path = typer.Argument(
        ...,
        help="单位名册 xlsx，列：单位名称、行业、乡镇、村（必填），地址、经营者、联系电话、证照编号、状态、分类、示范点",
    ),
    all_or_nothing: bool = typer.Option(False, "--all-or-nothing", help="有任何一行出错就全部不导入"),
) -> None:
    """导入单位名册：逐行校验并列出出错的行；同一村的同名单位再次导入时更新而不重复。"""
    settings = load_settings()
    try:
        parsed = parse_file(file, industry_lookup(shipped_knowledge().checklists))
    except ImportFileError as error:
        fail(str(error))

    async def go() -> tuple[int, int, list[RowProblem]]:
        db = await open_database(settings)
        clock = SystemClock(settings.tz)
        await load_sample_if_empty(db, clock)
        created = updated = 0
        problems = list(parsed.problems)
        try:
            try:
                async with db.transaction() as session:
                    with progress() as bar:
                        task = bar.add_task("导入单位", total=len(parsed.rows))
                        for row in parsed.rows:
                            bar.advance(task)
                            try:
                                village = await find_area(session, f"{row.township}/{row.village}", AreaLevel.VILLAGE)
                            except (AreaNotFound, AmbiguousArea):
                                problems.append(RowProblem(row.row, "村", f"找不到“{row.township}{row.village}”"))
                                continue
                            if all_or_nothing and problems:
                                continue  # keep checking every row, write nothing
                            _, new = await upsert_unit(session, village, row.fields, clock.now())
                            created, updated = created + new, updated + (not new)
                    if all_or_nothing and problems:
                        raise _NothingImported
            except _NothingImported:
                created = updated = 0
        finally:
            await db.dispose()
        return created, updated, sorted(problems, key=lambda p: p.row)

    created, updated, problems = run_async(go())
    _report(parsed, created, updated, problems, all_or_nothing)


def _report(parsed: ParsedFile, created: int, updated: int, problems: list[RowProblem], strict: bool) -> None:
    if problems:
        console.print(_problem_table(problems))
    bad_rows = len({problem.row for problem in problems})
    console.print(f"共读取 {parsed.total} 行：新增 {created} 家，更新 {updated} 家，有问题 {bad_rows} 行。")
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
                return await write_units(db, out, bar, shipped_knowledge())
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


def register(app: typer.Typer) -> None:
    app.add_typer(units_app, name="units")
    group = export_group(app)
    group.command("units")(export_units)
    group.command("inspections")(export_inspections)
