"""Officials handle complaints: accept, progress, close, reopen, re-route, duplicates, tracking, forged buttons."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from handlers.complaints.categories import default_config
from handlers.texts import Texts
from scheduler.complaint_jobs import escalate_overdue_complaints
from storage.clock import SHANGHAI
from storage.complaint_models import ComplaintEvent, ComplaintFollower
from storage.models import Role
from tests.chat_driver import Person, register
from tests.complaints_support import button, complaint, count, events, file_complaint, notices_to
from tests.inspection_support import add_unit


async def setup(core, db, clock):
    official = await register(core, db, clock, 901, Role.TOWNSHIP, "岩头镇", "赵乡长")
    person = Person(core, 902)
    await person.command("start")
    number = await file_complaint(person)
    return official, person, number


async def test_accept_progress_close_and_confirm(core, db, clock):
    official, person, number = await setup(core, db, clock)
    notice = (await notices_to(db, official.user_id, "【新投诉】"))[0]
    await official.press_data(button(notice, "受理"))
    assert "已受理投诉 TS-2026-000001" in official.last.text
    assert (await complaint(db, number)).status == "accepted"
    progress = await notices_to(db, person.user_id, "【投诉进展】")
    assert "状态：已受理" in progress[-1]["text"] and "岩头镇已受理" in progress[-1]["text"]

    again = await official.press_data(button(notice, "受理"))
    assert "已是“已受理”，无需再次受理" in again[0].text

    await official.press("待办投诉")
    assert "TS-2026-000001" in official.last.text
    await official.press("TS-2026-000001 无证经营")
    assert "办理记录" in official.last.text and "已受理" in official.last.text
    await official.press("更新办理状态")
    assert "当前状态：已受理" in official.last.text
    await official.press("调查中")
    await official.text("已安排执法人员明天上门核查")
    assert "已更新为“调查中”" in official.last.text
    assert "已安排执法人员明天上门核查" in (await notices_to(db, person.user_id, "【投诉进展】"))[-1]["text"]

    await official.command("track", number)
    await official.press("更新办理状态")
    await official.press("已办结")
    assert "请简要说明处理结果" in official.last.text
    await official.text("已责令停业，办理营业执照前不得经营")
    stored = await complaint(db, number)
    assert stored.status == "closed" and stored.final_at is not None
    question = (await notices_to(db, person.user_id, "问题解决了吗"))[-1]
    await person.press_data(button(question, "解决了"))
    assert "已确认解决" in person.last.text
    assert (await complaint(db, number)).feedback == "resolved"
    assert "不需要确认或已经确认过" in (await person.press_data(button(question, "没有解决")))[0].text
    kinds = [(e.kind, e.to_status) for e in await events(db, number)]
    assert kinds == [
        ("filed", "submitted"),
        ("status", "accepted"),
        ("status", "investigating"),
        ("status", "closed"),
        ("feedback", None),
    ]
    assert all(e.note or e.kind == "filed" for e in await events(db, number))


async def test_not_fixed_reopens_and_tells_the_office(core, db, clock):
    official, person, number = await setup(core, db, clock)
    await official.command("track", number)
    await official.press("更新办理状态")
    await official.press("已办结")
    await official.text("已整改")
    question = (await notices_to(db, person.user_id, "问题解决了吗"))[-1]
    clock.set(datetime(2026, 5, 8, 16, 0, tzinfo=SHANGHAI))  # a Friday: the new limit counts from today
    await person.press_data(button(question, "没有解决"))
    assert "还有什么问题" in person.last.text
    assert (await complaint(db, number)).status == "closed"  # not reopened before saying what is wrong
    await person.text("店里还是没有营业执照，照样开门")
    assert "已重新打开投诉 TS-2026-000001" in person.last.text and "岩头镇" in person.last.text
    stored = await complaint(db, number)
    assert (stored.status, stored.reopen_count, stored.final_at, stored.feedback) == (
        "accepted",
        1,
        None,
        "not_resolved",
    )
    days = default_config().category(stored.category).days
    assert stored.due_on == default_config().calendar.add_workdays(date(2026, 5, 8), days)
    reopened = (await notices_to(db, official.user_id, "【重新办理】"))[-1]
    assert number in reopened["text"] and button(reopened, "查看详情")
    assert "店里还是没有营业执照，照样开门" in reopened["text"]
    assert f"新的办理期限：{stored.due_on.year}年{stored.due_on.month}月{stored.due_on.day}日" in reopened["text"]
    assert [e.note for e in await events(db, number)][-1] == "店里还是没有营业执照，照样开门"
    assert "不需要确认" in (await person.press_data(button(question, "没有解决")))[0].text
    # /track shows the question only while it is open; the office's view carries the complainant's words
    await person.command("track", number)
    assert "问题解决了吗" not in person.last.text and "投诉人反馈问题未解决" in person.last.text
    await official.command("track", number)
    assert "重新办理：店里还是没有营业执照，照样开门" in official.last.text


async def test_not_fixed_can_be_left_unsaid_and_answered_later(core, db, clock):
    official, person, number = await setup(core, db, clock)
    await official.command("track", number)
    await official.press("更新办理状态")
    await official.press("已办结")
    await official.text("已整改")
    question = (await notices_to(db, person.user_id, "问题解决了吗"))[-1]
    await person.press_data(button(question, "没有解决"))
    await person.press("先不反馈了")
    assert "暂不重新打开" in person.last.text
    assert (await complaint(db, number)).status == "closed" and not await notices_to(
        db, official.user_id, "【重新办理】"
    )
    await person.press_data(button(question, "没有解决"))  # the same button still works afterwards
    await person.text("还是老样子，没人来管")
    assert (await complaint(db, number)).status == "accepted"


async def test_not_responsible_says_where_to_go(core, db, clock):
    official, person, number = await setup(core, db, clock)
    await official.command("track", number)
    await official.press("更新办理状态")
    await official.press("不属于职责范围")
    assert "应向哪个部门反映" in official.last.text
    await official.text("请向县市场监管局反映，电话 0577-12345")
    text = (await notices_to(db, person.user_id, "【投诉进展】"))[-1]["text"]
    assert "不属于职责范围" in text and "县市场监管局" in text
    assert (
        "已是“不属于职责范围”"
        in (await official.press_data(f"m.complaint_update.{(await complaint(db, number)).id}"))[0].text
    )


async def test_re_routing_to_another_township_tells_the_new_office(core, db, clock):
    official, person, number = await setup(core, db, clock)
    other = await register(core, db, clock, 903, Role.TOWNSHIP, "桥下镇", "钱乡长")
    notice = (await notices_to(db, official.user_id, "【新投诉】"))[0]
    await official.press_data(button(notice, "受理"))
    await official.press_data(button(notice, "转办"))
    await official.press("改到其他乡镇/村")
    await official.press("桥下镇")
    await official.press("光华村")
    await official.text("店铺实际在桥下镇光华村")
    assert "由岩头镇转至桥下镇" in official.last.text and "已通知新的承办单位" in official.last.text
    stored = await complaint(db, number)
    assert stored.status == "submitted"  # the new office is asked to accept it
    moved = (await notices_to(db, other.user_id, "【转办投诉】"))[0]
    assert "由岩头镇转来" in moved["text"] and "店铺实际在桥下镇光华村" in moved["text"]
    assert "已转交桥下镇办理" in (await notices_to(db, person.user_id, "【投诉进展】"))[-1]["text"]
    refused = await official.press_data(button(notice, "受理"))
    assert "不由您办理" in refused[0].text  # rerouted away: no longer theirs to see
    await other.press_data(button(moved, "受理"))
    assert (await complaint(db, number)).status == "accepted"


async def test_a_category_change_re_routes_to_the_county(core, db, clock):
    official, _person, number = await setup(core, db, clock)
    county = await register(core, db, clock, 904, Role.COUNTY, None, "孙主任")
    await official.command("track", number)
    await official.press("转办")
    await official.press("更改问题类别")
    assert "当前：无证经营" in official.last.text
    await official.press("非法行医/药品问题")
    await official.text("其实是无证诊所")
    assert "类别由“无证经营”改为“非法行医/药品问题”" in official.last.text
    notice = (await notices_to(db, county.user_id, "【转办投诉】"))[0]
    assert "由岩头镇转来" in notice["text"]
    assert (await complaint(db, number)).category == "medical"


@pytest.mark.slow
async def test_a_similar_complaint_is_mentioned_without_its_number_and_cannot_be_followed(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小卖部", "small_grocery")
    official = await register(core, db, clock, 911, Role.TOWNSHIP, "岩头镇", "赵乡长")
    first = Person(core, 912)
    await first.command("start")
    number = await file_complaint(first, pick="老王小卖部")
    second = Person(core, 913)
    await second.command("start")
    for pressed in ("投诉举报", "无证经营", "岩头镇", "芙蓉村"):
        await second.press(pressed)
    await second.text("老王小卖部")
    await second.press("老王小卖部")
    offer = second.last
    assert "已有类似的投诉正在办理" in offer.text
    assert number not in offer.text and "TS-" not in offer.text and "5月6日" not in offer.text
    assert "提交" not in offer.text.split("类似的投诉")[0]  # not even its status or date
    assert [choice.label for choice in offer.choices] == ["不再重复提交", "仍然提交新的投诉"]
    await second.press("不再重复提交")
    assert "这次没有提交" in second.last.text and number not in second.last.text
    assert await count(db, ComplaintFollower) == 0
    await second.press("我的投诉")
    assert number not in second.last.text
    await second.command("track", number)
    assert "没有找到" in second.last.text
    await official.command("track", number)
    await official.press("受理")
    progress = [n for n in await notices_to(db, second.user_id, number) if "状态" in n["text"]]
    assert not progress  # no progress notes reach them
    print(f"similar complaint: number, TS- and date in the offer: 0; followers: 0; progress notices: {len(progress)}")

    # filing anyway makes a complaint of their own
    for pressed in ("投诉举报", "无证经营", "岩头镇", "芙蓉村"):
        await second.press(pressed)
    await second.text("老王小卖部")
    await second.press("老王小卖部")
    await second.press("仍然提交新的投诉")
    assert "请描述问题" in second.last.text

    # another category about the same unit is not a duplicate
    third = Person(core, 914)
    await third.command("start")
    await file_complaint(third, category="消防隐患", pick="老王小卖部")
    assert "TS-2026-000002" in third.last.text


async def test_the_complainant_is_told_their_own_complaint_is_open(core, db, clock):
    person = Person(core, 915)
    await person.command("start")
    number = await file_complaint(person, unit="阿强烧烤")
    await person.press("投诉举报")
    await person.press("无证经营")
    await person.press("岩头镇")
    await person.press("芙蓉村")
    await person.text("阿强 烧烤")  # the same name written differently
    assert "您本人已就这家店" in person.last.text and number in person.last.text
    await person.press("不再重复提交")
    assert "进展会继续通知您" in person.last.text and number in person.last.text


async def test_marking_a_duplicate_merges_the_complainant_into_the_original(core, db, clock):
    official, _person, number = await setup(core, db, clock)
    other = Person(core, 920)
    await other.command("start")
    second = await file_complaint(other, unit="老王的店")
    await official.command("track", second)
    await official.press("更新办理状态")
    await official.press("重复")
    assert "原投诉编号" in official.last.text
    assert "没有找到这个编号" in (await official.text(second))[0].text
    await official.text(number.lower())
    await official.text("与 TS-2026-000001 为同一家店")
    stored = await complaint(db, second)
    assert stored.status == "duplicate" and stored.duplicate_of_id == (await complaint(db, number)).id
    assert "合并办理" in (await notices_to(db, other.user_id, number))[-1]["text"]
    await other.command("track", number)
    assert "投诉 TS-2026-000001" in other.last.text  # now a follower of the original


async def test_tracking_shows_only_ones_own_or_followed_complaints(core, db, clock):
    _official, person, number = await setup(core, db, clock)
    await person.command("track", number)
    shown = person.last.text
    assert "状态：已提交" in shown and "办理记录" in shown and "您本人（匿名提交" in shown
    await person.command("track", "ts2026-1")
    assert "投诉 TS-2026-000001" in person.last.text
    stranger = Person(core, 930)
    await stranger.command("start")
    refused = (await stranger.command("track", number))[0].text
    missing = (await stranger.command("track", "TS-2026-999999"))[0].text
    assert refused.replace(number, "X") == missing.replace("TS-2026-999999", "X")  # existence is not revealed
    assert "没有找到" in (await stranger.command("track", "drop table"))[0].text
    assert "没有找到" in (await stranger.command("track", "1"))[0].text
    await stranger.command("track")
    assert "还没有提交或关注过投诉" in stranger.last.text
    cadre = await register(core, db, clock, 931, Role.CADRE, "芙蓉村", "李建国")
    assert "没有找到" in (await cadre.command("track", number))[0].text


async def test_forged_buttons_and_roles_without_rights_change_nothing(core, db, clock):
    official, person, number = await setup(core, db, clock)
    stored = await complaint(db, number)
    before = await count(db, ComplaintEvent)
    stranger_official = await register(core, db, clock, 940, Role.TOWNSHIP, "桥下镇", "钱乡长")
    cadre = await register(core, db, clock, 941, Role.CADRE, "芙蓉村", "李建国")
    attempts = [
        (person, f"m.complaint_accept.{stored.id}", "无权办理"),  # the role may not, whatever the complaint
        (cadre, f"m.complaint_update.{stored.id}", "无权办理"),
        (cadre, f"m.complaint_view.{stored.id}", "无权办理"),
        # An official who may not see it is told what a number never issued gets: not the office, not that it
        # exists.
        (stranger_official, f"m.complaint_accept.{stored.id}", "没有找到这件投诉"),
        (stranger_official, f"m.complaint_reroute.{stored.id}", "没有找到这件投诉"),
        (official, "m.complaint_accept.999999", "没有找到这件投诉"),
        (official, "m.complaint_accept.abc", "没有找到这件投诉"),
        (official, "m.complaint_accept", "没有找到这件投诉"),
        (official, "m.complaint_teleport.1", "按钮无效"),
        (person, f"m.complaint_feedback.{stored.id}:maybe", "按钮无效"),
        (person, f"m.complaint_feedback.{stored.id}:no", "不需要确认"),
        (cadre, f"m.complaint_feedback.{stored.id}:no", "只有投诉人本人"),
    ]
    for who, data, expected in attempts:
        reply = (await who.press_data(data))[0].text
        assert expected in reply, (data, reply)
    assert await count(db, ComplaintEvent) == before
    assert (await complaint(db, number)).status == "submitted"


async def test_a_change_made_meanwhile_is_not_overwritten(core, db, clock):
    official, _person, number = await setup(core, db, clock)
    colleague = await register(core, db, clock, 950, Role.TOWNSHIP, "岩头镇", "周干事")
    await official.command("track", number)
    await official.press("更新办理状态")
    await official.press("处理中")
    await colleague.command("track", number)
    await colleague.press("受理")
    await official.text("正在处理")
    assert "在您填写期间已被更改" in official.last.text
    assert (await complaint(db, number)).status == "accepted"


async def test_the_queue_lists_the_township_complaints_overdue_first(core, db, clock):
    official, person, number = await setup(core, db, clock)
    fire = await file_complaint(person, category="消防隐患", unit="芙蓉饭店")
    await official.press("待办投诉")
    queue = official.last.text
    assert "共2件，超期0件" in queue
    assert queue.index(fire) < queue.index(number)  # 3 working days before 15
    county = await register(core, db, clock, 951, Role.COUNTY, None, "孙主任")
    await county.press("待办投诉")
    assert "共2件" in county.last.text and fire in county.last.text and number in county.last.text  # all in scope


async def test_the_queue_lists_every_open_complaint_in_scope_and_flags_escalated_ones(core, db, clock):
    official, person, number = await setup(core, db, clock)  # 无证经营: 15 working days
    fire = await file_complaint(person, category="消防隐患", unit="芙蓉饭店")  # 3 working days: 5月9日
    elsewhere = await file_complaint(person, township="桥下镇", village="光华村", unit="光华网吧")
    closed = await file_complaint(person, unit="阿强烧烤")
    await official.command("track", closed)
    await official.press("更新办理状态")
    await official.press("已办结")
    await official.text("已查处")
    county = await register(core, db, clock, 952, Role.COUNTY, None, "孙主任")
    clock.set(datetime(2026, 5, 11, 8, 30, tzinfo=SHANGHAI))
    assert await escalate_overdue_complaints(db, clock, Texts.load()) == 1  # the fire complaint

    await official.press("待办投诉")
    township_queue = official.last.text
    assert "共2件，超期1件，其中已上报县整规办督办1件" in township_queue
    fire_line = next(line for line in township_queue.splitlines() if fire in line)
    other_line = next(line for line in township_queue.splitlines() if number in line)
    assert "已上报县里督办" in fire_line and "已上报县里督办" not in other_line
    assert elsewhere not in township_queue and closed not in township_queue

    await county.press("待办投诉")
    county_queue = county.last.text
    assert "共3件，超期1件，其中已上报县整规办督办1件" in county_queue
    assert all(n in county_queue for n in (fire, number, elsewhere)) and closed not in county_queue
    assert "已上报县里督办" in next(line for line in county_queue.splitlines() if fire in line)
