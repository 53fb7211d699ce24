"""Complaint categories and the county's bounds as data (data/complaint_categories.yaml), validated at load."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handlers.complaints.workdays import DEFAULT_HOLIDAYS, WorkCalendar, load_calendar
from knowledge.yaml_text import parse_yaml

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CATEGORIES = DATA / "complaint_categories.yaml"
KNOWLEDGE_INDUSTRIES = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "industries.yaml"

# The 十小 industries (slugs shared with the unit register and the knowledge base).
INDUSTRIES: tuple[str, ...] = (
    "small_grocery",
    "small_food_workshop",
    "small_restaurant",
    "small_beauty_salon",
    "small_bathhouse",
    "small_hotel",
    "small_karaoke_dance_hall",
    "small_internet_cafe",
    "small_clinic",
    "small_pharmacy",
)
OFFICES = ("township", "county")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


class CategoryDataError(ValueError):
    pass


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    industries: frozenset[str]
    days: int
    office: str = "township"

    def applies_to(self, industry: str | None) -> bool:
        return industry is None or industry in self.industries


@dataclass(frozen=True)
class Bounds:
    south: float
    north: float
    west: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


@dataclass(frozen=True)
class ComplaintConfig:
    county: str
    bounds: Bounds
    categories: tuple[Category, ...]
    calendar: WorkCalendar

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def name(self, category_id: str) -> str:
        found = self.category(category_id)
        return found.name if found else category_id


def known_industries(path: Path = KNOWLEDGE_INDUSTRIES) -> tuple[str, ...]:
    """The knowledge base's industry list when it is present, else the built-in one."""
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return INDUSTRIES
    listed = raw.get("industries") if isinstance(raw, dict) else None
    if isinstance(listed, list) and listed and all(isinstance(slug, str) for slug in listed):
        return tuple(listed)
    return INDUSTRIES


def _bounds(raw: Any, where: str) -> Bounds:
    if not isinstance(raw, dict):
        raise CategoryDataError(f"{where}: 需要 bounds（south、north、west、east）")
    try:
        bounds = Bounds(*(float(raw[key]) for key in ("south", "north", "west", "east")))
    except (KeyError, TypeError, ValueError):
        raise CategoryDataError(f"{where}: bounds 需要数字 south、north、west、east") from None
    if not (-90 <= bounds.south < bounds.north <= 90 and -180 <= bounds.west < bounds.east <= 180):
        raise CategoryDataError(f"{where}: bounds 范围有误（南应小于北、西应小于东）")
    return bounds


def _category(raw: Any, where: str, industries: tuple[str, ...]) -> Category:
    if not isinstance(raw, dict):
        raise CategoryDataError(f"{where}: 应为包含 id、name、industries、days 的映射")
    category_id, name = raw.get("id"), raw.get("name")
    if not isinstance(category_id, str) or not ID_PATTERN.match(category_id):
        raise CategoryDataError(f"{where}: id 应为小写英文字母、数字或下划线（最多24个字符），而不是 {category_id!r}")
    where = f"{where}（{category_id}）"
    if not isinstance(name, str) or not name.strip() or len(name) > 20:
        raise CategoryDataError(f"{where}: name 不能为空，最多20个字")
    listed = raw.get("industries")
    if listed == "all":
        applies = frozenset(industries)
    elif isinstance(listed, list) and listed:
        unknown = [slug for slug in listed if slug not in industries]
        if unknown:
            raise CategoryDataError(f"{where}: 未知行业 {unknown}（可用：{', '.join(industries)}）")
        applies = frozenset(listed)
    else:
        raise CategoryDataError(f"{where}: industries 应为行业列表或 all")
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        raise CategoryDataError(f"{where}: days（办理时限，工作日）应为 1 到 60 的整数")
    office = raw.get("office", "township")
    if office not in OFFICES:
        raise CategoryDataError(f"{where}: office 应为 township（乡镇）或 county（县整规办）")
    return Category(category_id, name.strip(), applies, days, office)


def load_config(path: Path = DEFAULT_CATEGORIES, holidays: Path = DEFAULT_HOLIDAYS) -> ComplaintConfig:
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as error:
        raise CategoryDataError(f"{path}: 无法读取投诉类别文件：{error}") from error
    if not isinstance(raw, dict):
        raise CategoryDataError(f"{path}: 顶层应为映射（county、categories）")
    county = raw.get("county")
    if not isinstance(county, dict) or not county.get("name"):
        raise CategoryDataError(f"{path} county: 需要 name 和 bounds")
    bounds = _bounds(county.get("bounds"), f"{path} county.bounds")
    entries = raw.get("categories")
    if not isinstance(entries, list) or not entries:
        raise CategoryDataError(f"{path} categories: 至少需要一个类别")
    industries = known_industries()
    categories = tuple(_category(entry, f"{path} categories[{i}]", industries) for i, entry in enumerate(entries))
    seen: set[str] = set()
    for category in categories:
        if category.id in seen or category.name in {c.name for c in categories if c is not category}:
            raise CategoryDataError(f"{path} categories: 类别 {category.id}（{category.name}）重复")
        seen.add(category.id)
    return ComplaintConfig(str(county["name"]), bounds, categories, load_calendar(holidays))


@functools.cache
def default_config() -> ComplaintConfig:
    """The shipped data, read once (immutable); tests and tools can call load_config with other files."""
    return load_config()
