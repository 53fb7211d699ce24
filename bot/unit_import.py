"""Reading the unit register from xlsx: every row checked, problems reported by row, column and reason.

Rows are streamed (storage/sheet_files.py caps what a file may hold); a status and a class the chat would never let
a report give together are refused here as they are there (handlers/inspection/outcome_steps.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handlers.inspection.class_rules import allowed_classes, class_conflict
from storage.inspection_models import UnitClass, UnitStatus
from storage.sheet_files import SheetFileError, sheet_rows
from storage.units import UnitFields, name_key

if TYPE_CHECKING:
    from knowledge.models import Checklist

COLUMNS = (
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
)
REQUIRED = ("单位名称", "行业", "乡镇", "村")
# 待关停: classified 关停取缔类, not yet seen closed (stays in the rate's base); 已关停: closure verified (leaves it).
STATUS_NAMES = {
    "未检查": UnitStatus.UNCHECKED,
    "规范达标": UnitStatus.COMPLIANT,
    "整改中": UnitStatus.RECTIFYING,
    "待关停": UnitStatus.PENDING_CLOSURE,
    "已关停": UnitStatus.CLOSED,
}
# The single word registers used before: it does not say whether the closure was verified, so it is not guessed.
OLD_CLOSED_NAME = "关停取缔"
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


# A result status as the chat's result: 规范达标 is a compliant result, 整改中 a failed one.
RESULT_OF_STATUS: dict[str, bool] = {UnitStatus.COMPLIANT: True, UnitStatus.RECTIFYING: False}
STATUS_LABELS: dict[str, str] = {value: label for label, value in STATUS_NAMES.items()}
CLASS_LABELS: dict[str, str] = {value: label for label, value in CLASS_NAMES.items()}


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


def parse_row(
    number: int, values: dict[str, str], industries: dict[str, str]
) -> tuple[ParsedRow | None, list[RowProblem]]:
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
    if status == OLD_CLOSED_NAME:
        problems.append(
            RowProblem(
                number,
                "状态",
                "“关停取缔”请改为“待关停”（已列为关停取缔类、尚未核实关停）或“已关停”（已核实关停或取缔）",
            )
        )
    elif status and status not in STATUS_NAMES:
        problems.append(RowProblem(number, "状态", f"应为 {'/'.join(STATUS_NAMES)} 之一"))
    unit_class = values.get("分类", "")
    if unit_class and unit_class not in CLASS_NAMES:
        problems.append(RowProblem(number, "分类", f"应为 {'/'.join(CLASS_NAMES)} 之一"))
    demo = values.get("示范点", "").lower()
    if demo not in YES_NO:
        problems.append(RowProblem(number, "示范点", "应填“是”或“否”"))
    mismatch = combination_problem(STATUS_NAMES.get(status), CLASS_NAMES.get(unit_class))
    if mismatch:
        problems.append(RowProblem(number, "分类", mismatch))
    location = _location(number, values, problems)
    if problems or industry is None:
        return None, problems
    fields = UnitFields(
        name=values["单位名称"],
        industry=industry,
        address=values.get("地址") or None,
        operator_name=values.get("经营者") or None,
        operator_phone=phone or None,
        licences=values.get("证照编号") or None,
        is_demo=YES_NO[demo],
        status=STATUS_NAMES.get(status),
        unit_class=CLASS_NAMES.get(unit_class),
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
    )
    return ParsedRow(number, values["乡镇"], values["村"], fields), []


def combination_problem(status: str | None, unit_class: str | None) -> str | None:
    """Why a unit cannot be 规范达标/整改中 with this class, by the chat's rules for a report's result and class;
    None when they agree (or either is unknown, or the status is no result: 未检查, closures)."""
    if not status or not unit_class:
        return None
    status_label, class_label = STATUS_LABELS.get(status, status), CLASS_LABELS.get(unit_class, unit_class)
    if status in (UnitStatus.PENDING_CLOSURE, UnitStatus.CLOSED) and unit_class != UnitClass.SHUTDOWN:
        # Only a unit classified to close becomes 待关停, and only a 待关停 unit's closure is verified.
        return f"“{status_label}”的单位只能列为“{CLASS_LABELS[UnitClass.SHUTDOWN]}”，不能列为“{class_label}”"
    compliant = RESULT_OF_STATUS.get(status)
    if compliant is None:
        return None
    if unit_class not in allowed_classes(compliant):
        return f"“{status_label}”的单位不能列为“{class_label}”（没有需要整改的问题，检查上报时也不能这样选）"
    if class_conflict(compliant, unit_class):
        return f"“{status_label}”的单位列为“{class_label}”须由村干部在检查上报时说明理由，不能通过导入设置"
    if unit_class == UnitClass.SHUTDOWN:  # the chat never leaves a unit it classifies for closure 整改中
        return f"列为“{class_label}”的单位，状态不能是“{status_label}”"
    return None


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
            problems.append(
                RowProblem(
                    number,
                    column,
                    f"应为小数形式的度数，如 28.15（填的是“{text[:20]}”）"
                    if text
                    else "纬度和经度要么都填，要么都不填",
                )
            )
            continue
        if not (math.isfinite(value) and -limit <= value <= limit):
            problems.append(RowProblem(number, column, f"应在 -{limit} 到 {limit} 之间"))
            continue
        found[column] = value
    return (found["纬度"], found["经度"]) if len(found) == 2 else None


def parse_rows(path: Path, industries: dict[str, str]) -> Iterator[tuple[int, ParsedRow | None, list[RowProblem]]]:
    """(row number, the row or None, its problems) for every non-empty row, streamed; ImportFileError for a bad
    file (possibly after some rows: read the whole file before writing anything)."""
    seen: dict[tuple[str, str, str], int] = {}
    for number, values in read_rows(path):
        row, problems = parse_row(number, values, industries)
        if row is not None:
            key = (row.township, row.village, name_key(row.fields.name))
            if key in seen:
                row, problems = None, [RowProblem(number, "单位名称", f"与第{seen[key]}行重复（同一村的同名单位）")]
            else:
                seen[key] = number
        yield number, row, problems
