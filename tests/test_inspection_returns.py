"""What a report does to its unit's register entry, and so to the digest: applied when submitted, undone when the
township returns it, applied again when the correction is submitted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage import inspections
from storage.areas import find_area
from storage.digest import compute_digest
from storage.inspection_models import Inspection, Unit, UnitStatus
from storage.models import AreaLevel, Role, User
from storage.units import UnitFields, upsert_unit
from tests.chat_driver import register
from tests.inspection_support import add_unit, report_up_to_the_class


async def township_figures(db, clock) -> tuple[int, int, dict[str, int]]:
    """岩头镇's 达标率 (units to standard, units in the base) and its units by status, as the digest counts them."""
    async with db.transaction() as session:
        digest = await compute_digest(session, await find_area(session, "岩头镇", AreaLevel.TOWNSHIP), clock.now())
    return digest.share.part, digest.share.whole, {k: v for k, v in digest.status_counts.items() if v}


async def unit_entry(db, unit_id: int) -> tuple[str, str | None, date | None]:
    async with db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        return unit.status, unit.unit_class, unit.rectify_by


async def test_a_returned_shutdown_report_puts_the_unit_back_as_it_was(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    async with db.transaction() as session:  # a unit to standard from the register, so the rate has a base
        village = await find_area(session, "芙蓉村", AreaLevel.VILLAGE)
        await upsert_unit(
            session, village, UnitFields("芙蓉面馆", "small_restaurant", status=UnitStatus.COMPLIANT), clock.now()
        )
    official = await register(core, db, clock, 631, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 632, Role.CADRE, "芙蓉村", "李建国")
    assert await township_figures(db, clock) == (1, 2, {"compliant": 1, "unchecked": 1})

    await report_up_to_the_class(cadre)
    await cadre.press("关停取缔类")
    await cadre.press("✅ 提交")
    # Counted at once, before review: 待关停, still in the base and not to standard (only a verified closure
    # takes a unit out of it, tests/test_closures.py).
    assert await township_figures(db, clock) == (1, 2, {"compliant": 1, "pending_closure": 1})

    await official.press("审核检查报告")
    await official.press(official.buttons()[0])
    await official.press("退回修改")
    await official.text("该店证照齐全，不应关停取缔，请核实分类")
    assert await unit_entry(db, unit_id) == ("unchecked", None, None)
    assert await township_figures(db, clock) == (1, 2, {"compliant": 1, "unchecked": 1})

    async with db.transaction() as session:
        returned = (await session.scalars(select(Inspection))).one()
    await cadre.press_data(f"m.fix.{returned.id}")
    await cadre.press("修改分类")
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    await cadre.press("确认")
    await cadre.press("✅ 提交")
    assert await unit_entry(db, unit_id) == ("rectifying", "rectify", date(2026, 5, 13))
    assert await township_figures(db, clock) == (1, 2, {"compliant": 1, "rectifying": 1})


async def test_returning_puts_back_the_entry_before_the_reports_that_no_longer_count(db, clock):
    """Reports are applied in the order they were submitted; returning one undoes it only if no newer report
    counts, and then back to before every report that no longer counts (here: what the register import said)."""
    async with db.transaction() as session:
        village = await find_area(session, "芙蓉村", AreaLevel.VILLAGE)
        unit, _ = await upsert_unit(
            session,
            village,
            UnitFields("老王小吃店", "small_restaurant", status=UnitStatus.RECTIFYING, unit_class="rectify"),
            clock.now(),
        )
        unit.rectify_by = date(2026, 6, 1)
        cadre = User(channel_user_id=1, role=Role.CADRE, created_at=clock.now(), last_seen_at=clock.now())
        official = User(channel_user_id=2, role=Role.TOWNSHIP, created_at=clock.now(), last_seen_at=clock.now())
        session.add_all([cadre, official])
        await session.flush()
        imported = (unit.status, unit.unit_class, unit.rectify_by)

        async def report(
            key: str,
            compliant: bool,
            unit_class: str,
            previous: Inspection | None = None,
            rectify_by: date | None = None,
        ) -> Inspection:
            fields = inspections.Report(
                unit_id=unit.id,
                submit_key=key,
                industry="small_restaurant",
                answers={},
                notes={},
                proposed_compliant=compliant,
                compliant=compliant,
                unit_class=unit_class,
                rectify_by=rectify_by,
                previous_id=previous.id if previous else None,
            )
            return (await inspections.submit(session, fields, cadre.id, clock.now()))[0]

        def entry() -> tuple[str, str | None, date | None]:
            return unit.status, unit.unit_class, unit.rectify_by

        first = await report("a", True, "upgrade")
        second = await report("b", False, "shutdown")
        assert entry() == ("pending_closure", "shutdown", None)
        await inspections.send_back(session, first, official, "照片不清楚", clock.now())
        assert entry() == ("pending_closure", "shutdown", None)  # the newer report still counts
        await inspections.send_back(session, second, official, "分类有误", clock.now())
        assert entry() == imported  # neither counts: back to before the first of them, not to the first's result

        corrected = await report("c", False, "rectify", previous=second, rectify_by=date(2026, 5, 20))
        assert entry() == ("rectifying", "rectify", date(2026, 5, 20))
        inspections.approve(corrected, official, clock.now())
        await report("d", True, "upgrade")
        assert entry() == ("compliant", "upgrade", None)
        latest = await report("e", False, "shutdown")
        await inspections.send_back(session, latest, official, "分类有误", clock.now())
        assert entry() == ("compliant", "upgrade", None)  # "d" is waiting for review: it still counts
