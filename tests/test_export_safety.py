"""Every export writes stored text as text, never as a formula; exports are private files written safely.

Residents' and officials' words (complaint texts, names, notes, unit names) reach Excel files that the county
opens and forwards. A text starting with =, +, -, @, tab or CR must come back from the file as a string cell with
Excel's "leading apostrophe" (quotePrefix), never as a formula; numbers and dates stay numbers and dates.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.commands.exports import COMPLAINT_HEADERS
from storage.areas import CountySpec, TownshipSpec, find_area, load_county
from storage.complaints import NewComplaint, create_complaint
from storage.inspections import Report, approve, submit
from storage.models import AreaLevel, Role
from storage.units import UnitFields, upsert_unit
from storage.users import create_user

runner = CliRunner()
HOSTILE = ('=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx")
VILLAGES = ("岩头镇/芙蓉村", "岩头镇/苍坡村", "桥下镇/桥下村", "桥下镇/光华村", "北城街道/底寮村", "东城街道/望江社区")
NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)


async def stored_hostile_text(db) -> None:
    """Every kind of stored text each export shows, each hostile value in each of them."""
    async with db.transaction() as session:
        await load_county(
            session, CountySpec("永嘉县", [TownshipSpec(text, [f"村{i}"]) for i, text in enumerate(HOSTILE)]), NOW
        )
        cadre = await create_user(session, 501, NOW, Role.CADRE)
        cadre.name = HOSTILE[0]
        reviewer = await create_user(session, 502, NOW, Role.TOWNSHIP)
        resident = await create_user(session, 503, NOW)
        for i, text in enumerate(HOSTILE):
            village = await find_area(session, VILLAGES[i], AreaLevel.VILLAGE)
            unit, _ = await upsert_unit(
                session,
                village,
                UnitFields(
                    name=text,
                    industry="small_restaurant",
                    address=text,
                    operator_name=text,
                    operator_phone=text,
                    licences=text,
                ),
                NOW,
            )
            inspection, _ = await submit(
                session,
                Report(
                    unit_id=unit.id,
                    submit_key=f"k{i}",
                    industry="small_restaurant",
                    answers={"common.display": "fail", "common.business_licence": "pass"},
                    notes={"common.display": text},
                    proposed_compliant=False,
                    compliant=True,
                    unit_class="upgrade",
                    override_reason=text,
                    class_reason=text,
                    rectify_by=date(2026, 6, 1),
                ),
                cadre.id,
                NOW,
            )
            approve(inspection, reviewer, NOW, note=text)
            township = await find_area(session, VILLAGES[i].split("/")[0], AreaLevel.TOWNSHIP)
            await create_complaint(
                session,
                NewComplaint(
                    submit_key=f"c{i}",
                    category="other",
                    complainant_id=resident.id,
                    anonymous=False,
                    township_id=township.id,
                    office_area_id=township.id,
                    description=text,
                    due_on=date(2026, 5, 26),
                    complainant_name=text,
                    complainant_phone=text,
                    unit_name=text,
                    note=text,
                ),
                NOW,
            )


async def export(db, *args: str):
    env = {"SHIXIAO_DATABASE_URL": db.url, "SHIXIAO_TELEGRAM_TOKEN": ""}
    result = await asyncio.to_thread(runner.invoke, app, ["export", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def text_cells(path: Path) -> dict[str, list]:
    """The cells holding each hostile value; asserts no cell of the file is a formula. (A CR reads back as the
    line break LF, as in Excel: XML turns every raw CR into one.)"""
    found: dict[str, list] = {text.replace("\r", "\n"): [] for text in HOSTILE}
    book = load_workbook(path)  # not data_only: a formula would come back as one
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value in found:
                    found[cell.value].append(cell)
    return found


def assert_written_as_text(path: Path, at_least: int = 1) -> dict[str, list]:
    found = text_cells(path)
    for text, cells in found.items():
        assert len(cells) >= at_least, (text, path.name)
        for cell in cells:
            assert cell.data_type == "s" and cell.quotePrefix, (text, cell.coordinate, cell.data_type)
    return found


def libreoffice_csv(path: Path) -> str | None:
    """The file as LibreOffice reads it (converted to CSV), when LibreOffice is installed."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        return None
    subprocess.run(
        [office, "--headless", "--convert-to", "csv", "--outdir", str(path.parent), str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path.with_suffix(".csv").read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("what", ["units", "inspections", "complaints", "report"])
async def test_every_export_writes_formula_looking_text_as_text(db, tmp_path, what):
    await stored_hostile_text(db)
    out = tmp_path / f"{what}.xlsx"
    await export(db, what, "--out", str(out))
    # units: 5 text columns per unit; inspections: unit, inspector, notes, reasons; complaints: text, names, notes
    found = assert_written_as_text(out, at_least={"units": 5, "inspections": 5, "complaints": 4, "report": 1}[what])
    book = load_workbook(out)
    if what == "inspections":
        sheet = book["检查报告"]
        assert isinstance(sheet["G2"].value, datetime) and sheet["P2"].value == 0  # submitted at, photos
        assert len(found[HOSTILE[0]]) >= 6  # the inspector's name on every report, and the first report's texts
    elif what == "complaints":
        sheet = book["投诉"]
        assert isinstance(sheet["B2"].value, datetime) and sheet["J2"].value == 0  # filed at, photos
    elif what == "report":
        summary = book["汇总"]
        assert isinstance(summary["B2"].value, datetime) and summary["B3"].value == 6  # as of, units
    converted = libreoffice_csv(out)
    if converted is not None:  # LibreOffice shows the text, never the formula's result ("y")
        assert "HYPERLINK" in converted and "\n2\n" not in converted


async def test_control_characters_are_dropped_not_fatal(db, tmp_path):
    async with db.transaction() as session:
        village = await find_area(session, VILLAGES[0], AreaLevel.VILLAGE)
        await upsert_unit(
            session, village, UnitFields(name="铃\x07声小店", industry="small_restaurant", address="=1+1\x0b"), NOW
        )
    out = tmp_path / "units.xlsx"
    await export(db, "units", "--out", str(out))
    row = next(load_workbook(out).active.iter_rows(min_row=2, max_row=2))
    assert row[0].value == "铃声小店" and (row[4].value, row[4].data_type) == ("=1+1", "s")


async def test_exports_are_private_and_never_written_through_a_symlink(db, tmp_path):
    await stored_hostile_text(db)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    for what in ("units", "inspections", "complaints", "report"):
        out = tmp_path / f"{what}.xlsx"
        # the name the exports used to write through first, and the output name itself, planted as symlinks
        (tmp_path / f".{out.name}.partial").symlink_to(victim)
        out.symlink_to(victim)
        await export(db, what, "--out", str(out))
        assert victim.read_text(encoding="utf-8") == "keep me"
        assert not out.is_symlink() and stat.S_IMODE(out.stat().st_mode) == 0o600, what
        assert load_workbook(out).worksheets
        assert sorted(p.name for p in tmp_path.glob(f".{out.name}*")) == [f".{out.name}.partial"]  # no leftovers
    written = sorted(tmp_path.glob("*.xlsx"))
    assert len(written) == 4 and {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o600}
    print(f"exports: {len(written)} files, all 0600, 8 planted symlinks, their target unchanged")


async def test_the_township_copy_has_no_names_or_phones_and_anonymous_places_are_blurred(db, tmp_path):
    await stored_hostile_text(db)
    async with db.transaction() as session:
        resident = await create_user(session, 504, NOW)
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        await create_complaint(
            session,
            NewComplaint(
                submit_key="anon",
                category="other",
                complainant_id=resident.id,
                anonymous=True,
                township_id=township.id,
                office_area_id=township.id,
                description="门口堆放杂物",
                due_on=date(2026, 5, 26),
                location=(28.123456, 120.654321),
            ),
            NOW,
        )
    county, township_copy = tmp_path / "county.xlsx", tmp_path / "township.xlsx"
    await export(db, "complaints", "--out", str(county))
    await export(db, "complaints", "--for-township", "--out", str(township_copy))
    full = list(load_workbook(county)["投诉"].iter_rows(values_only=True))
    short = list(load_workbook(township_copy)["投诉"].iter_rows(values_only=True))
    assert full[0] == COMPLAINT_HEADERS
    assert "投诉人姓名" not in short[0] and "投诉人电话" not in short[0] and len(short[0]) == len(full[0]) - 2
    assert full[1][full[0].index("投诉人姓名")] == HOSTILE[0]  # the county's own copy keeps 实名 identity
    for rows in (full, short):
        anonymous = next(
            dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[rows[0].index("提交方式")] == "匿名"
        )
        assert (anonymous["纬度"], anonymous["经度"]) == (28.123, 120.654)
    assert stat.S_IMODE(os.stat(township_copy).st_mode) == 0o600
    print(
        f"township copy: {len(short[0])} columns of {len(full[0])}, no name or phone; anonymous place 28.123, 120.654"
    )
