"""What the township's review screen shows beside the report, and what a cadre is told before inspecting a unit
with a report waiting for review or an open complaint. The comparisons are tested on their own too."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from handlers.events import Kind, Photo
from handlers.formatting import cn_date, cn_datetime
from handlers.inspection.evidence import FAR_M, diff_reports, distance_m, distance_text
from storage.inspection_models import Inspection, InspectionPhoto, Unit
from storage.models import Role, User
from tests.chat_driver import register
from tests.complaints_support import file_complaint
from tests.inspection_support import add_unit, answer_one_failure

FURONG = (28.15, 120.69)


# --- distance and diff, on their own ---------------------------------------------------------------------------


def test_distance_is_the_great_circle_distance_in_metres():
    assert distance_m(FURONG, FURONG) == 0
    assert distance_m((0.0, 0.0), (0.0, 1.0)) == pytest.approx(111_195.08, abs=0.01)  # a degree on the equator
    assert distance_m((28.15, 120.69), (28.16, 120.69)) == pytest.approx(1111.95, abs=0.01)
    assert distance_m((0.0, 0.0), (0.0, 180.0)) == pytest.approx(math.pi * 6_371_008.8)
    assert distance_m(FURONG, (28.16, 120.69)) == distance_m((28.16, 120.69), FURONG)
    assert [distance_text(m) for m in (0, 349.6, 999, 1111.95, 23_456)] == [
        "0米",
        "350米",
        "999米",
        "1.1公里",
        "23.5公里",
    ]


def version(
    answers: dict[str, str], *, notes=None, rectify_by=None, compliant=False, unit_class="rectify", where=FURONG
) -> Inspection:
    return Inspection(
        answers=answers,
        notes=notes or {},
        rectify_by=rectify_by,
        compliant=compliant,
        unit_class=unit_class,
        latitude=where[0] if where else None,
        longitude=where[1] if where else None,
    )


def photos(*identities: str) -> list[InspectionPhoto]:
    return [InspectionPhoto(file_id=f"f-{identity}", file_unique_id=identity) for identity in identities]


def test_a_correction_that_changes_nothing_has_an_empty_diff():
    before = version({"a": "pass", "b": "fail"}, notes={"b": "未亮证"}, rectify_by=date(2026, 6, 1))
    after = version({"a": "pass", "b": "fail"}, notes={"b": "未亮证"}, rectify_by=date(2026, 6, 1))
    assert not diff_reports(before, after, photos("p1"), photos("p1"))


def test_the_diff_names_items_notes_verdict_class_deadline_photos_and_location():
    before = version(
        {"a": "pass", "b": "fail", "c": "fail", "d": "na"},
        notes={"b": "未亮证", "c": "无台账"},
        rectify_by=date(2026, 6, 1),
    )
    after = version(
        {"a": "fail", "b": "fail", "c": "fail", "e": "pass"},
        notes={"a": "过期", "b": "未亮证照", "c": "无台账"},
        rectify_by=date(2026, 6, 8),
        where=(28.16, 120.69),
    )
    diff = diff_reports(before, after, photos("p1", "p2"), photos("p2", "p3", "p4"))
    assert diff.items == [("a", "pass", "fail"), ("e", None, "pass"), ("d", "na", None)]
    assert diff.notes == ["b"]  # still failing, explained differently; c is unchanged
    assert diff.deadline == (date(2026, 6, 1), date(2026, 6, 8))
    assert (diff.photos_added, diff.photos_removed) == (2, 1)
    assert diff.location_changed and diff.verdict is None and diff.unit_class is None
    settled = version({"a": "pass"}, compliant=True, unit_class="upgrade")
    diff = diff_reports(after, settled, [], [])
    assert diff.verdict == (False, True) and diff.unit_class == ("rectify", "upgrade")
    assert diff.deadline == (date(2026, 6, 8), None)


def test_kept_photos_are_compared_by_their_content():
    kept = [InspectionPhoto(file_id="f1", file_unique_id="u1", sha256="ab" * 32)]
    same_picture_sent_again = [InspectionPhoto(file_id="f9", file_unique_id="u9", sha256="ab" * 32)]
    assert not diff_reports(version({}), version({}), kept, same_picture_sent_again)


# --- the review screen, through the conversation core ---------------------------------------------------------


async def send_photo(person, file_id: str) -> None:
    await person._send(kind=Kind.PHOTO, photo=Photo(file_id, f"unique-{file_id}", 1000))


async def submit_report(cadre, *, photo_ids=("p1",), location=FURONG, deadline="7天后") -> None:
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    if "仍要开始新的检查吗" in cadre.last.text:
        await cadre.press("继续检查")
    await answer_one_failure(cadre)
    for photo_id in photo_ids:
        await send_photo(cadre, photo_id)
    await cadre.press(f"完成（已传{len(photo_ids)}张）")
    if location:
        await cadre._send(kind=Kind.LOCATION, location=location)
    else:
        await cadre.press("跳过")
    await cadre.press("同意此判定")
    await cadre.press("整改规范类（建议）")
    await cadre.text(deadline)
    await cadre.press("确认")
    await cadre.press("✅ 提交")
    assert "已提交" in cadre.last.text, cadre.last.text


async def open_review(official, number: int = 0):
    await official.press("审核检查报告")
    before = len(official.replies)
    await official.press(official.buttons()[number])
    return official.replies[before:]


@pytest.mark.slow
async def test_the_reviewer_sees_photos_location_inspector_changes_history_and_complaints(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 801, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 802, Role.CADRE, "芙蓉村", "李建国")
    # An earlier report, approved: the unit's registered location comes from it.
    await submit_report(cadre, photo_ids=("p0",))
    await open_review(official)
    await official.press("通过")
    async with db.transaction() as session:
        assert (await session.get(Unit, unit_id)).latitude == FURONG[0]

    # The new report is made 1.1 km away, with two photos, at 11:17; one of them could not be kept.
    clock.advance(timedelta(hours=2, minutes=17))
    await submit_report(cadre, photo_ids=("p1", "p2"), location=(28.16, 120.69), deadline="10天后")
    clock.advance(timedelta(hours=1))  # reviewed an hour later: the screen shows when it was submitted, not now
    async with db.transaction() as session:
        await session.execute(update(InspectionPhoto).where(InspectionPhoto.file_id == "p2").values(failed=True))
        # A later rename changes no report: the reviewer sees the name and area the report was submitted under.
        await session.execute(update(User).where(User.channel_user_id == 802).values(name="李改名"))
    screen = await open_review(official)
    album, review = screen[0], screen[-1]
    assert album.photo == "p1" and "现场照片（1张）" in album.text  # the failed one cannot be shown
    assert "检查人：李建国（岩头镇芙蓉村）" in review.text and "李改名" not in review.text
    async with db.transaction() as session:
        waiting = (await session.scalars(select(Inspection).where(Inspection.status == "submitted"))).one()
    assert cn_datetime(waiting.submitted_at, clock.tz) == "2026年5月6日 11:17"
    assert "提交时间：2026年5月6日 11:17" in review.text, review.text
    assert "照片：2张" in review.text and "⚠️ 照片未能保存：1张" in review.text
    assert "距单位登记位置1.1公里" in review.text and 1111 > FAR_M and "请核实是否在现场检查" in review.text
    assert "该单位此前的检查报告（最近1份）" in review.text and "JC000001" in review.text and "已通过" in review.text
    assert "该单位没有未办结的投诉" in review.text

    # Returned, corrected (one item now passes, a photo added, the deadline moved) and submitted again.
    await official.press("退回修改")
    await official.text("第二项请复核，照片补拍")
    async with db.transaction() as session:
        returned = (await session.scalars(select(Inspection).where(Inspection.status == "returned"))).one()
    await cadre.press_data(f"m.fix.{returned.id}")
    await cadre.press("补充照片")
    await send_photo(cadre, "p3")
    await cadre.press("完成（已传3张）")
    await cadre.press("修改期限")
    await cadre.text("20天后")
    await cadre.press("确认")
    await cadre.press("✅ 提交")
    assert "-2 已提交" in cadre.last.text

    screen = await open_review(official)
    review = screen[-1]
    # An album (sendMediaGroup): the photo that failed before is a new row of this version, tried again.
    assert screen[0].album == ("p1", "p2", "p3") and "现场照片（3张）" in screen[0].text
    assert "与上一版（JC000002）相比：" in review.text
    assert "照片：新增1张，删除0张" in review.text
    today = clock.now().date()
    moved = f"整改期限：{cn_date(today + timedelta(days=10))} → {cn_date(today + timedelta(days=20))}"
    assert moved in review.text, review.text


async def test_open_complaints_about_the_unit_are_shown_to_the_reviewer_and_announced_to_the_cadre(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 811, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 812, Role.CADRE, "芙蓉村", "李建国")
    resident = await register_resident(core, 813)
    number = await file_complaint(
        resident, category="卫生条件差", unit="老王小吃店", pick="老王小吃店", description="后厨老鼠乱窜，碗筷不消毒"
    )

    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    notice = cadre.last.text
    assert "有1件未办结的投诉（卫生条件差）" in notice and "仍要开始新的检查吗" in notice
    assert "老鼠" not in notice  # a cadre is not shown the complainant's words
    await cadre.press("继续检查")
    assert "检查第1/" in cadre.last.text

    await cadre.command("cancel")
    await cadre.press("确定放弃")
    await submit_report(cadre)
    review = (await open_review(official))[-1]
    assert "该单位有1件未办结的投诉" in review.text and number in review.text and "后厨老鼠乱窜" in review.text


async def register_resident(core, user_id: int):
    from tests.chat_driver import Person

    person = Person(core, user_id)
    await person.command("start")
    return person


async def test_a_pending_report_is_announced_before_a_new_inspection_of_the_unit(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    await register(core, db, clock, 821, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 822, Role.CADRE, "芙蓉村", "李建国")
    other = await register(core, db, clock, 823, Role.CADRE, "芙蓉村", "张伟")
    await submit_report(cadre)

    await other.press("检查上报")
    await other.press("老王小吃店")
    assert "老王小吃店已有待乡镇审核的检查报告：JC000001（2026年5月6日提交）" in other.last.text
    await other.press("换一个单位")
    assert "请选择要检查的单位" in other.last.text
    # The re-inspection reminder's button starts at the unit: the notice comes first there too.
    async with db.transaction() as session:
        unit_id = (await session.scalars(select(Unit.id))).one()
    await other.command("cancel")
    await other.press("确定放弃")
    await other.press_data(f"m.inspect.{unit_id}")
    assert "已有待乡镇审核的检查报告" in other.last.text
    await other.press("继续检查")
    assert "检查第2/" in other.last.text and "上次检查（" in other.last.text  # re-inspected from that report


async def test_a_unit_with_nothing_pending_starts_its_checklist_at_once(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 831, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    assert "检查第1/" in cadre.last.text


async def test_a_review_screen_never_exceeds_telegrams_message_length(core, db, clock):
    from storage import inspections
    from storage.users import get_by_channel_id

    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 841, Role.TOWNSHIP, "岩头镇", "陈镇长")
    await register(core, db, clock, 842, Role.CADRE, "芙蓉村", "李建国")
    items = [item.id for item in core.parts.knowledge.checklists["small_restaurant"].items]
    async with db.transaction() as session:
        cadre = await get_by_channel_id(session, 842)
        report = inspections.Report(
            unit_id=unit_id,
            submit_key="long",
            industry="small_restaurant",
            answers=dict.fromkeys(items, "fail"),
            notes=dict.fromkeys(items, "很" * 200),
            proposed_compliant=False,
            compliant=False,
            unit_class="rectify",
            rectify_by=date(2026, 6, 1),
        )
        await inspections.submit(session, report, cadre.id, clock.now())
    review = (await open_review(official))[-1]
    assert len(items) * 200 > 4096 and len(review.text) <= 4096
    assert review.text.endswith("请审核：") and review.choices
