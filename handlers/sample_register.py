"""The sample register shipped with the sample county (handlers/data/sample_register.yaml), read and checked.

Units and their inspections are data: every field is checked at load against the sample county's areas and the
knowledge base's industries, and a mistake names the file and the line. A unit's checklist answers are made from its
result: all items 符合, or for 整改 the first two ordinary items 不符合, for 关停 the first veto item 不符合.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, Protocol

from knowledge.models import Checklist, KnowledgeBase
from knowledge.yaml_errors import YamlFileError, read_yaml_file
from knowledge.yaml_lines import file_line_of, where
from storage.areas import CountySpec
from storage.inspection_models import InspectionStatus, UnitClass
from storage.sample_register import SAMPLE_MARK, SampleInspection, SampleUnit

SAMPLE_REGISTER = Path(__file__).parent / "data" / "sample_register.yaml"
RESULTS = {"达标": UnitClass.UPGRADE, "整改": UnitClass.RECTIFY, "关停": UnitClass.SHUTDOWN}
REVIEWS = {"已通过": InspectionStatus.APPROVED, "待审核": InspectionStatus.SUBMITTED}
FIELDS = {"name", "industry", "township", "village", "operator", "address", "check"}
CHECK_FIELDS = {"days", "result", "review", "due"}
MAX_DAYS = 60
FAIL_NOTE = "（示例）现场发现不符合，已告知经营者整改"
VETO_NOTE = "（示例）一票否决项不符合，列为关停取缔类"


class SampleRegisterError(ValueError):
    pass


class Fail(Protocol):
    """Raises SampleRegisterError for the entry being read, at its field `key` when given."""

    def __call__(self, message: str, key: str | None = None) -> NoReturn: ...


@dataclass
class SampleRegister:
    county: str
    units: list[SampleUnit] = field(default_factory=list)


def _text(value: Any, what: str, fail: Callable[[str], NoReturn], limit: int = 60) -> str:
    if not isinstance(value, str) or not value.strip():
        fail(f"{what}应为非空文字")
    if len(value.strip()) > limit:
        fail(f"{what}过长（{len(value.strip())}个字，最多{limit}个）")
    return value.strip()


def answers_for(checklist: Checklist, unit_class: UnitClass) -> tuple[dict[str, str], dict[str, str]]:
    """Checklist answers and notes for a result: what a cadre would have entered for it."""
    answers: dict[str, str] = {}
    for item in checklist.items:
        if item.relevant_item is not None and answers.get(item.relevant_item) != item.relevant_equals:
            continue  # a follow-up of a screening question answered 否
        answers[item.id] = "no" if item.kind == "gate" else "pass"
    notes: dict[str, str] = {}
    checks = [item for item in checklist.items if item.kind == "check" and item.id in answers]
    if unit_class == UnitClass.RECTIFY:
        for item in [item for item in checks if not item.veto][:2]:
            answers[item.id], notes[item.id] = "fail", FAIL_NOTE
    elif unit_class == UnitClass.SHUTDOWN:
        veto = next(item for item in checks if item.veto)
        answers[veto.id], notes[veto.id] = "fail", VETO_NOTE
    return answers, notes


def parse_sample_register(
    county: CountySpec, knowledge: KnowledgeBase, today: date, now: datetime, path: Path = SAMPLE_REGISTER
) -> SampleRegister:
    """The register for the sample county `county`, with dates counted back from `today` (`now` for the times)."""
    try:
        raw = read_yaml_file(path)
    except YamlFileError as error:
        raise SampleRegisterError(f"{path}：{error}") from None

    def fail_at(loc: list[object], message: str) -> NoReturn:
        raise SampleRegisterError(f"{path}：{where(file_line_of(path, loc))}{message}")

    if not isinstance(raw, dict) or not isinstance(raw.get("units"), list):
        fail_at([], "格式应为 sample: true，county: 县名，units: [{name: …, industry: …, township: …, village: …}]")
    if raw.get("sample") is not True:
        fail_at(["sample"], "示例名册必须标明 sample: true")
    if raw.get("county") != county.name:
        fail_at(["county"], f"县名应与示例县相同（“{county.name}”）")
    villages = {township.name: set(township.villages) for township in county.townships}
    register = SampleRegister(county.name)
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(raw["units"]):
        loc: list[object] = ["units", index]

        def fail(message: str, key: str | None = None, loc: list[object] = loc) -> NoReturn:
            fail_at(loc + ([key] if key else []), message)

        if not isinstance(item, dict):
            fail("每个单位应为 {name: …, industry: …, township: …, village: …}")
        unknown = sorted(set(item) - FIELDS)
        if unknown:
            fail(f"不认识的字段：{'、'.join(map(str, unknown))}（可用：{'、'.join(sorted(FIELDS))}）", unknown[0])
        name = _text(item.get("name"), "单位名称（name）", lambda m: fail(m, "name"))
        if SAMPLE_MARK in name:
            fail(f"名称不必写“{SAMPLE_MARK}”：载入时自动加上", "name")
        industry = item.get("industry")
        if not isinstance(industry, str) or industry not in knowledge.checklists:
            fail(f"行业“{industry}”不在行业清单中（可用：{'、'.join(knowledge.checklists)}）", "industry")
        township = item.get("township")
        if not isinstance(township, str) or township not in villages:
            fail(f"乡镇“{township}”不在示例县中", "township")
        village = item.get("village")
        if not isinstance(village, str) or village not in villages[township]:
            fail(f"村“{village}”不在示例县的{township}中", "village")
        if (village, name) in seen:
            fail(f"{township}{village}已有同名单位“{name}”", "name")
        seen.add((village, name))
        unit = SampleUnit(
            name=name + SAMPLE_MARK,
            industry=industry,
            township=township,
            village=village,
            operator=_text(item.get("operator"), "经营者（operator）", lambda m: fail(m, "operator")),
            address=_text(item.get("address"), "地址（address）", lambda m: fail(m, "address")),
        )
        if "check" in item:

            def fail_check(message: str, key: str | None = None, at: list[object] = loc + ["check"]) -> NoReturn:
                fail_at(at + ([key] if key else []), message)

            unit.inspection = _inspection(item["check"], knowledge.checklists[industry], today, now, fail_check)
        register.units.append(unit)
    return register


def _inspection(check: Any, checklist: Checklist, today: date, now: datetime, fail: Fail) -> SampleInspection:
    if not isinstance(check, dict):
        fail("check 应为 {days: 天数, result: 达标|整改|关停, review: 已通过|待审核}")
    unknown = sorted(set(check) - CHECK_FIELDS)
    if unknown:
        fail(f"不认识的字段：{'、'.join(map(str, unknown))}（可用：{'、'.join(sorted(CHECK_FIELDS))}）", unknown[0])
    days = check.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        fail(f"days 应为 1 到 {MAX_DAYS} 之间的整数（几天前检查）", "days")
    # a YAML list or mapping here is unhashable: checked as text before the lookup, so it gets the Chinese error
    result, review = check.get("result"), check.get("review")
    unit_class = RESULTS.get(result) if isinstance(result, str) else None
    if unit_class is None:
        fail(f"result 应为 {'、'.join(RESULTS)} 之一", "result")
    status = REVIEWS.get(review) if isinstance(review, str) else None
    if status is None:
        fail(f"review 应为 {'、'.join(REVIEWS)} 之一", "review")
    due = check.get("due")
    rectify_by = None
    if unit_class == UnitClass.RECTIFY:
        if not isinstance(due, int) or isinstance(due, bool) or not -MAX_DAYS <= due <= MAX_DAYS:
            fail(f"结果为整改时须写 due：整改期限距今天的天数（-{MAX_DAYS} 到 {MAX_DAYS}，负数为已逾期）", "due")
        rectify_by = today + timedelta(days=due)
    elif due is not None:
        fail("只有结果为整改时才写 due（整改期限）", "due")
    answers, notes = answers_for(checklist, unit_class)
    return SampleInspection(
        submitted_at=now - timedelta(days=days),
        compliant=unit_class == UnitClass.UPGRADE,
        unit_class=unit_class,
        status=status,
        rectify_by=rectify_by,
        answers=answers,
        notes=notes,
    )
