"""A newcomer's first hour: a fresh start shows the sample register in the first /report; the sample register is
data checked at load, marked in every digest and export, kept out of a real county and removable; scheduled jobs
can be listed and run now; README's tables render."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import shipped_knowledge
from handlers.sample_register import SAMPLE_REGISTER, SampleRegisterError, parse_sample_register
from storage.areas import CountySpec, TownshipSpec, find_area, load_county
from storage.digest import compute_digest
from storage.inspection_models import UnitClass
from storage.sample_register import (
    SAMPLE_MARK,
    count_sample_units,
    load_sample_register,
    remove_sample_register,
    sample_office_serves,
)

REPO = Path(__file__).resolve().parent.parent
NOW = datetime.fromisoformat("2026-12-07T10:00:00+08:00")


def shixiao(args: list[str], tmp_path: Path, stdin: str = "", db: str = "fresh.db") -> subprocess.CompletedProcess[str]:
    """The command as `scripts/start` runs it (`shixiao chat`): a real process in a folder of its own."""
    env = {
        **os.environ,
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / db}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
        "PYTHONPATH": str(REPO),
    }
    env.pop("SHIXIAO_SAMPLE_REGISTER", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )


def test_a_fresh_start_shows_the_sample_register_in_the_first_report(tmp_path):
    result = shixiao(["chat"], tmp_path, "/report\n/quit\n")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "您以“示例县整规办”（用户 0）的身份进入" in out
    assert "shixiao jobs run 名称" in out  # how to trigger a scheduled job now
    report = out[out.index("【十小通周报】永嘉县") :]
    assert "（含示例数据：其中 61 家是示例单位" in report
    assert "登记单位 61 家：规范达标 37、整改中 12、未检查 9、待关停 3" in report
    assert "1. 岩头镇 84.6%（11/13）✓ 基本完成" in report
    assert "小诊所 100.0%（5/5）✓" in report
    chart = re.search(r"\[附件\] (data/charts/\S+\.png)", report)
    assert chart and (tmp_path / chart.group(1)).stat().st_size > 5000
    assert "（含示例数据）" in report  # the chart's caption
    assert "Traceback" not in out + result.stderr

    # Exports carry the mark on every sample unit and report; the county report counts them apart.
    for what in ("units", "inspections", "report"):
        done = shixiao(["export", what, "--out", f"{what}.xlsx"], tmp_path)
        assert done.returncode == 0, done.stderr
    units = openpyxl.load_workbook(tmp_path / "units.xlsx").worksheets[0]
    names = [row[0] for row in units.iter_rows(min_row=2, values_only=True) if row[0]]
    assert len(names) == 61 and all(name.endswith(SAMPLE_MARK) for name in names)
    reports = openpyxl.load_workbook(tmp_path / "inspections.xlsx").worksheets[0]
    rows = [row for row in reports.iter_rows(min_row=2, values_only=True) if row[0]]
    assert len(rows) == 52 and all(any(SAMPLE_MARK in str(cell) for cell in row) for row in rows)
    summary = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(tmp_path / "report.xlsx")["汇总"].iter_rows(min_row=2, values_only=True)
    }
    assert summary["登记单位"] == 61 and summary["其中示例单位（名称带“（示例）”）"] == 61

    # A scheduled job run now goes through the scheduler's function; its digest waits for the office's next chat.
    ran = shixiao(["jobs", "run", "weekly-digest"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "已执行定时任务 weekly-digest" in ran.stdout
    later = shixiao(["chat"], tmp_path, "/quit\n")
    assert later.stdout.count("【十小通周报】永嘉县") == 1, later.stdout

    # Removing the sample register leaves an empty register, no note, and the chat as a new person.
    removed = shixiao(["units", "remove-sample", "--yes"], tmp_path)
    assert "已删除示例单位 61 家、检查报告 52 份；“示例县整规办”已撤销为居民" in removed.stdout, removed.stderr
    digest = shixiao(["digest", "--scope", "全县"], tmp_path)
    assert "登记单位 0 家" in digest.stdout and "示例" not in digest.stdout, digest.stderr
    after = shixiao(["chat"], tmp_path, "/quit\n")
    assert "示例县整规办" not in after.stdout and "十小通本地对话（用户 1）" in after.stdout
    again = shixiao(["units", "remove-sample", "--yes"], tmp_path)
    assert "数据库中没有示例名册" in again.stdout


def test_a_real_county_never_gets_the_sample_register(tmp_path):
    (tmp_path / "county.yaml").write_text(
        "county: 平阳县\ntownships:\n  - name: 昆阳镇\n    villages: [城西村]\n", encoding="utf-8"
    )
    loaded = shixiao(["areas", "load", "county.yaml"], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    chat = shixiao(["chat"], tmp_path, "/quit\n")
    assert "示例县整规办" not in chat.stdout and "十小通本地对话（用户 1）" in chat.stdout
    units = shixiao(["export", "units", "--out", "units.xlsx"], tmp_path)
    assert "已导出 0 家单位" in units.stdout, units.stderr


async def test_the_sample_register_loads_and_leaves_on_both_databases(db, clock):
    county = parse_area_file(SAMPLE_COUNTY)  # conftest's county: the sample county, marked sample
    register = parse_sample_register(county, shipped_knowledge(), date(2026, 12, 7), NOW)
    async with db.transaction() as session:
        await load_county(session, CountySpec("平阳县", [TownshipSpec("昆阳镇", ["城西村"])]), NOW)
        with pytest.raises(ValueError, match="sample county only"):
            await load_sample_register(session, "平阳县", register.units, NOW)
    async with db.transaction() as session:
        loaded = await load_sample_register(session, register.county, register.units, NOW)
    assert (loaded.units, loaded.inspections) == (61, 52)
    async with db.transaction() as session:
        yantou = await find_area(session, "岩头镇")
        digest = await compute_digest(session, yantou, NOW)
        assert (digest.units, digest.sample_units) == (13, 13)
        assert await count_sample_units(session) == 61
        assert await sample_office_serves(session)
    async with db.transaction() as session:
        removed = await remove_sample_register(session)
    assert (removed.units, removed.inspections, removed.office_revoked) == (61, 52, True)
    async with db.transaction() as session:
        assert await count_sample_units(session) == 0
        assert (await compute_digest(session, await find_area(session, "岩头镇"), NOW)).units == 0
        assert not await sample_office_serves(session)


def test_the_sample_register_covers_the_ten_industries_and_several_villages():
    knowledge = shipped_knowledge()
    register = parse_sample_register(parse_area_file(SAMPLE_COUNTY), knowledge, date(2026, 12, 7), NOW)
    assert 55 <= len(register.units) <= 65
    assert {unit.industry for unit in register.units} == set(knowledge.checklists)
    assert len({unit.township for unit in register.units}) >= 5
    assert len({(unit.township, unit.village) for unit in register.units}) >= 25
    classes = [unit.inspection.unit_class for unit in register.units if unit.inspection]
    assert {UnitClass.UPGRADE, UnitClass.RECTIFY, UnitClass.SHUTDOWN} == set(classes)
    assert len(classes) < len(register.units)  # some units not inspected yet
    for unit in register.units:
        assert unit.name.endswith(SAMPLE_MARK)
        if unit.inspection is None:
            continue
        answers = unit.inspection.answers
        failed = [item for item, answer in answers.items() if answer == "fail"]
        assert bool(failed) == (unit.inspection.unit_class != UnitClass.UPGRADE), unit.name
        checklist = knowledge.checklists[unit.industry]
        assert set(answers) <= {item.id for item in checklist.items}
        if unit.inspection.unit_class == UnitClass.SHUTDOWN:
            assert any(checklist.item(item).veto for item in failed)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "industry: small_pharmacy, township: 枫林镇",
            "industry: small_bakery, township: 枫林镇",
            "行业“small_bakery”不在行业清单中",
        ),
        ("village: 福田村, operator: 徐晓红", "village: 火星村, operator: 徐晓红", "村“火星村”不在示例县的枫林镇中"),
        (
            "check: {days: 4, result: 达标, review: 已通过}}\n",
            "check: {days: 4, result: 优秀, review: 已通过}}\n",
            "result 应为 达标、整改、关停 之一",
        ),
        # a list is unhashable: it once escaped as a TypeError from the lookup instead of this line's error
        (
            "check: {days: 4, result: 达标, review: 已通过}}\n",
            "check: {days: 4, result: [达标], review: 已通过}}\n",
            "result 应为 达标、整改、关停 之一",
        ),
        ("operator: 徐晓红, address: 福田村中街7号", "operator: 徐晓红, adress: 福田村中街7号", "不认识的字段：adress"),
    ],
)
def test_a_mistake_in_the_sample_register_names_the_line(tmp_path, old, new, message):
    text = SAMPLE_REGISTER.read_text(encoding="utf-8")
    last = text.rindex(old)
    broken = text[:last] + new + text[last + len(old) :]
    line = broken[:last].count("\n") + 1
    path = tmp_path / "sample_register.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(SampleRegisterError) as error:
        parse_sample_register(parse_area_file(SAMPLE_COUNTY), shipped_knowledge(), date(2026, 12, 7), NOW, path)
    assert f"第{line}行" in str(error.value) and message in str(error.value)


def test_jobs_are_listed_in_chinese_and_an_unknown_one_is_explained(tmp_path):
    from scheduler.jobs import job_specs

    listed = shixiao(["jobs", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines() if "\t" in line]
    assert [line[0] for line in lines] == [spec.id for spec in job_specs()]
    when = dict((line[0], line[1]) for line in lines)
    assert (when["weekly-digest"], when["reinspections"]) == ("每周一 08:00", "每天 08:30")
    assert (when["owner-reminders"], when["question-notices"]) == ("每小时第10分", "每分钟")  # no hour: hourly
    assert all(len(line) == 3 and re.search("[\u4e00-\u9fff]", line[2]) for line in lines)
    unknown = shixiao(["jobs", "run", "digest"], tmp_path)
    assert unknown.returncode == 1 and "没有名为“digest”的定时任务" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def table_rows(markdown: str) -> list[list[list[str]]]:
    """The tables of a markdown text as GitHub renders them: a header row, a delimiter row, then body rows up to
    the first line that is not a row. Cells split at pipes that are not escaped (GitHub splits before it reads
    code spans, so a pipe inside `code` must be written \\|)."""
    tables: list[list[list[str]]] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if line.startswith("|") and re.fullmatch(r"\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\|?", following):
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                cells = re.split(r"(?<!\\)\|", lines[index].strip().strip("|"))
                rows.append([cell.strip() for cell in cells])
                index += 1
            tables.append(rows)
        else:
            index += 1
    return tables


def test_every_row_of_the_readme_tables_renders():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tables = table_rows(readme)
    assert len(tables) >= 3
    for rows in tables:
        assert all(len(row) == len(rows[0]) for row in rows), [row for row in rows if len(row) != len(rows[0])]
    in_tables = sum(len(rows) for rows in tables)
    # A row cut off from its table by a paragraph is plain text on GitHub: every `|` line belongs to a table.
    assert in_tables == sum(1 for line in readme.splitlines() if line.strip().startswith("|"))
    commands = next(rows for rows in tables if rows[0] == ["命令", "作用"])
    documented = " ".join(row[0] for row in commands)
    for command in (
        "shixiao digest",
        "shixiao jobs list",
        "shixiao jobs run",
        "shixiao units remove-sample",
        "shixiao chat",
    ):
        assert command in documented


def test_the_table_check_sees_a_broken_row():
    broken = "| a | b |\n|---|---|\n| `x` | y |\n\ntext\n| `p|q` | r |\n"
    assert table_rows(broken) == [[["a", "b"], ["---", "---"], ["`x`", "y"]]]
    assert table_rows("| a | b |\n|---|---|\n| `p|q` | r |\n")[0][2] == ["`p", "q`", "r"]
