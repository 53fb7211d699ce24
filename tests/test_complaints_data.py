"""Complaint data files: the shipped ones load; broken ones are refused with file and entry named in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.complaints.categories import (
    DEFAULT_CATEGORIES,
    INDUSTRIES,
    CategoryDataError,
    known_industries,
    load_config,
)
from handlers.complaints.workdays import DEFAULT_HOLIDAYS, HolidayDataError, load_calendar
from handlers.texts import Texts
from storage.complaint_models import ComplaintStatus, EventKind

GOOD_COUNTY = "county:\n  name: 测试县\n  bounds: {south: 27.9, north: 28.6, west: 120.4, east: 121.0}\n"


def test_the_shipped_categories_and_holidays_load():
    config = load_config()
    assert [c.name for c in config.categories][:6] == [
        "无证经营",
        "食品过期变质",
        "卫生条件差",
        "未成年人进入网吧/歌舞厅",
        "消防隐患",
        "非法行医/药品问题",
    ]
    assert config.category("minors").industries == {"small_internet_cafe", "small_karaoke_dance_hall"}
    assert config.category("unlicensed").industries == set(INDUSTRIES)
    assert config.category("medical").office == "county"
    assert config.bounds.contains(28.15, 120.69) and not config.bounds.contains(30.27, 120.15)  # 杭州
    assert config.calendar.years == set() and config.calendar.covers(2026)  # the official schedule, no override


def test_the_industry_list_agrees_with_the_knowledge_base():
    assert set(known_industries()) == set(INDUSTRIES)


def test_every_status_and_event_has_a_text():
    texts = Texts.load()
    for status in ComplaintStatus:
        assert texts(f"complaint_status_{status}")
    for kind in (EventKind.REOPENED, EventKind.FEEDBACK, EventKind.ESCALATED):
        assert texts(f"complaint_event_{kind}", when="x")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - {id: 无证, name: 无证经营, industries: all, days: 5}", "categories[0]: id 应为小写英文字母"),
        ("  - {id: x, name: 无证经营, industries: [small_bar], days: 5}", "categories[0]（x）: 未知行业 ['small_bar']"),
        ("  - {id: x, name: 无证经营, industries: all, days: 0}", "categories[0]（x）: days（办理时限，工作日）"),
        ("  - {id: x, name: 无证经营, industries: all, days: 5, office: city}", "office 应为 township"),
        ("  - {id: x, name: '', industries: all, days: 5}", "name 不能为空"),
        (
            "  - {id: x, name: 甲, industries: all, days: 5}\n  - {id: x, name: 乙, industries: all, days: 5}",
            "类别 x（乙）重复",
        ),
    ],
)
def test_broken_categories_name_the_file_and_entry(tmp_path: Path, entry: str, message: str):
    path = tmp_path / "complaint_categories.yaml"
    path.write_text(f"{GOOD_COUNTY}categories:\n{entry}\n", encoding="utf-8")
    with pytest.raises(CategoryDataError) as error:
        load_config(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_missing_bounds_and_unreadable_files_are_explained(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("county: {name: 测试县}\ncategories: []\n", encoding="utf-8")
    with pytest.raises(CategoryDataError, match="bounds"):
        load_config(path)
    with pytest.raises(CategoryDataError, match="无法读取投诉类别文件"):
        load_config(tmp_path / "missing.yaml")
    assert DEFAULT_CATEGORIES.exists() and DEFAULT_HOLIDAYS.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "2026:\n  holidays:\n    - {name: 国庆节, from: 2026-10-07, to: 2026-10-01}\n",
            "holidays[0]（国庆节）: 起止日期有误",
        ),
        ("2026:\n  holidays:\n    - {name: 春节, from: 2026-02-30, to: 2026-03-01}\n", "文件中有不存在的日期"),
        ("2026:\n  workdays: [2026-05-08]\n", "workdays[0]: 2026-05-08 不是周末"),
        ("2026:\n  workdays: ['5月9日']\n", "日期“5月9日”格式不对"),
        ("2026:\n  off:\n    - {name: 元旦, from: 2026-01-01, to: 2026-01-03}\n", "只能包含 holidays"),
        (
            "2026:\n  holidays:\n    - {name: 端午节, from: 2026-06-19, to: 2026-06-21}\n  workdays: [2026-06-20]\n",
            "2026-06-20 同时被列为放假和上班",
        ),
        ("next:\n  workdays: []\n", "年份应为四位数字"),
    ],
)
def test_broken_holidays_name_the_file_and_entry(tmp_path: Path, body: str, message: str):
    path = tmp_path / "holidays.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(HolidayDataError) as error:
        load_calendar(path)
    assert str(path) in str(error.value) and message in str(error.value)
