"""Issue 15, item 6: the owner's 自查 from the unit card. Stored apart from inspections (it never moves the
digest's 达标率 or the unit's status), it ends with the items that would fail and the guidance for each, and the
last one shows on the card of the owner, the village's cadre and the township. An owner cannot run it on another
unit, and one left midway stores nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from storage import owners
from storage.areas import find_area
from storage.conversations import load_conversation
from storage.digest import compute_digest
from storage.inspection_models import Inspection, Unit, UnitStatus
from storage.models import AreaLevel, Role, User
from storage.owner_models import SelfCheck
from tests.chat_driver import Person, register
from tests.inspection_support import add_unit
from tests.owner_support import owner_core

OWNER = 7501


async def an_owner(core, db, clock, unit_id: int) -> Person:
    owner = await register(core, db, clock, OWNER, Role.OPERATOR, "芙蓉村", "王老板")
    async with db.transaction() as session:
        user = await session.scalar(select(User).where(User.channel_user_id == OWNER))
        await owners.bind(session, unit_id, user.id, clock.now())
    return owner


async def stored(db) -> tuple[int, int]:
    async with db.transaction() as session:
        return (
            int(await session.scalar(select(func.count(SelfCheck.id)))),
            int(await session.scalar(select(func.count(Inspection.id)))),
        )


async def digest_numbers(db, clock) -> tuple[int, int, int, dict[str, int]]:
    async with db.transaction() as session:
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        digest = await compute_digest(session, township, clock.now())
        return digest.share.part, digest.share.whole, digest.inspections_this_week, dict(digest.status_counts)


async def run_self_check_with_one_failure(owner: Person) -> None:
    """自查 on the card: item 2 would fail, everything else passes, gas used."""
    await owner.press("我的单位")
    card = owner.replies[-2]
    await owner.press_data(next(choice.data for choice in card.choices if choice.label == "自查"))
    assert "【自查·老王小吃店】第1/" in owner.last.text, owner.last.text
    await owner.press("查看说明")
    assert "说明：" in owner.last.text and "第1/" in owner.last.text
    await owner.press("✓ 符合")
    assert "第2/" in owner.last.text
    await owner.press("✗ 不符合")
    while "【自查结果】" not in owner.last.text:
        await owner.press("是" if "是" in owner.buttons() else "✓ 符合")


async def test_a_self_check_ends_with_guidance_is_seen_by_officials_and_counts_nowhere(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    township = await register(core, db, clock, 7502, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 7503, Role.CADRE, "芙蓉村", "李建国")
    owner = await an_owner(core, db, clock, unit_id)
    before = await digest_numbers(db, clock)
    assert before[:3] == (0, 1, 0)

    await run_self_check_with_one_failure(owner)
    result = owner.last.text
    assert "不符合1项" in result and "不计入达标率" in result
    assert "可能不符合：实际经营项目与执照、许可证核定的范围一致" in result and "怎么整改：" in result
    assert "依据：" in result
    assert await stored(db) == (1, 0)
    assert await digest_numbers(db, clock) == before  # no 达标率, no inspection this week, no status moved
    async with db.transaction() as session:
        assert (await session.get(Unit, unit_id)).status == UnitStatus.UNCHECKED

    for person in (owner, cadre, township):
        await person.press_data(f"m.unit_card.{unit_id}")
        card = person.replies[-2].text
        assert "最近自查：" in card and "不计入达标率" in card and "可能不符合1项" in card, card
        assert "实际经营项目与执照" in card
    assert "自查" in [choice.label for choice in owner.replies[-2].choices]
    assert "自查" not in [choice.label for choice in cadre.replies[-2].choices]


async def test_another_units_self_check_is_refused_and_one_left_midway_stores_nothing(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    other_id = await add_unit(db, clock, "芙蓉村", "芙蓉面馆")
    cadre = await register(core, db, clock, 7503, Role.CADRE, "芙蓉村", "李建国")
    owner = await an_owner(core, db, clock, unit_id)

    await owner.press_data(f"m.self_check.{other_id}")  # a forged button: the neighbour's unit
    assert "芙蓉面馆" not in owner.last.text and "自查·" not in owner.last.text
    await owner.press_data("m.self_check.99999")
    assert "自查·" not in owner.last.text
    await cadre.press_data(f"m.self_check.{unit_id}")  # a cadre does not run the owner's 自查
    assert "自查·" not in cadre.last.text
    assert await stored(db) == (0, 0)

    await owner.press_data(f"m.self_check.{unit_id}")
    await owner.press("✓ 符合")
    await owner.press("✗ 不符合")
    async with db.transaction() as session:
        user_id = await session.scalar(select(User.id).where(User.channel_user_id == OWNER))
        assert (await load_conversation(session, user_id)) is not None  # under way
    await owner.command("cancel")  # left midway
    if "确定放弃" in owner.buttons():
        await owner.press("确定放弃")
    async with db.transaction() as session:
        assert (await load_conversation(session, user_id)) is None
    await owner.press("我的单位")
    assert "最近自查" not in owner.replies[-2].text
    assert await stored(db) == (0, 0)
