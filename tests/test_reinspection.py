"""Issue 15, item 5: the re-inspection of a unit with open items starts from its last report. The failed items are
asked first, the rest are carried over (沿用上次, with the day) and may be checked again one by one; the stored
report, the review screen and the export say which answers were carried over; forged and replayed buttons on the
carried list change nothing."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from bot.web.pages_main import _items
from bot.xlsx_exports import item_rows
from handlers.assembly import shipped_knowledge
from storage.areas import find_area
from storage.digest import compute_digest
from storage.inspection_models import Inspection, Unit, UnitStatus
from storage.models import AreaLevel, Role
from tests.chat_driver import register
from tests.inspection_support import add_unit
from tests.owner_support import inspect_with_one_failure, owner_core


async def reports(db) -> list[Inspection]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Inspection).order_by(Inspection.id)))


async def start_reinspection(cadre) -> None:
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    if "仍要开始新的检查吗" in cadre.last.text:  # the first report still waits for the township's review
        await cadre.press("继续检查")


async def township_share(db, clock) -> tuple[int, int]:
    async with db.transaction() as session:
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        digest = await compute_digest(session, township, clock.now())
        return digest.share.part, digest.share.whole


async def test_the_failed_item_comes_first_the_rest_are_carried_and_one_is_checked_again(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    township = await register(core, db, clock, 7401, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 7402, Role.CADRE, "芙蓉村", "李建国")
    await inspect_with_one_failure(cadre)
    first = (await reports(db))[0]
    assert await township_share(db, clock) == (0, 1)
    clock.advance(timedelta(days=3))

    await start_reinspection(cadre)
    text = cadre.last.text
    assert "检查第2/" in text and "实际经营项目与执照" in text, text  # the failed item, not item 1
    day = first.submitted_at.astimezone(clock.tz).date().isoformat()
    assert f"上次检查（{day}）不符合" in text
    await cadre.press("✓ 符合")
    carried_list = cadre.last
    assert "沿用上次检查结果" in carried_list.text
    labels = [choice.label for choice in carried_list.choices]
    carried_count = len(first.answers) - 1
    assert labels[0] == f"全部沿用，继续（{carried_count}项）" and len(labels) == carried_count + 1
    assert all(f"（{day}）" in label for label in labels[1:])

    # A forged item id, and the replayed press of an item already checked again: refused, nothing changes.
    await cadre.press(labels[1])  # item 1: asked again
    assert "沿用上次" in cadre.last.text and "请重新检查此项" in cadre.last.text and "检查第1/" in cadre.last.text
    reopen = next(c.data for c in carried_list.choices if c.label == labels[1])
    await cadre.press("✓ 符合")
    assert f"全部沿用，继续（{carried_count - 1}项）" in cadre.buttons()
    nonce = cadre.last.choices[0].data.split(".", 1)[0]  # the carried list now on screen
    await cadre.press_data(f"{nonce}.common.not_an_item")  # forged: an item that is not on the list
    assert "这个按钮无效" in cadre.last.text, cadre.last.text
    await cadre.press_data(f"{nonce}.{first_item(first)}")  # forged: the item already checked again
    assert "这个按钮无效" in cadre.last.text, cadre.last.text
    await cadre.press_data(reopen)  # the earlier list's button, replayed
    assert "这个按钮已过期" in cadre.last.text or "这个按钮无效" in cadre.last.text, cadre.last.text
    await cadre.press(f"全部沿用，继续（{carried_count - 1}项）")
    assert "请拍摄现场照片" in cadre.last.text
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    assert "各项检查均符合" in cadre.last.text
    await cadre.press("同意此判定")
    await cadre.press("整合提升类（建议）")
    summary = cadre.last.text
    assert "【检查报告摘要】" in summary and f"沿用上次（{day}）检查结果：{carried_count - 1}项" in summary
    assert f"逐项查看沿用项（{carried_count - 1}项）" in cadre.buttons()
    await cadre.press("✅ 提交")
    assert "已提交" in cadre.last.text

    second = (await reports(db))[-1]
    assert second.answers["common.scope"] == "pass"
    assert set(second.carried_over) == set(first.answers) - {"common.scope", first_item(first)}
    assert set(second.carried_over.values()) == {day}
    async with db.transaction() as session:
        assert (await session.get(Unit, unit_id)).status == UnitStatus.COMPLIANT
    assert await township_share(db, clock) == (1, 1)
    # The export and the review screen say which answers were carried over.
    knowledge = shipped_knowledge()
    rows = item_rows(knowledge.checklists["small_restaurant"], second.answers, second.notes, second.carried_over)
    marked = [row for row in rows if f"沿用上次 {day}" in str(row[2])]
    assert len(marked) == carried_count - 1
    page = _items(SimpleNamespace(knowledge=knowledge), second)  # the web console's review page, line by line
    assert sum(f"（沿用上次 {day}）" in line.answer for line in page) == carried_count - 1
    await township.press_data(f"m.review.{second.id}")
    assert f"沿用上次（{day}）检查结果：{carried_count - 1}项" in township.last.text


def first_item(report: Inspection) -> str:
    return next(iter(report.answers))


async def test_a_unit_without_open_items_is_inspected_from_scratch(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 7402, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    assert "检查第1/" in cadre.last.text and "沿用" not in cadre.last.text
