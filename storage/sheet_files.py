"""Reading the first sheet of an Excel file an official gave us (unit register, areas), with errors in Chinese.

openpyxl fails in many ways on a file that is not what its name says: BadZipFile, KeyError, InvalidFileException
when opening, and an XML ParseError half-way through a damaged sheet, after the first rows were read. Every one of
them becomes a SheetFileError saying, in Chinese, what to do; a file that fails half-way is reported with the rows
before it untouched by the caller's checks.

A hostile file must not take the machine down: an xlsx is a zip, and a 2 MB file can unpack to gigabytes (one
huge cell, or a zip bomb). So before openpyxl sees it, the file's size on disk, its number of parts and their
declared unpacked sizes are checked against caps (zipfile never unpacks more than a part declares), and while
reading, the rows, the columns and each cell's length are capped. Parts other than worksheets are parsed whole by
openpyxl (shared strings, styles, relationships), so they get a tighter cap than the worksheets, which are streamed;
a part may be larger only when the file's own manifest ([Content_Types].xml, where openpyxl looks up the shared
strings) declares it a worksheet and nothing else, under xl/worksheets/.
"""

from __future__ import annotations

import zipfile
from collections.abc import Generator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

EXCEL_SUFFIXES = (".xlsx", ".xlsm")  # what openpyxl opens (templates aside)
SAVE_AS = "请在 Excel 中打开，“另存为”Excel 工作簿（.xlsx）后再导入"
MIB = 1024 * 1024
MAX_FILE_BYTES = 20 * MIB  # a register of 50,000 units saved by Excel is 2-5 MB
MAX_PARTS = 1000  # files inside the xlsx: a register has about ten
MAX_UNPACKED = 48 * MIB  # all parts together; 50,000 rows as `shixiao export units` writes them: 35 MB
MAX_WHOLE_PART = 16 * MIB  # a part openpyxl parses whole (shared strings, styles): 50,000 rows' strings ~8 MB
MAX_ROWS = 50_000  # rows below the header
MAX_COLUMNS = 64  # columns read; cells to the right of them are ignored
MAX_CELL_CHARS = 32_767  # Excel's own limit: a longer cell was not made by Excel
MANIFEST, MAX_MANIFEST = "[Content_Types].xml", MIB  # a real one lists a few dozen parts in a few KB
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SPLIT = "请分成几个文件分别导入"
NOT_EXCEL = "文件已损坏，或不是 Excel（.xlsx）文件（只改扩展名不能把其他文件变成 .xlsx）"
UNSAFE_XML = (
    "不能安全地读取 Excel 文件：defusedxml 没有安装或被 OPENPYXL_DEFUSEDXML=False 关闭；"
    "请重新安装本程序（pip install -e .），并去掉该环境变量"
)


class SheetFileError(ValueError):
    """An Excel file that cannot be read; str() is the Chinese explanation, naming the file."""


def sheet_rows(path: Path) -> Generator[tuple[Any, ...]]:  # close() ends the read early
    """The rows of the file's first (active) sheet, as cell values, at most MAX_COLUMNS wide."""
    _check(path)
    _check_parts(path)
    from openpyxl import DEFUSEDXML, load_workbook  # imported on use: openpyxl would slow every start of the bot

    if not DEFUSEDXML:  # openpyxl parses through defusedxml when it is installed and not switched off
        raise SheetFileError(UNSAFE_XML)

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise SheetFileError(f"无法打开“{path.name}”：{NOT_EXCEL}") from error
    try:
        sheet = workbook.active
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise SheetFileError(f"“{path.name}”里没有可读的工作表")
        # The size a sheet declares can be wrong (too small: rows are lost; A1:XFD1048576: a million empty rows
        # of 16,384 cells): read the rows that are there instead.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a damaged sheet fails only where the damage is
                raise SheetFileError(f"“{path.name}”的内容已损坏，读到一半无法继续：{SAVE_AS}") from error
            number += 1
            if number > MAX_ROWS + 1:
                raise SheetFileError(
                    f"“{path.name}”超过 {MAX_ROWS:,} 行（不含表头，一次最多 {MAX_ROWS:,} 行）：{SPLIT}"
                )
            _check_cells(path, number, row)
            yield row
    finally:
        workbook.close()


