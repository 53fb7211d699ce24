"""The workbook every export writes: rows streamed to disk, dates and shares as cells Excel can sort and sum.

openpyxl writes a date as yyyy-mm-dd and a share as a bare number; officials read 2026年12月9日 and 50.0%. So a date
or a moment becomes a date cell with a Chinese number format and a `Percent` a number with a percent format — never
text, which Excel would sort as words and leave out of sums. A write-only sheet takes formats only through
WriteOnlyCell, hence `Sheet.append`.

Every text is written as text, never as a formula: complaint descriptions and notes come from residents, and a
text starting with = (or + - @, tab, CR, which Excel and LibreOffice also start formulas with when a cell is
edited) would otherwise be stored as a live formula beside the real-name columns. Such a text becomes an explicit
string cell with the quotePrefix style (Excel's and LibreOffice's "leading apostrophe": it stays text even when
the cell is edited). Characters XML cannot carry (control codes) are dropped instead of failing the export.
"""

from __future__ import annotations

import os
import tempfile
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
# What a spreadsheet may read as the start of a formula (=, and + - @ as Lotus-style entry), and tab and line
# breaks, which other tools turn into a cell boundary so that the next character starts a new, formula-looking cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# openpyxl stores these texts as error cells; written as text like any other.
ERROR_TEXTS = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


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
        elif isinstance(value, str):
            return self._text(value)
        else:
            return value
        cell = WriteOnlyCell(self._sheet, value)
        cell.number_format = number_format
        return cell

    def _text(self, value: str) -> Any:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        # A CR is written raw and every XML reader (Excel's too) turns it into LF: write the line break it reads as.
        value = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
        if not value.startswith(FORMULA_STARTS) and value not in ERROR_TEXTS:
            return value  # openpyxl writes any other text as a string cell
        cell = WriteOnlyCell(self._sheet, value)
        cell.data_type = "s"  # set after the value: openpyxl binds "=…" as a formula and "#N/A" as an error
        cell.quotePrefix = True
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
        """Write to a new file of a random name beside `out`, then move it into place: never a half-written file
        under the real name. mkstemp creates the file exclusively with mode 0600 (exports hold names, phones and
        complaints), so a symlink planted at a temporary name is never followed, and os.replace swaps a symlink at
        `out` itself instead of writing through it."""
        descriptor, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
        partial = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as file:
                self.book.save(file)
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
