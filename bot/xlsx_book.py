"""The workbook every export writes: rows streamed to disk, dates and shares as cells Excel can sort and sum.

openpyxl writes a date as yyyy-mm-dd and a share as a bare number; officials read 2026年12月9日 and 50.0%. So a date
or a moment becomes a date cell with a Chinese number format and a `Percent` a number with a percent format — never
text, which Excel would sort as words and leave out of sums. A write-only sheet takes formats only through
WriteOnlyCell, hence `Sheet.append`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
MOMENT_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
PERCENT_FORMAT = "0.0%"
# Excel shows ##### for a date wider than its column (text would spill over, dates do not): 2026年12月31日 needs ~15.
DATE_WIDTH = 16
MOMENT_WIDTH = 21


@dataclass(frozen=True)
class Percent:
    """A share from 0 to 1; None (nothing to measure yet) leaves the cell empty rather than writing 0%."""

    rate: float | None


class Sheet:
    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet

    def append(self, values: Iterable[Any]) -> None:
        self._sheet.append([self._cell(value) for value in values])

    def _cell(self, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, datetime):  # before date: every datetime is a date
            if value.tzinfo is not None:
                raise ValueError("Excel has no time zones: convert to local time first")
            number_format = MOMENT_FORMAT
        elif isinstance(value, date):
            number_format = DATE_FORMAT
        elif isinstance(value, Percent):
            value, number_format = value.rate, PERCENT_FORMAT
        else:
            return value
        cell = WriteOnlyCell(self._sheet, value)
        cell.number_format = number_format
        return cell


class Book:
    """A write-only workbook: rows stream to disk instead of piling up in memory."""

    def __init__(self) -> None:
        from openpyxl import Workbook  # imported on use: openpyxl (and numpy) would slow every start of the bot

        self.book = Workbook(write_only=True)

    def sheet(self, title: str, headers: Sequence[str], widths: Mapping[str, float] | None = None) -> Sheet:
        """A sheet with its header row; `widths` by header, for the date columns (set before any row is written)."""
        from openpyxl.utils import get_column_letter

        sheet = self.book.create_sheet(title)
        for index, header in enumerate(headers, start=1):
            if widths and header in widths:
                sheet.column_dimensions[get_column_letter(index)].width = widths[header]
        sheet.append(list(headers))
        return Sheet(sheet)

    def save(self, out: Path) -> None:
        partial = out.with_name(f".{out.name}.partial")
        self.book.save(partial)
        partial.replace(out)  # never leave a half-written file under the real name
