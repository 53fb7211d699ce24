"""Excel files are XML inside a zip: openpyxl parses them through defusedxml (a declared dependency), so a file
with entity declarations is refused rather than expanded, and reading refuses to run without it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from storage.sheet_files import UNSAFE_XML, SheetFileError, sheet_rows

REPO = Path(__file__).resolve().parent.parent
INJECTED = "实体展开的内容"


def workbook_with_an_entity(path: Path) -> Path:
    """A register whose one name is an XML entity reference, declared in the sheet's DOCTYPE."""
    book = Workbook()
    book.active.append(["单位名称"])
    book.active.append(["PLACEHOLDER"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if b"PLACEHOLDER" in data:  # the sheet (openpyxl writes inline strings)
                text = data.decode()
                declaration, _, body = text.rpartition("?>")
                root = body.lstrip()[1:].split(" ", 1)[0].split(">", 1)[0]
                text = (
                    f'{declaration + "?>" if declaration else ""}<!DOCTYPE {root} [<!ENTITY who "{INJECTED}">]>{body}'
                ).replace("PLACEHOLDER", "&who;")
                data = text.encode()
            target.writestr(item, data)
    return path


def test_openpyxl_parses_through_defusedxml():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True


def test_an_excel_file_declaring_entities_is_refused_not_expanded(tmp_path):
    path = workbook_with_an_entity(tmp_path / "register.xlsx")
    with pytest.raises(SheetFileError) as refused:
        rows = list(sheet_rows(path))
        assert INJECTED not in str(rows)  # reached only without defusedxml: the entity was expanded
    assert path.name in str(refused.value)
    print(f"XML entities: 1 declared entity, refused ({type(refused.value).__name__}), expanded 0 times")


def test_reading_refuses_to_run_with_defusedxml_switched_off(tmp_path):
    path = tmp_path / "plain.xlsx"
    book = Workbook()
    book.active.append(["单位名称"])
    book.save(path)
    code = f"from storage.sheet_files import sheet_rows; print(list(sheet_rows(__import__('pathlib').Path({str(path)!r}))))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OPENPYXL_DEFUSEDXML": "False"},
    )
    assert result.returncode != 0 and UNSAFE_XML in result.stderr
