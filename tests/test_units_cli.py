"""`shixiao units import` and the register/inspection exports, on real xlsx files."""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()
HEADER = [
    "单位名称",
    "行业",
    "乡镇",
    "村",
    "地址",
    "经营者",
    "联系电话",
    "证照编号",
    "状态",
    "分类",
    "示范点",
    "纬度",
    "经度",
]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'units.db'}", "SHIXIAO_TELEGRAM_TOKEN": ""}


def workbook(path, rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def invoke(args, env):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


GOOD = [
    [
        "老王小吃店",
        "小餐饮店",
        "岩头镇",
        "芙蓉村",
        "芙蓉村12号",
        "王大",
        "13800001111",
        "JY123",
        "整改中",
        "整改规范类",
        "否",
    ],
    ["芙蓉便民超市", "小食杂店", "岩头镇", "芙蓉村", None, None, None, None, None, None, "是"],
    ["桥下网吧", "网吧", "桥下镇", "桥下村", None, None, None, None, None, None, None],
]


def test_import_then_reimport_updates_and_export_round_trips(env, tmp_path):
    source = workbook(tmp_path / "units.xlsx", GOOD)
    first = invoke(["units", "import", str(source)], env)
    assert first.exit_code == 0, first.output
    assert "新增 3 家，更新 0 家，有问题 0 行" in first.output
    changed = [list(GOOD[0]), *GOOD[1:]]
    changed[0][4] = "芙蓉村88号"
    second = invoke(["units", "import", str(workbook(tmp_path / "again.xlsx", changed))], env)
    assert "新增 0 家，更新 3 家" in second.output
    out = tmp_path / "export.xlsx"
    exported = invoke(["export", "units", "--out", str(out)], env)
    assert exported.exit_code == 0 and "已导出 3 家单位" in exported.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[1][:5] == ("老王小吃店", "小餐饮店", "岩头镇", "芙蓉村", "芙蓉村88号")
    assert rows[1][8:] == ("整改中", "整改规范类", "否", None, None) and rows[3][1] == "小网吧"
    third = invoke(["units", "import", str(out)], env)  # the export is a valid import file
    assert "新增 0 家，更新 3 家，有问题 0 行" in third.output


def test_a_units_registered_location_is_imported_checked_and_exported(env, tmp_path):
    placed = [[*GOOD[0], 28.1512, "120.6901"], [*GOOD[1], None, None]]
    bad = [
        ["甲店", "小餐饮店", "岩头镇", "芙蓉村", *[None] * 7, 95, 120],
        ["乙店", "小餐饮店", "岩头镇", "芙蓉村", *[None] * 7, 28.1, None],
        ["丙店", "小餐饮店", "岩头镇", "芙蓉村", *[None] * 7, "北纬28度", 120],
    ]
    result = invoke(["units", "import", str(workbook(tmp_path / "placed.xlsx", placed + bad))], env)
    assert "新增 2 家，更新 0 家，有问题 3 行" in result.output, result.output
    for expected in ("应在 -90 到 90 之间", "纬度和经度要么都填，要么都不填", "北纬28度"):
        assert expected in result.output, expected
    out = tmp_path / "export.xlsx"
    invoke(["export", "units", "--out", str(out)], env)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][11:] == (28.1512, 120.6901) and rows[2][11:] == (None, None)


def test_a_date_cell_is_imported_as_the_date(env, tmp_path):
    # Excel turns a typed 2026-12-09 into a date cell; it must not come back as "2026-12-09 00:00:00".
    row = [*GOOD[0][:7], datetime(2026, 12, 9), *GOOD[0][8:]]
    result = invoke(["units", "import", str(workbook(tmp_path / "dated.xlsx", [row]))], env)
    assert result.exit_code == 0 and "新增 1 家" in result.output, result.output
    out = tmp_path / "export.xlsx"
    invoke(["export", "units", "--out", str(out)], env)
    assert list(load_workbook(out).active.iter_rows(values_only=True))[1][7] == "2026-12-09"