def _check_cells(path: Path, number: int, row: tuple[Any, ...]) -> None:
    for column, value in enumerate(row, start=1):
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            from openpyxl.utils import get_column_letter

            raise SheetFileError(
                f"“{path.name}”第{number}行{get_column_letter(column)}列的单元格有 {len(value):,} 个字，"
                f"超过 Excel 单元格的上限 {MAX_CELL_CHARS:,} 个字：请检查这个单元格"
            )


def _check_parts(path: Path) -> None:
    """Refuse a file whose size or whose parts' unpacked sizes exceed the caps, before anything is unpacked."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SheetFileError(
            f"“{path.name}”有 {size / MIB:.1f} MB，超过上限 {MAX_FILE_BYTES // MIB} MB："
            f"名册只需文字，请删去图片等内容后另存，或{SPLIT}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            _check_sizes(path, parts)
            streamed = _worksheets(archive)
    except SheetFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, ElementTree.ParseError) as error:
        raise SheetFileError(f"无法打开“{path.name}”：{NOT_EXCEL}") from error
    for part in parts:
        if part.file_size > MAX_WHOLE_PART and part.filename not in streamed:
            raise SheetFileError(
                f"“{path.name}”中的“{part.filename}”解压后有 {part.file_size / MIB:,.1f} MB，"
                f"超过上限 {MAX_WHOLE_PART // MIB} MB（可能是恶意构造的文件）：{SAVE_AS}"
            )


def _check_sizes(path: Path, parts: list[zipfile.ZipInfo]) -> None:
    if len(parts) > MAX_PARTS:
        raise SheetFileError(
            f"“{path.name}”内部有 {len(parts):,} 个文件，超过上限 {MAX_PARTS:,} 个，不像是 Excel 表格：{SAVE_AS}"
        )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED:
        raise SheetFileError(
            f"“{path.name}”解压后有 {unpacked / MIB:,.1f} MB，超过上限 {MAX_UNPACKED // MIB} MB"
            f"（可能是恶意构造的压缩文件，或表格过大）：{SPLIT}"
        )
    manifest = next((part for part in parts if part.filename == MANIFEST), None)
    if manifest is not None and manifest.file_size > MAX_MANIFEST:
        raise SheetFileError(f"“{path.name}”中的“{MANIFEST}”过大（可能是恶意构造的文件）：{SAVE_AS}")


def _worksheets(archive: zipfile.ZipFile) -> set[str]:
    """The parts openpyxl streams: declared worksheets by the manifest (and as nothing else), under xl/worksheets/
    (not a relationships file there, nor a part openpyxl finds by a fixed name such as xl/styles.xml)."""
    root = ElementTree.fromstring(archive.read(MANIFEST))
    declared: dict[str, set[str]] = {}
    for override in root.iter():
        if override.tag.endswith("Override"):
            name = (override.get("PartName") or "").lstrip("/")
            declared.setdefault(name, set()).add(override.get("ContentType") or "")
    return {
        name
        for name, types in declared.items()
        if types == {WORKSHEET_TYPE} and name.startswith("xl/worksheets/") and "/_rels/" not in name
    }


def _check(path: Path) -> None:
    if not path.exists():
        raise SheetFileError(f"找不到文件：{path}")
    if path.is_dir():
        raise SheetFileError(f"“{path.name}”是文件夹，不是 Excel 文件")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise SheetFileError(f"“{path.name}”是旧版 Excel（.xls）文件：{SAVE_AS}")
    if suffix == ".csv":
        raise SheetFileError(f"“{path.name}”是 CSV 文件：{SAVE_AS}")
    if suffix not in EXCEL_SUFFIXES:
        raise SheetFileError(f"“{path.name}”不是 Excel 文件：只能导入 .xlsx")
