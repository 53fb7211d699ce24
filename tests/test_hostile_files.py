"""Hostile files a user might be handed and load: bounded memory, a Chinese error naming the cap, nothing written.

Each file is generated here, small on disk (tens to hundreds of KB), standing for gigabytes once unpacked or
expanded. The commands run in a child process with its address space capped (so a regression fails with an error
instead of taking the machine's memory) and report their peak resident memory.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from knowledge.yaml_errors import YamlFileError, read_yaml_file
from knowledge.yaml_text import parse_yaml

PEAK_MB = 300  # a fresh `shixiao` process that has read a small register peaks near 90 MB
ADDRESS_SPACE = 3 << 30  # a regression dies with MemoryError here rather than swapping the machine
MIB = 1 << 20
MAX_CELL_CHARS, MAX_ROWS = 32_767, 50_000  # storage/sheet_files.py's caps, as the messages name them
# The peak of this program's own memory: VmHWM belongs to the image exec started, whereas ru_maxrss also counts the
# forked copy of the (large) test process the child began as.
RUN = """
import resource, sys
from bot.cli import app
try:
    app(sys.argv[1:], prog_name="shixiao")
    code = 0
except SystemExit as exit:
    code = exit.code
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"PEAK_KB={peak}", file=sys.stderr)
sys.exit(code)
"""


def shixiao(tmp_path: Path, *args: str) -> tuple[int, str, float]:
    """(exit code, stdout + stderr, peak resident MB) of a `shixiao` command in a child process."""
    env = {
        **os.environ,
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hostile.db'}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
        "COLUMNS": "250",
    }

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=cap,
        cwd=Path(__file__).parent.parent,
    )
    peak = next(int(line.split("=")[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB="))
    return done.returncode, (done.stdout + done.stderr).replace("\n", ""), peak / 1024


def register_with_sheet(path: Path, write_rows) -> Path:
    """A real xlsx (openpyxl's, with the register's header) whose sheet rows are written by `write_rows(file)`,
    streamed into the zip so that hundreds of MB of XML never sit in the test's memory."""
    book = Workbook()
    book.active.append(["单位名称", "行业", "乡镇", "村"])
    plain = path.with_name("plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with target.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                write_rows(sheet)
                sheet.write(b"</sheetData>" + tail)
    return path


def one_huge_cell(size: int):
    def write(sheet) -> None:
        sheet.write(b'<row r="2"><c r="A2" t="inlineStr"><is><t>')
        chunk = "大".encode() * (MIB // 3)
        for _ in range(size // len(chunk)):
            sheet.write(chunk)
        sheet.write(b'</t></is></c><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>')

    return write


def many_rows(count: int, first: int = 2):
    def write(sheet) -> None:
        row = (
            '<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>店{n}</t></is></c>'
            '<c r="B{n}" t="inlineStr"><is><t>小餐饮店</t></is></c>'
            '<c r="C{n}" t="inlineStr"><is><t>岩头镇</t></is></c>'
            '<c r="D{n}" t="inlineStr"><is><t>芙蓉村</t></is></c></row>'
        )
        for start in range(first, first + count, 10_000):
            sheet.write("".join(row.format(n=n) for n in range(start, min(start + 10_000, first + count))).encode())

    return write


def assert_nothing_imported(tmp_path: Path) -> None:
    code, out, _ = shixiao(tmp_path, "export", "units", "--out", str(tmp_path / "after.xlsx"))
    assert code == 0 and "已导出 0 家单位" in out, out


@pytest.mark.slow
def test_one_huge_cell_is_refused_before_it_is_unpacked(tmp_path):
    # 300 MB of text in one cell, under 1 MB on disk (the 4.2 GB case was 2 GB in 2 MB)
    path = register_with_sheet(tmp_path / "huge.xlsx", one_huge_cell(300 * MIB))
    assert path.stat().st_size < MIB
    code, out, peak = shixiao(tmp_path, "units", "import", str(path))
    assert code == 1 and "“huge.xlsx”解压后有 300.0 MB，超过上限 48 MB" in out, out
    assert "Traceback" not in out and peak < PEAK_MB, peak
    assert_nothing_imported(tmp_path)


def identical_rows(count: int):
    row = (
        '<row><c t="inlineStr"><is><t>老王小吃店</t></is></c><c t="inlineStr"><is><t>小餐饮店</t></is></c>'
        '<c t="inlineStr"><is><t>岩头镇</t></is></c><c t="inlineStr"><is><t>芙蓉村</t></is></c></row>'
    ).encode()

    def write(sheet) -> None:
        for _ in range(count // 10_000):
            sheet.write(row * 10_000)

    return write


@pytest.mark.slow
def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    # 1.5 million rows, 290 MB of XML, 1.2 MB on disk
    path = register_with_sheet(tmp_path / "bomb.xlsx", identical_rows(1_500_000))
    assert path.stat().st_size < 2 * MIB
    code, out, peak = shixiao(tmp_path, "units", "import", str(path))
    assert code == 1 and "超过上限 48 MB（可能是恶意构造的压缩文件，或表格过大）" in out, out
    assert peak < PEAK_MB, peak


@pytest.mark.slow
def test_a_cell_longer_than_excel_allows_is_refused_with_its_place(tmp_path):
    path = register_with_sheet(tmp_path / "long.xlsx", one_huge_cell(MAX_CELL_CHARS * 3 + 3 * (MIB // 3)))
    code, out, peak = shixiao(tmp_path, "units", "import", str(path))
    assert code == 1 and "“long.xlsx”第2行A列的单元格有" in out and "超过 Excel 单元格的上限 32,767 个字" in out, out
    assert peak < PEAK_MB, peak


@pytest.mark.slow
def test_too_many_rows_are_refused_and_nothing_is_written(tmp_path):
    path = register_with_sheet(tmp_path / "rows.xlsx", many_rows(MAX_ROWS + 1))
    code, out, peak = shixiao(tmp_path, "units", "import", str(path))
    assert code == 1 and "“rows.xlsx”超过 50,000 行（不含表头，一次最多 50,000 行）：请分成几个文件分别导入" in out, out
    assert peak < PEAK_MB, peak
    assert_nothing_imported(tmp_path)


@pytest.mark.slow
def test_a_file_of_many_parts_or_a_huge_shared_strings_part_is_refused(tmp_path):
    parts = register_with_sheet(tmp_path / "parts.xlsx", many_rows(1))
    with zipfile.ZipFile(parts, "a") as archive:
        for n in range(1001):
            archive.writestr(f"xl/media/{n}.bin", b"")
    code, out, _ = shixiao(tmp_path, "units", "import", str(parts))
    assert code == 1 and "内部有 1,010 个文件，超过上限 1,000 个" in out, out
    # shared strings (which openpyxl parses whole) placed among the worksheets, where the larger cap applies
    strings = with_shared_strings(
        register_with_sheet(tmp_path / "plain-strings.xlsx", many_rows(1)),
        tmp_path / "strings.xlsx",
        "xl/worksheets/strings.xml",
    )
    code, out, peak = shixiao(tmp_path, "units", "import", str(strings))
    assert code == 1 and "“xl/worksheets/strings.xml”解压后有 42.8 MB，超过上限 16 MB" in out, out
    assert peak < PEAK_MB, peak


def with_shared_strings(source: Path, path: Path, part: str) -> Path:
    """`source` with two million shared strings at `part`, declared in the manifest and the workbook's
    relationships as openpyxl looks them up."""
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>", f'<Override PartName="/{part}" ContentType="{kind}"/></Types>'.encode()
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdS" Type="{relation}" Target="/{part}"/></Relationships>'.encode(),
                )
            target.writestr(item, data)
        with target.open(part, "w", force_zip64=True) as strings:
            strings.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for n in range(0, 2_000_000, 10_000):
                strings.write("".join(f"<si><t>{i}</t></si>" for i in range(n, n + 10_000)).encode())
            strings.write(b"</sst>")
    return path


def billion_villages(levels: int = 9) -> str:
    """The classic: each level an alias list of ten of the level below; 45 KB would stand for 10^9 villages."""
    lines = ['l0: &l0 ["村"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]")
    return "\n".join(lines) + f"\ncounty: 永嘉县\ntownships:\n  - name: 岩头镇\n    villages: *l{levels - 1}\n"


@pytest.mark.slow
def test_yaml_aliases_are_refused_by_every_loader(tmp_path):
    bomb = tmp_path / "areas.yaml"
    bomb.write_text(billion_villages(), encoding="utf-8")
    code, out, peak = shixiao(tmp_path, "areas", "load", str(bomb))
    assert code == 1 and "第1行第5列：不能使用 YAML 锚点（&）" in out, out
    assert peak < PEAK_MB, peak
    plan = tmp_path / "plan.yaml"
    plan.write_text("phases: &p []\nmilestones: *p\n", encoding="utf-8")
    code, out, _ = shixiao(tmp_path, "plan", "load", str(plan))
    assert code == 1 and "不能使用 YAML 锚点（&）" in out, out
    questions = tmp_path / "questions.yaml"
    questions.write_text("- {q: 营业执照要挂在哪里, expect: x}\n- *first\n", encoding="utf-8")
    code, out, _ = shixiao(tmp_path, "kb", "eval", str(questions))
    assert code == 1 and "第2行第3列：值不能以“*”开头：数据文件不能使用 YAML 别名（*）" in out, out
    # the knowledge files and the texts go through the same two functions
    knowledge = tmp_path / "general.yaml"
    knowledge.write_text("entries:\n  - &e {id: a}\n  - *e\n", encoding="utf-8")
    with pytest.raises(YamlFileError, match="第2行第5列：不能使用 YAML 锚点"):
        read_yaml_file(knowledge)
    with pytest.raises(Exception, match="found an alias"):
        parse_yaml("greeting: *hello\n")
    # a & or * inside a quoted text is text
    assert parse_yaml('note: "R&D * 2"\n') == {"note": "R&D * 2"}


@pytest.mark.slow
def test_a_plain_yaml_file_of_a_million_villages_or_a_huge_file_is_refused(tmp_path):
    many = tmp_path / "many.yaml"
    many.write_text(
        "county: 永嘉县\ntownships:\n  - name: 岩头镇\n    villages: ["
        + ", ".join(f"村{n}" for n in range(300_000))
        + "]\n",
        encoding="utf-8",
    )
    code, out, _ = shixiao(tmp_path, "areas", "load", str(many))
    assert code == 1 and "文件过大（" in out and "MB，上限 2 MB）：请检查是否选错了文件" in out, out
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(
        "county: 永嘉县\ntownships:\n  - name: 岩头镇\n    villages: ["
        + ", ".join(f"村{n}" for n in range(10_000))
        + "]\n",
        encoding="utf-8",
    )
    code, out, _ = shixiao(tmp_path, "areas", "load", str(fewer))
    assert code == 1 and "乡镇和村（社区）超过 10,000 个" in out, out
    code, out, _ = shixiao(tmp_path, "areas", "list")
    assert "村9999" not in out