def test_broken_rows_are_reported_and_good_rows_imported(env, tmp_path):
    rows = [
        GOOD[0],
        [None, "小餐饮店", "岩头镇", "芙蓉村"],
        ["某店", "火箭发射", "岩头镇", "芙蓉村"],
        ["某店2", "小餐饮店", "岩头镇", "不存在村"],
        ["某店3", "小餐饮店", "岩头镇", "芙蓉村", None, None, "电话号码", None, "半达标"],
        [None, None, None, None],
        ["老王小吃店", "小餐饮店", "岩头镇", "芙蓉村"],
        ["长店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, None, None, "也许"],
    ]
    result = invoke(["units", "import", str(workbook(tmp_path / "bad.xlsx", rows))], env)
    assert result.exit_code == 1
    out = result.output
    assert "新增 1 家，更新 0 家，有问题 6 行" in out
    for expected in (
        "单位名称",
        "不能为空",
        "未知行业",
        "找不到“岩头镇不存在村”",
        "号码格式不对",
        "规范达标",
        "与第2行重复",
        "应填“是”或“否”",
    ):
        assert expected in out, expected
    assert "Traceback" not in out


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(env, tmp_path):
    rows = [GOOD[0], ["某店2", "小餐饮店", "岩头镇", "不存在村"]]
    result = invoke(["units", "import", "--all-or-nothing", str(workbook(tmp_path / "x.xlsx", rows))], env)
    assert result.exit_code == 1 and "没有导入任何数据" in result.output
    out = tmp_path / "empty.xlsx"
    invoke(["export", "units", "--out", str(out)], env)
    assert len(list(load_workbook(out).active.iter_rows())) == 1


def damaged(path, rows=GOOD, header=HEADER):
    """A real register whose sheet is cut in half: openpyxl opens it and fails only part-way through the rows."""
    import zipfile

    whole = workbook(path.with_name("whole.xlsx"), rows * 50, header)
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    return path


def written(path, content):
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "broken.xlsx",
            lambda p: written(p, b"not a spreadsheet"),
            "无法打开“broken.xlsx”：文件已损坏，或不是 Excel（.xlsx）文件",
        ),
        ("empty.xlsx", lambda p: written(p, b""), "无法打开“empty.xlsx”"),
        ("damaged.xlsx", damaged, "“damaged.xlsx”的内容已损坏，读到一半无法继续：请在 Excel 中打开，“另存为”"),
        (
            "units.csv",
            lambda p: written(p, "单位名称,行业\n".encode()),
            "“units.csv”是 CSV 文件：请在 Excel 中打开，“另存为”",
        ),
        ("units.xls", lambda p: written(p, b"\xd0\xcf\x11\xe0" + bytes(600)), "“units.xls”是旧版 Excel（.xls）文件"),
        ("folder.xlsx", lambda p: p.mkdir() or p, "“folder.xlsx”是文件夹，不是 Excel 文件"),
        ("columns.xlsx", lambda p: workbook(p, [["店", "村"]], header=["单位名称", "村"]), "缺少必需的列：行业、乡镇"),
    ],
)
def test_a_broken_file_is_refused_clearly_and_imports_nothing(env, tmp_path, name, make, message):
    result = invoke(["units", "import", str(make(tmp_path / name))], env)
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output and "Error" not in result.output and "Exception" not in result.output
    out = tmp_path / "after.xlsx"
    invoke(["export", "units", "--out", str(out)], env)
    assert len(list(load_workbook(out).active.iter_rows())) == 1  # the header alone: nothing was imported


