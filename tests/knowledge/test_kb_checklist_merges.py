"""Checklists without contradictions: one topic once per checklist, every merge of overlapping items resolvable for
older reports, a load-time refusal (file and line, in Chinese) of a checklist that asks one thing twice, and a count
(第n/N项) that never jumps."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.xlsx_exports import item_rows
from knowledge import checklist_rules
from knowledge.checklists import load_checklists
from knowledge.models import KnowledgeError
from storage.inspection_models import Inspection
from storage.inspections import Report, submit
from storage.models import Role
from storage.users import get_by_channel_id
from tests.chat_driver import register
from tests.inspection_support import add_unit
from tests.knowledge.kb_support import copy_data, edit

CHECKLISTS = load_checklists()

# (industry, old id, the item that asks it now, what the old item asked): each overlap found in the review.
MERGES = [
    (
        "small_restaurant",
        "rest.annual_checkup",
        "common.health_cert",
        "从业人员每年进行健康检查",
    ),  # health certificates
    ("small_restaurant", "common.display", "rest.publicity", "营业执照和各类许可证在经营场所醒目位置悬挂（亮证亮照）"),
    ("small_restaurant", "common.records", "rest.sourcing", "建立本行业要求的管理制度和台账"),  # purchase records
    ("small_restaurant", "rest.layout", "rest.zones", "加工区与就餐区分开，生熟食品分开加工存放"),  # vs the fridge item
    (
        "small_restaurant",
        "rest.gas_safe",
        "rest.gas_use_safe",
        "燃气使用规范（气瓶、管线、阀门完好，通风良好），厨房配有灭火器",
    ),  # vs 灭火器
    ("small_grocery", "groc.clear_stock", "groc.no_expired", "定期检查库存，及时清理变质和过期食品"),
    ("small_grocery", "common.records", "groc.purchase_ledger", "建立本行业要求的管理制度和台账"),
    ("small_food_workshop", "common.records", "work.purchase_records", "建立本行业要求的管理制度和台账"),
    (
        "small_food_workshop",
        "common.no_three_in_one",
        "work.site",
        "无“三合一”：住人与经营、生产、仓储不在同一空间混用",
    ),
    ("small_pharmacy", "common.records", "pharm.acceptance_records", "建立本行业要求的管理制度和台账"),
    ("small_clinic", "common.records", "clinic.records", "建立本行业要求的管理制度和台账"),
    ("small_clinic", "common.display", "clinic.display", "营业执照和各类许可证在经营场所醒目位置悬挂（亮证亮照）"),
    ("small_clinic", "common.scope", "clinic.scope", "实际经营项目与执照、许可证核定的范围一致，不超范围经营"),
    (
        "small_beauty_salon",
        "common.scope",
        "beauty.no_hidden_rooms",
        "实际经营项目与执照、许可证核定的范围一致，不超范围经营",
    ),
    ("small_karaoke_dance_hall", "common.records", "ktv.logs", "建立本行业要求的管理制度和台账"),
    ("small_internet_cafe", "common.records", "net.id_check", "建立本行业要求的管理制度和台账"),
    ("small_internet_cafe", "net.permit", "net.culture_permit", "持有网络文化经营许可证，并在醒目位置悬挂"),
    ("small_internet_cafe", "net.no_locked_exits", "net.no_bars", "不设封闭门窗和栅栏，营业期间不锁闭安全出口"),
    ("small_internet_cafe", "net.fire_light_smoke", "net.emergency_light", "配有灭火器和应急照明，设置禁烟标志"),
    ("small_hotel", "common.records", "hotel.security", "建立本行业要求的管理制度和台账"),
    ("small_hotel", "hotel.fire_and_theft", "hotel.anti_theft", "消防设施、出入口和通道符合规定，有防盗设施"),
]


@pytest.mark.parametrize(("slug", "old", "successor", "text"), MERGES, ids=[f"{m[0]}:{m[1]}" for m in MERGES])
def test_each_merge_asks_once_and_keeps_the_old_id_readable(slug: str, old: str, successor: str, text: str):
    checklist = CHECKLISTS[slug]
    ids = [item.id for item in checklist.items]
    assert old not in ids and successor in ids
    assert checklist.resolve(old) == successor and checklist.text_of(old) == text
    topic = checklist.item(successor).topic
    assert [item.id for item in checklist.items if item.topic == topic] == [successor]
    # an older report that answered the old item: its export row reads as asked, numbered with its successor
    number = ids.index(successor) + 1
    rows = item_rows(checklist, {old: "fail"}, {old: "说明"})
    assert rows == [[number, f"{text}（已并入第{number}项）", "不符合", "说明"]]


def test_no_checklist_asks_one_topic_twice():
    for slug, checklist in CHECKLISTS.items():
        repeated = [topic for topic, n in Counter(item.topic for item in checklist.items).items() if n > 1]
        assert repeated == [], slug


def test_a_corrected_older_report_carries_its_answers_to_todays_items():
    rest = CHECKLISTS["small_restaurant"]
    answers, notes = rest.carried_over(
        {"common.health_cert": "pass", "rest.annual_checkup": "fail", "common.display": "pass", "rest.layout": "na"},
        {"rest.annual_checkup": "两人体检过期"},
    )
    assert answers == {"common.health_cert": "fail", "rest.publicity": "pass", "rest.zones": "na"}
    assert notes == {"common.health_cert": "两人体检过期"}
    assert rest.carried_over({"rest.publicity": "fail", "common.display": "pass"}, {}) == (
        {"rest.publicity": "fail"},
        {},
    )


def test_the_count_is_the_same_on_every_item():
    for slug, checklist in CHECKLISTS.items():
        total = checklist.total
        shown = [checklist.position(item.id) for item in checklist.items]
        assert [n for n, _ in shown] == sorted(n for n, _ in shown), slug  # never goes back
        assert max(n for n, _ in shown) == total, slug
        gates = sum(1 for item in checklist.items if item.relevant_item is None)
        assert total == gates
    bath = CHECKLISTS["small_bathhouse"]
    assert bath.position("bath.has_pool") == bath.position("bath.pool_water")[:1] + (0,)
    assert bath.position("bath.pool_water")[1] == 1


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_a_checklist_asking_one_thing_twice_is_refused_with_file_and_line(tmp_path):
    data = copy_data(tmp_path)
    restaurant = data / "industries" / "small_restaurant.yaml"
    edit(restaurant, "    replaces: [common.display]\n", "")
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    message = str(info.value)
    assert f"industries/small_restaurant.yaml 第{_line_of(restaurant, 'id: rest.publicity')}行" in message
    assert f"common.yaml 第{_line_of(data / 'common.yaml', 'id: common.display')}行" in message
    assert "亮证亮照" in message and "同一事项只能问一次" in message and "replaces" in message


def test_two_industry_items_on_one_topic_are_refused(tmp_path):
    data = copy_data(tmp_path)
    grocery = data / "industries" / "small_grocery.yaml"
    edit(grocery, "    topic: supplier_check\n", "    topic: records\n")
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    message = str(info.value)
    assert f"第{_line_of(grocery, 'id: groc.purchase_ledger')}行" in message and "groc.check_supplier" in message
    assert "retired" in message


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "industries/small_grocery.yaml",
            "    topic: food_permit\n",
            "    topic: food_permt\n",
            "topic: food_permt 不在 common.yaml 的 topics 中",
        ),
        (
            "industries/small_grocery.yaml",
            "    replaces: [common.records]\n",
            "    replaces: [groc.permit]\n",
            "replaces: groc.permit 不是共性检查项",
        ),
        (
            "industries/small_hotel.yaml",
            "    topic: records\n    replaces: [common.records]\n",
            "    topic: records\n    replaces: [common.business_licence]\n",
            "也必须是一票否决项",
        ),
        (
            "industries/small_restaurant.yaml",
            "into: rest.zones",
            "into: rest.zone",
            "into: rest.zone 不是本检查表中的检查项",
        ),
        ("industries/small_restaurant.yaml", "{id: rest.layout,", "{id: rest.fridge,", "仍在本检查表中"),
        (
            "common.yaml",
            "    topic: wiring\n",
            "    topic: wiring\n    replaces: [common.exits]\n",
            "replaces 只能用在行业",
        ),
    ],
)
def test_broken_merge_data_is_explained(tmp_path, file: str, old: str, new: str, expected: str):
    data = copy_data(tmp_path)
    edit(data / file, old, new)
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    assert expected in str(info.value) and "第" in str(info.value) and "行" in str(info.value), str(info.value)


def test_a_follow_up_must_stay_under_its_screening_question(tmp_path):
    data = copy_data(tmp_path)
    pharmacy = data / "industries" / "small_pharmacy.yaml"
    text = pharmacy.read_text(encoding="utf-8")
    start = text.index("  - id: pharm.rx_separate\n")
    end = text.index("  - id: pharm.legal_sourcing\n")
    block = text[start:end]
    text = text[:start] + text[end:]
    anchor = "  - id: pharm.sells_split\n"
    pharmacy.write_text(text.replace(anchor, block + anchor), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    assert "pharm.rx_separate" in str(info.value) and "紧跟在筛选题 pharm.sells_rx 之后" in str(info.value)


async def test_the_count_shown_in_the_chat_never_jumps(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 1801, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    shown: list[tuple[int, int]] = []
    while (found := re.search(r"检查第(\d+)/(\d+)项", cadre.last.text)) is not None:
        shown.append((int(found[1]), int(found[2])))
        assert "项：\n" in cadre.last.text or "）：\n" in cadre.last.text  # the item on a line of its own
        await cadre.press("是" if "是否" in cadre.last.text else "✓ 符合")
    totals = {total for _, total in shown}
    assert totals == {CHECKLISTS["small_restaurant"].total}  # the gas follow-up did not change N
    assert [n for n, _ in shown] == sorted(n for n, _ in shown)
    assert "补充1" in "".join(r.text for r in cadre.replies)  # the follow-up is numbered under its question


async def test_a_report_made_before_a_merge_is_reviewed_and_corrected_as_it_was_asked(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 1811, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 1812, Role.CADRE, "芙蓉村", "李建国")
    async with db.transaction() as session:
        inspector = await get_by_channel_id(session, 1812)
        old = {item.id: "pass" for item in CHECKLISTS["small_restaurant"].items}
        old.update({"rest.annual_checkup": "fail", "common.display": "pass"})
        report = Report(
            unit_id=unit_id,
            submit_key="before-merge",
            industry="small_restaurant",
            answers=old,
            notes={"rest.annual_checkup": "两名厨师体检过期"},
            proposed_compliant=False,
            compliant=False,
            unit_class="rectify",
            rectify_by=clock.now().date(),
        )
        await submit(session, report, inspector.id, clock.now())
    await official.press("审核检查报告")
    await official.press(official.buttons()[0])
    assert "✗ 从业人员每年进行健康检查：两名厨师体检过期" in official.last.text  # as it was asked then
    await official.press("退回修改")
    await official.text("请补充照片")
    async with db.transaction() as session:
        returned = (await session.scalars(select(Inspection))).one()
    await cadre.press_data(f"m.fix.{returned.id}")
    summary = cadre.last.text
    assert "从业人员持有有效健康证明" in summary or "健康证明" in summary  # carried to today's item, still failing
    assert "两名厨师体检过期" in summary


def test_lines_are_found_only_for_an_error(tmp_path, monkeypatch):
    """A valid checklist is parsed once: its file is composed again for line numbers only when a message needs one,
    and that message still names the exact line (of the item a replaces or retired error is about)."""
    composed: list[str] = []
    real = checklist_rules.item_lines
    monkeypatch.setattr(checklist_rules, "item_lines", lambda path: composed.append(path.name) or real(path))
    load_checklists(copy_data(tmp_path / "valid"))
    assert composed == []
    data = copy_data(tmp_path / "broken")
    grocery = data / "industries" / "small_grocery.yaml"
    edit(grocery, "    replaces: [common.records]\n", "    replaces: [common.records, common.records]\n")
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    line = _line_of(grocery, "id: groc.purchase_ledger")
    assert str(info.value).startswith(f"industries/small_grocery.yaml 第{line}行：检查项 groc.purchase_ledger：")
    assert "已被 groc.purchase_ledger 取代" in str(info.value) and composed == ["small_grocery.yaml"]
    restaurant = data / "industries" / "small_restaurant.yaml"
    edit(grocery, "    replaces: [common.records, common.records]\n", "    replaces: [common.records]\n")
    edit(restaurant, "{id: rest.layout, into: rest.zones", "{id: rest.layout, into: rest.zone")
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    line = _line_of(restaurant, "id: rest.layout, into: rest.zone,")
    assert str(info.value) == (
        f"industries/small_restaurant.yaml 第{line}行：retired 中的 rest.layout：into: rest.zone 不是本检查表中的检查项"
    )
