"""Reading a county's townships and villages from YAML or xlsx, with errors in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from knowledge.yaml_errors import YamlFileError, read_yaml_file
from storage.areas import CountySpec, TownshipSpec
from storage.sheet_files import SheetFileError, sheet_rows

SAMPLE_COUNTY = Path(__file__).parent / "data" / "sample_county.yaml"
MAX_NAME = 64
MAX_AREAS = 10_000  # townships and villages in one file: a county has hundreds
TOO_MANY = f"乡镇和村（社区）超过 {MAX_AREAS:,} 个，一个县不会有这么多：请检查是否选错了文件"


class AreaFileError(ValueError):
    pass


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str | int) or not str(value).strip():
        raise AreaFileError(f"{where}：名称为空")
    name = str(value).strip()
    if len(name) > MAX_NAME:
        raise AreaFileError(f"{where}：名称过长（{len(name)}个字）")
    return name


def parse_yaml(path: Path) -> CountySpec:
    try:
        raw = read_yaml_file(path)
    except YamlFileError as error:
        raise AreaFileError(f"{path}：{error}") from None
    if not isinstance(raw, dict) or "county" not in raw or not isinstance(raw.get("townships"), list):
        raise AreaFileError(f"{path}：格式应为 county: 县名，townships: [{{name: 乡镇, villages: [村, …]}}]")
    townships: list[TownshipSpec] = []
    areas = 0
    for index, item in enumerate(raw["townships"], start=1):
        where = f"{path} 第{index}个乡镇"
        if not isinstance(item, dict):
            raise AreaFileError(f"{where}：应为 {{name: …, villages: […]}}")
        villages = item.get("villages") or []
        if not isinstance(villages, list):
            raise AreaFileError(f"{where}：villages 应为列表")
        areas += 1 + len(villages)
        if areas > MAX_AREAS:
            raise AreaFileError(f"{path}：{TOO_MANY}")
        name = _name(item.get("name"), where)
        townships.append(TownshipSpec(name, [_name(v, f"{where}（{name}）的村") for v in villages]))
    return CountySpec(_name(raw["county"], f"{path} county"), townships, bool(raw.get("sample", False)))


def parse_xlsx(path: Path) -> CountySpec:
    """Columns 县 | 乡镇 | 村 (header row first); a row without a village adds just the township."""
    rows = sheet_rows(path)
    try:
        header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        columns = {}
        for wanted in ("县", "乡镇", "村"):
            if wanted not in header:
                raise AreaFileError(f"{path}：第1行缺少列“{wanted}”（需要列：县、乡镇、村）")
            columns[wanted] = header.index(wanted)
        county_name: str | None = None
        townships: dict[str, TownshipSpec] = {}
        seen: set[tuple[str, str]] = set()
        for number, row in enumerate(rows, start=2):
            cells = [row[i] if i < len(row) else None for i in columns.values()]
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                continue
            county, township, village = cells
            county = _name(county, f"{path} 第{number}行 县")
            if county_name is None:
                county_name = county
            elif county != county_name:
                raise AreaFileError(f"{path} 第{number}行：一个文件只能包含一个县（已有“{county_name}”）")
            township = _name(township, f"{path} 第{number}行 乡镇")
            spec = townships.setdefault(township, TownshipSpec(township))
            if village is not None and str(village).strip():
                name = _name(village, f"{path} 第{number}行 村")
                if (township, name) not in seen:
                    seen.add((township, name))
                    spec.villages.append(name)
                    if len(seen) + len(townships) > MAX_AREAS:
                        raise AreaFileError(f"{path}：{TOO_MANY}")
    except SheetFileError as error:
        raise AreaFileError(str(error)) from None
    finally:
        rows.close()
    if county_name is None:
        raise AreaFileError(f"{path}：没有数据行")
    return CountySpec(county_name, list(townships.values()))


def parse_area_file(path: Path) -> CountySpec:
    if not path.exists():
        raise AreaFileError(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_yaml(path)
    if suffix == ".xlsx":
        return parse_xlsx(path)
    raise AreaFileError(f"{path}：不支持的文件类型（请使用 .yaml 或 .xlsx）")