async def seed_inspection(url: str) -> None:
    from datetime import UTC, date, datetime

    from storage.db import Database
    from storage.inspections import Report, submit
    from storage.models import Role, User

    db = Database(url)
    async with db.transaction() as session:
        now = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
        user = User(channel_user_id=9, role=Role.CADRE, name="李建国", created_at=now, last_seen_at=now)
        session.add(user)
        await session.flush()
        report = Report(
            unit_id=1,
            submit_key="k1",
            industry="small_restaurant",
            # not in checklist order, and with an item since retired from the checklist
            answers={"common.display": "fail", "common.retired_item": "na", "common.business_licence": "pass"},
            notes={"common.display": "未亮照"},
            proposed_compliant=False,
            compliant=False,
            unit_class="rectify",
            rectify_by=date(2026, 5, 13),
            photos=[{"file_id": "PHOTO-A"}, {"file_id": "PHOTO-B"}],
        )
        await submit(session, report, user.id, now)
    await db.dispose()


def test_export_inspections_filters_and_bad_options(env, tmp_path):
    import asyncio

    out = tmp_path / "inspections.xlsx"
    invoke(["units", "import", str(workbook(tmp_path / "units.xlsx", GOOD))], env)
    asyncio.run(seed_inspection(env["SHIXIAO_DATABASE_URL"]))
    result = invoke(["export", "inspections", "--out", str(out), "--from", "2026-13-01"], env)
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output
    result = invoke(["export", "inspections", "--out", str(out), "--area", "火星村"], env)
    assert result.exit_code == 1 and "找不到区域" in result.output
    result = invoke(
        ["export", "inspections", "--out", str(out), "--from", "2026-01-01", "--to", "2026-12-31", "--area", "岩头镇"],
        env,
    )
    assert result.exit_code == 0 and "已导出 1 份检查报告" in result.output
    book = load_workbook(out)
    assert book.sheetnames == ["检查报告", "检查项结果", "业主整改", "关停核实"]
    reports = list(book["检查报告"].iter_rows(values_only=True))
    assert reports[0][0] == "报告编号"
    assert reports[1][:8] == (
        "JC000001",
        "老王小吃店",
        "小餐饮店",
        "岩头镇",
        "芙蓉村",
        "李建国",
        datetime(2026, 5, 6, 9, 0),
        "不达标",
    )
    # real date cells in Chinese formats, so the columns sort and filter as dates, wide enough not to show #####
    submitted, deadline = book["检查报告"]["G2"], book["检查报告"]["L2"]
    assert (submitted.value, submitted.number_format) == (datetime(2026, 5, 6, 9, 0), 'yyyy"年"m"月"d"日" hh:mm')
    assert (deadline.value, deadline.number_format) == (datetime(2026, 5, 13), 'yyyy"年"m"月"d"日"')
    assert book["检查报告"].column_dimensions["L"].width >= 15
    assert reports[1][15:17] == (2, "待保存|待保存")  # not downloaded yet: no path in the media store
    items = list(book["检查项结果"].iter_rows(values_only=True))
    # officials see the item's number in the industry's checklist and its Chinese text, never an internal id
    assert items == [
        ("报告编号", "检查表序号", "检查项", "结果", "说明"),
        ("JC000001", 1, "持有有效的营业执照", "符合", None),
        # common.display, since replaced in this industry by its own item 18 (rest.publicity): read as it was asked
        ("JC000001", 18, "营业执照和各类许可证在经营场所醒目位置悬挂（亮证亮照）（已并入第18项）", "不符合", "未亮照"),
        ("JC000001", None, "（此项已从检查表中删除，内部编号 common.retired_item）", "不适用", None),
    ]
    for area, expected in (("桥下镇", 0), ("芙蓉村", 1)):
        invoke(["export", "inspections", "--out", str(out), "--area", area], env)
        assert len(list(load_workbook(out)["检查报告"].iter_rows())) == 1 + expected
    invoke(["export", "inspections", "--out", str(out), "--from", "2026-05-07"], env)
    assert len(list(load_workbook(out)["检查报告"].iter_rows())) == 1
