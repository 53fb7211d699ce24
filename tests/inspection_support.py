"""Shared set-up for inspection tests: units in the sample county and a cadre walking through a report."""

from __future__ import annotations

from storage.areas import find_area
from storage.db import Database
from storage.models import AreaLevel
from storage.units import UnitFields, upsert_unit
from tests.chat_driver import Person


async def add_unit(db: Database, clock, village: str, name: str, industry: str = "small_restaurant") -> int:
    async with db.transaction() as session:
        area = await find_area(session, village, AreaLevel.VILLAGE)
        unit, _ = await upsert_unit(session, area, UnitFields(name=name, industry=industry), clock.now())
        return unit.id


async def answer_checklist_with_one_failure(cadre: Person, note: str = "营业执照未悬挂在显眼处") -> None:
    """First item passes, second fails with a note, the rest pass; the gas screening question is answered."""
    assert "检查第1/" in cadre.last.text
    await cadre.press("✓ 符合")
    assert "检查第2/" in cadre.last.text
    await cadre.press("✗ 不符合")
    assert "请简要说明不符合的情况" in cadre.last.text
    await cadre.text(note)
    await cadre.press("余下各项均符合")
    assert "燃气" in cadre.last.text  # a screening question is still asked
    await cadre.press("是")
    await cadre.press("✓ 符合")  # the follow-up item the screening answer made relevant
    assert "请拍摄现场照片" in cadre.last.text


async def answer_one_failure(cadre: Person, note: str = "营业执照未悬挂在显眼处") -> None:
    """The checklist with item 2 failing: from scratch, or (a unit being put right since its last report failed
    that item) as a re-inspection from that report."""
    if "上次检查（" in cadre.last.text:
        await answer_reinspection_still_failing(cadre, note)
    else:
        await answer_checklist_with_one_failure(cadre, note)


async def answer_reinspection_still_failing(cadre: Person, note: str = "营业执照未悬挂在显眼处") -> None:
    """A re-inspection of a unit whose last report failed item 2 (common.scope): it is asked first and fails again;
    every other answer is kept as carried over (沿用上次)."""
    assert "检查第2/" in cadre.last.text and "上次检查（" in cadre.last.text, cadre.last.text
    await cadre.press("✗ 不符合")
    await cadre.text(note)
    assert "沿用上次检查结果" in cadre.last.text, cadre.last.text
    await cadre.press(next(label for label in cadre.buttons() if label.startswith("全部沿用")))
    assert "请拍摄现场照片" in cadre.last.text


async def report_up_to_the_class(cadre: Person, unit: str = "老王小吃店") -> None:
    """检查上报 on a unit, one failing item, no photo, no location, the suggested result agreed: the class step."""
    await cadre.press("检查上报")
    await cadre.press(unit)
    await answer_checklist_with_one_failure(cadre)
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    await cadre.press("同意此判定")
