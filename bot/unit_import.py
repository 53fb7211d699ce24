"""Reading the unit register from xlsx: every row checked, problems reported by row, column and reason."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from knowledge.models import Checklist
from storage.inspection_models import UnitClass, UnitStatus
from storage.sheet_files import SheetFileError, sheet_rows
from storage.units import UnitFields, name_key

COLUMNS = ("单位名称", "行业", "乡镇", "村", "地址", "经营者", "联系电话", "证照编号", "状态", "分类", "示范点", "纬度",
           "经度")
REQUIRED = ("单位名称", "行业", "乡镇", "村")
STATUS_NAMES = {"未检查": UnitStatus.UNCHECKED, "规范达标": UnitStatus.COMPLIANT, "整改中": UnitStatus.RECTIFYING,
                "关停取缔": UnitStatus.CLOSED}
CLASS_NAMES = {"整合提升类": UnitClass.UPGRADE, "整改规范类": UnitClass.RECTIFY, "关停取缔类": UnitClass.SHUTDOWN}
YES_NO = {"是": True, "否": False, "": False, "y": True, "n": False, "yes": True, "no": False, "1": True, "0": False}
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
LIMITS = {"单位名称": 100, "地址": 200, "经营者": 64, "证照编号": 300}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not xlsx, wrong columns)."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str


@dataclass
class ParsedRow:
    row: int
    township: str
    village: str
    fields: UnitFields


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    total: int = 0


def industry_lookup(checklists: dict[str, Checklist]) -> dict[str, str]:
    """Slug, Chinese name and every alias → slug."""
    lookup: dict[str, str] = {}
    for slug, checklist in checklists.items():
        for name in (slug, checklist.name, *checklist.aliases):
            lookup[name_key(name)] = slug
    return lookup


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # A date cell (Excel turns a typed 2026-12-09 into one) reads as the date, not "2026-12-09 00:00:00".
        return value.date().isoformat() if value.time() == time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every non-empty data row; raises ImportFileError for a bad file."""
    rows = sheet_rows(path)
    try:
        header = [_cell(cell) for cell in next(rows, ())]
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise ImportFileError(f"第1行缺少必需的列：{'、'.join(missing)}（应有列：{'、'.join(COLUMNS)}）")
        index = {column: header.index(column) for column in COLUMNS if column in header}
        for number, raw in enumerate(rows, start=2):
            values = {column: _cell(raw[i]) if i < len(raw) else "" for column, i in index.items()}
            if any(values.values()):
                yield number, values
    except SheetFileError as error:
        raise ImportFileError(str(error)) from None
    finally:
        rows.close()


def parse_row(number: int, values: dict[str, str], industries: dict[str, str]) -> tuple[ParsedRow | None,
                                                                                           list[RowProblem]]:
    problems = [RowProblem(number, column, "不能为空") for column in REQUIRED if not values.get(column)]
    for column, limit in LIMITS.items():
        if len(values.get(column, "")) > limit:
            problems.append(RowProblem(number, column, f"过长（{len(values[column])}个字，最多{limit}个字）"))
    industry = industries.get(name_key(values.get("行业", "")))
    if values.get("行业") and industry is None:
        problems.append(RowProblem(number, "行业", f"未知行业“{values['行业'][:20]}”"))
    phone = values.get("联系电话", "")
    if phone and not PHONE.match(phone):
        problems.append(RowProblem(number, "联系电话", f"号码格式不对：“{phone[:20]}”"))
    status = values.get("状态", "")
    if status and status not in STATUS_NAMES:
        problems.append(RowProblem(number, "状态", f"应为 {'/'.join(STATUS_NAMES)} 之一"))
    unit_class = values.get("分类", "")
    if unit_class and unit_class not in CLASS_NAMES:
        problems.append(RowProblem(number, "分类", f"应为 {'/'.join(CLASS_NAMES)} 之一"))
    demo = values.get("示范点", "").lower()
    if demo not in YES_NO:
        problems.append(RowProblem(number, "示范点", "应填“是”或“否”"))
    location = _location(number, values, problems)
    if problems or industry is None:
        return None, problems
    fields = UnitFields(
        name=values["单位名称"], industry=industry, address=values.get("地址") or None,
        operator_name=values.get("经营者") or None, operator_phone=phone or None,
        licences=values.get("证照编号") or None, is_demo=YES_NO[demo],
        status=STATUS_NAMES.get(status), unit_class=CLASS_NAMES.get(unit_class),
        latitude=location[0] if location else None, longitude=location[1] if location else None,
    )
    return ParsedRow(number, values["乡镇"], values["村"], fields), []


def _location(number: int, values: dict[str, str], problems: list[RowProblem]) -> tuple[float, float] | None:
    """The unit's registered location (纬度, 经度 in decimal degrees): both or neither, each in its range."""
    texts = {column: values.get(column, "") for column in ("纬度", "经度")}
    if not any(texts.values()):
        return None
    found: dict[str, float] = {}
    for (column, text), limit in zip(texts.items(), (90, 180), strict=True):
        try:
            value = float(text)
        except ValueError:
            problems.append(RowProblem(number, column, f"应为小数形式的度数，如 28.15（填的是“{text[:20]}”）" if text
                                       else "纬度和经度要么都填，要么都不填"))
            continue
        if not (math.isfinite(value) and -limit <= value <= limit):
            problems.append(RowProblem(number, column, f"应在 -{limit} 到 {limit} 之间"))
            continue
        found[column] = value
    return (found["纬度"], found["经度"]) if len(found) == 2 else None


def parse_file(path: Path, industries: dict[str, str]) -> ParsedFile:
    parsed = ParsedFile()
    seen: dict[tuple[str, str, str], int] = {}
    for number, values in read_rows(path):
        parsed.total += 1
        row, problems = parse_row(number, values, industries)
        parsed.problems.extend(problems)
        if row is None:
            continue
        key = (row.township, row.village, name_key(row.fields.name))
        if key in seen:
            parsed.problems.append(RowProblem(number, "单位名称", f"与第{seen[key]}行重复（同一村的同名单位）"))
            continue
        seen[key] = number
        parsed.rows.append(row)
    return parsed
