"""Filing a complaint through the core: the happy path, routing, numbering, idempotency, location, bad input."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from handlers.events import Inbound, Kind
from storage.areas import find_area
from storage.clock import SHANGHAI
from storage.complaint_models import Complaint, ComplaintEvent, ComplaintPhoto
from storage.complaints import NewComplaint, create_complaint
from storage.models import Role
from storage.users import create_user
from tests.chat_driver import Person, register
from tests.complaints_support import button, complaint, count, file_complaint, notices_to
from tests.inspection_support import add_unit


async def resident(core, user_id: int) -> Person:
    person = Person(core, user_id)
    await person.command("start")
    return person


async def test_a_resident_files_and_the_township_is_notified_at_once(core, db, clock):
    official = await register(core, db, clock, 801, Role.TOWNSHIP, "岩头镇", "赵乡长")
    other_township = await register(core, db, clock, 802, Role.TOWNSHIP, "桥下镇", "钱乡长")
    county = await register(core, db, clock, 803, Role.COUNTY, None, "孙主任")
    person = await resident(core, 804)
    assert person.buttons()[:2] == ["投诉举报", "我的投诉"]

    number = await file_complaint(person, photos=2)
    assert number == "TS-2026-000001"
    filed = person.last.text
    assert "承办：岩头镇" in filed and "2026年5月26日前（15个工作日）" in filed and "/track TS-2026-000001" in filed

    stored = await complaint(db, number)
    assert (stored.category, stored.status, stored.anonymous, stored.unit_name) == (
        "unlicensed",
        "submitted",
        True,
        "老王小卖部",
    )
    assert stored.due_on == date(2026, 5, 26)  # 15 working days; 5月9日 (Saturday) is a 调休 working day
    assert await count(db, ComplaintPhoto) == 2

    notice = (await notices_to(db, official.user_id, "【新投诉】"))[0]
    assert "TS-2026-000001" in notice["text"] and "投诉人：匿名" in notice["text"]
    assert button(notice, "受理").startswith("m.complaint_accept.") and button(notice, "转办")
    assert await notices_to(db, other_township.user_id, "【新投诉】") == []
    assert await notices_to(db, county.user_id, "【新投诉】") == []


async def test_numbers_follow_a_per_year_sequence(core, db, clock):
    person = await resident(core, 810)
    assert await file_complaint(person) == "TS-2026-000001"
    assert await file_complaint(person, category="消防隐患", unit=None) == "TS-2026-000002"
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI))
    assert await file_complaint(person, category="其他", unit=None) == "TS-2027-000001"


async def test_a_township_without_officials_falls_back_to_the_county(core, db, clock):
    county = await register(core, db, clock, 811, Role.COUNTY, None, "孙主任")
    person = await resident(core, 812)
    await file_complaint(person, township="枫林镇", village="江枫村")
    notice = (await notices_to(db, county.user_id, "【新投诉】"))[0]
    assert "枫林镇尚无乡镇干部登记" in notice["text"]
    await county.press("待办投诉")
    assert "TS-2026-000001" in county.last.text  # in the county's queue until the township has an official
    await county.press("TS-2026-000001 无证经营")
    await county.press("受理")
    assert "已受理投诉 TS-2026-000001" in county.last.text


async def test_a_county_category_goes_to_the_county_office(core, db, clock):
    township = await register(core, db, clock, 813, Role.TOWNSHIP, "岩头镇", "赵乡长")
    county = await register(core, db, clock, 814, Role.COUNTY, None, "孙主任")
    person = await resident(core, 815)
    number = await file_complaint(person, category="非法行医/药品问题", unit="芙蓉诊所")
    assert "承办：县整规办" in person.last.text
    assert await notices_to(db, county.user_id, number)
    assert await notices_to(db, township.user_id, number) == []


async def test_a_double_tap_or_a_redelivered_confirm_files_once(core, db, clock):
    person = await resident(core, 820)
    await file_complaint(person, confirm=False)
    confirm = next(c.data for c in person.last.choices if c.label == "确认提交")
    inbound = Inbound(user_id=820, chat_id=820, kind=Kind.PRESS, data=confirm, update_id=77_001)
    await core.handle(inbound)
    again = await core.handle(inbound)  # Telegram redelivers the same update
    assert again.duplicate
    second_tap = await person.press_data(confirm)  # the same button pressed twice
    assert "按钮已过期" in second_tap[0].text
    assert await count(db, Complaint) == 1


async def test_the_same_submit_key_returns_the_first_complaint(db, clock):
    async with db.transaction() as session:
        user = await create_user(session, 821, clock.now())
        area = await find_area(session, "岩头镇")
        new = NewComplaint(
            submit_key="821-1",
            category="other",
            complainant_id=user.id,
            anonymous=True,
            township_id=area.id,
            office_area_id=area.id,
            description="测试重复提交",
            due_on=date(2026, 5, 26),
        )
        first, created = await create_complaint(session, new, clock.now())
        second, created_again = await create_complaint(session, new, clock.now())
        assert created and not created_again and first.id == second.id
        assert first.number == "TS-2026-000001"


async def test_a_location_outside_the_county_is_refused_and_asked_again(core, db, clock):
    person = await resident(core, 830)
    await person.press("投诉举报")
    await person.press("食品过期变质")
    await person.press("📍 发送位置")
    assert person.last.request == "location"
    refused = await person._send(kind=Kind.LOCATION, location=(39.9, 116.4))  # Beijing
    assert "不在永嘉县范围内" in refused[0].text and refused[0].request == "location"
    await person._send(kind=Kind.LOCATION, location=(28.153, 120.69))
    assert "已记下您发送的位置" in person.last.text
    assert "📍 发送位置" not in person.buttons()
    await person.press("岩头镇")
    await person.press("不确定是哪个村")
    await person.press("不清楚，跳过")
    await person.text("货架上的牛奶过期两个月了")
    await person.press("完成")
    await person.press("实名提交")
    assert "真实姓名" in person.last.text
    await person.text("王小明")
    assert person.last.request == "contact"
    assert "手机号格式不对" in (await person.text("12345"))[0].text
    await person._send(kind=Kind.CONTACT, phone="+86 138-1234-5678")
    summary = person.last.text
    assert "岩头镇（附定位）" in summary and "实名：王小明，13812345678（仅县整规办可见）" in summary
    await person.press("确认提交")
    stored = await complaint(db, "TS-2026-000001")
    assert (stored.latitude, stored.longitude, stored.village_id) == (28.153, 120.69, None)
    assert (stored.complainant_name, stored.complainant_phone) == ("王小明", "13812345678")


async def test_a_location_sent_directly_and_skipping_the_location(core, db, clock):
    person = await resident(core, 831)
    await person.press("投诉举报")
    await person.press("消防隐患")
    await person._send(kind=Kind.LOCATION, location=(28.2, 120.7))  # without pressing the button
    assert "已记下您发送的位置" in person.last.text
    other = await resident(core, 832)
    await other.press("投诉举报")
    await other.press("消防隐患")
    await other.press("📍 发送位置")
    assert "这一步需要发送位置" in (await other.text("在桥头"))[0].text
    await other.text("跳过")
    assert "问题发生在哪个乡镇" in other.last.text


async def test_bad_input_gets_chinese_replies_and_loses_nothing(core, db, clock):
    person = await resident(core, 840)
    await person.press("投诉举报")
    assert "请点击下方按钮选择" in (await person.text("随便写点"))[0].text
    await person.press("卫生条件差")
    await person.press("岩头镇")
    await person.press("苍坡村")
    assert "店名请写2到50个字" in (await person.text("店"))[0].text
    await person.text("不清楚")
    assert "请描述问题" in person.last.text
    assert "至少需要5个字" in (await person.text(""))[0].text
    assert "至少需要5个字" in (await person.text("脏"))[0].text
    too_long = (await person.text("脏" * 40_000))[0]
    assert "内容太长了（40000个字），最多1000个字" in too_long.text
    assert "请描述问题" in too_long.text  # the same step is asked again
    emoji_only = (await person.text("😡😡😡 😡😡！！"))[0]
    assert "请用文字填写" in emoji_only.text and "请描述问题" in emoji_only.text
    await person.text("后厨地面油污很厚，苍蝇很多")
    assert "请发送照片，或点“完成”" in (await person.sticker())[0].text
    assert "请发送照片" in (await person.text("好的"))[0].text
    await person.photo()
    assert "已收到第1张照片" in person.last.text
    await person.text("完成")
    assert "请选择提交方式" in person.last.text
    assert "只有县整规办能看到" in person.last.text and "任何工作人员（包括县整规办）" in person.last.text
    await person.press("匿名提交")
    assert "照片：1张" in person.last.text and "后厨地面油污很厚" in person.last.text
    await person.press("取消")
    assert "已取消「投诉举报」" in person.last.text
    assert await count(db, Complaint) == 0 and await count(db, ComplaintEvent) == 0


async def test_the_unit_is_fuzzy_matched_against_the_register(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小卖部", "small_grocery")
    await add_unit(db, clock, "芙蓉村", "老王网吧", "small_internet_cafe")
    person = await resident(core, 850)
    await person.press("投诉举报")
    await person.press("食品过期变质")
    await person.press("岩头镇")
    await person.press("芙蓉村")
    await person.text("老王小买部")  # a typo
    assert "监管档案中找到以下相近的单位" in person.last.text
    assert person.buttons()[0] == "老王小卖部" and "老王网吧" not in person.buttons()  # a café sells no food
    await person.press("老王小卖部")
    await person.text("卖过期的方便面")
    await person.press("完成")
    await person.press("匿名提交")
    assert "被投诉单位：老王小卖部（监管档案）" in person.last.text
    await person.press("确认提交")
    assert (await complaint(db, "TS-2026-000001")).unit_id == unit_id


async def test_photos_stop_at_the_limit_and_each_is_acknowledged_after_saving(core, db, clock):
    person = await resident(core, 860)
    number = await file_complaint(person, photos=6)
    acks = [r.text for r in person.replies if "已收到第" in r.text]
    assert len(acks) == 5 and "已收到6张照片（最多6张），继续下一步" in "".join(r.text for r in person.replies)
    assert number and await count(db, ComplaintPhoto) == 6


@pytest.mark.slow
async def test_the_filed_conversation_is_resumed_after_a_pause(core, db, clock):
    person = await resident(core, 870)
    await person.press("投诉举报")
    await person.press("其他")
    clock.advance(timedelta(hours=2))
    await person.command("menu")
    assert "未完成的「投诉举报」" in person.last.text
    await person.press("继续填写「投诉举报」")
    assert "问题发生在哪个乡镇" in person.last.text
