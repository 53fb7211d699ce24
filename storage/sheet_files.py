"""Reading the first sheet of an Excel file an official gave us (unit register, areas), with errors in Chinese.

openpyxl fails in many ways on a file that is not what its name says: BadZipFile, KeyError, InvalidFileException
when opening, and an XML ParseError half-way through a damaged sheet, after the first rows were read. Every one of
them becomes a SheetFileError saying, in Chinese, what to do; the callers read the whole file before they write
anything, so a file that fails half-way changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXCEL_SUFFIXES = (".xlsx", ".xlsm")  # what openpyxl opens (templates aside)
SAVE_AS = "请在 Excel 中打开，“另存为”Excel 工作簿（.xlsx）后再导入"
UNSAFE_XML = ("不能安全地读取 Excel 文件：defusedxml 没有安装或被 OPENPYXL_DEFUSEDXML=False 关闭；"
              "请重新安装本程序（pip install -e .），并去掉该环境变量")


class SheetFileError(ValueError):
    """An Excel file that cannot be read; str() is the Chinese explanation, naming the file."""


def sheet_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    """The rows of the file's first (active) sheet, as cell values."""
    _check(path)
    from openpyxl import DEFUSEDXML, load_workbook  # imported on use: openpyxl would slow every start of the bot

    if not DEFUSEDXML:  # openpyxl parses through defusedxml when it is installed and not switched off
        raise SheetFileError(UNSAFE_XML)

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise SheetFileError(f"无法打开“{path.name}”：文件已损坏，或不是 Excel（.xlsx）文件"
                             "（只改扩展名不能把其他文件变成 .xlsx）") from error
    try:
        sheet = workbook.active
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise SheetFileError(f"“{path.name}”里没有可读的工作表")
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a damaged sheet fails only where the damage is
                raise SheetFileError(f"“{path.name}”的内容已损坏，读到一半无法继续：{SAVE_AS}") from error
            yield row
    finally:
        workbook.close()


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
