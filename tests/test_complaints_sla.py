"""Handling time in working days, overdue escalation with an injected clock, and the numbers for digests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from handlers.complaints.categories import default_config
from handlers.complaints.workdays import WorkCalendar
from handlers.texts import Texts
from scheduler.complaint_jobs import chunks, escalate_overdue_complaints
from storage.areas import find_area
from storage.clock import SHANGHAI
from storage.complaint_stats import complaint_counts
from storage.complaints import open_complaints_overdue
from storage.models import Role
from tests.chat_driver import Person, register
from tests.complaints_support import button, complaint, events, file_complaint, notices_to

CALENDAR = default_config().calendar


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 5, 6), 3, date(2026, 5, 9)),  # Thu, Fri, and Saturday 5月9日 (调休 working day)
        (date(2026, 4, 30), 1, date(2026, 5, 6)),  # 劳动节 5月1日–5日 off
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday before 春节 is a working day
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # 春节 2月15日–23日 off
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # 国庆节 10月1日–7日
        (date(2026, 12, 31), 1, date(2027, 1, 1)),  # 2027 not in chinese-calendar 1.11 yet: Monday–Friday only
        (date(2026, 5, 6), 0, date(2026, 5, 6)),
    ],
)
def test_working_days_follow_the_2026_holiday_schedule(start, days, due):
    assert CALENDAR.add_workdays(start, days) == due


def test_working_day_helpers():
    assert not CALENDAR.is_workday(date(2026, 10, 1)) and CALENDAR.is_workday(date(2026, 10, 10))
    assert WorkCalendar(official=False).add_workdays(date(2026, 5, 8), 1) == date(2026, 5, 11)
    with pytest.raises(ValueError):
        CALENDAR.add_workdays(date(2026, 1, 1), -1)


async def test_overdue_complaints_escalate_once_to_the_county(core, db, clock):
    texts = Texts.load()
    township = await register(core, db, clock, 1101, Role.TOWNSHIP, "岩头镇", "赵乡长")
    county = await register(core, db, clock, 1102, Role.COUNTY, None, "孙主任")
    person = Person(core, 1103)
    await person.command("start")
    number = await file_complaint(person, category="消防隐患", unit="芙蓉饭店")  # 3 working days: 5月9日
    slow = await file_complaint(person, category="其他", unit=None)  # 15 working days
    assert (await complaint(db, number)).due_on == date(2026, 5, 9)

    clock.set(datetime(2026, 5, 9, 23, 0, tzinfo=SHANGHAI))  # the last day itself is not overdue
    assert await escalate_overdue_complaints(db, clock, texts) == 0
    clock.set(datetime(2026, 5, 10, 8, 30, tzinfo=SHANGHAI))
    assert await escalate_overdue_complaints(db, clock, texts) == 1
    assert await escalate_overdue_complaints(db, clock, texts) == 0  # a re-run repeats nothing
    clock.advance(timedelta(days=1))
    assert await escalate_overdue_complaints(db, clock, texts) == 0

    stored = await complaint(db, number)
    assert stored.escalated_at is not None and stored.status == "submitted"
    assert [e.kind for e in await events(db, number)][-1] == "escalated"
    to_county = await notices_to(db, county.user_id, "【投诉超期】")
    to_township = await notices_to(db, township.user_id, "【投诉超期】")
    assert len(to_county) == 1 and number in to_county[0]["text"] and slow not in to_county[0]["text"]
    assert len(to_township) == 1 and "期限5月9日" not in to_township[0]["text"]  # dates written in full
    assert "2026年5月9日" in to_township[0]["text"]
    assert len(await notices_to(db, person.user_id, "已上报县整规办督办")) == 1

    await county.press("待办投诉")
    assert number in county.last.text and "超期1件" in county.last.text and "⚠️已超期" in county.last.text
    await township.press("待办投诉")
    assert township.last.text.index(number) < township.last.text.index(slow)

    # closed, reopened: a new deadline, and it may escalate again later
    await township.command("track", number)
    await township.press("更新办理状态")
    await township.press("已办结")
    await township.text("已清理消防通道")
    question = (await notices_to(db, person.user_id, "问题解决了吗"))[-1]
    await person.press_data(button(question, "没有解决"))
    await person.text("消防通道又被杂物堵上了")
    reopened = await complaint(db, number)
    assert reopened.escalated_at is None and reopened.due_on == date(2026, 5, 14)  # 5月11日 + 3 working days
    clock.set(datetime(2026, 5, 15, 8, 30, tzinfo=SHANGHAI))
    assert await escalate_overdue_complaints(db, clock, texts) == 1


async def test_counts_for_digests_are_pinned_to_a_hand_computed_fixture(core, db, clock):
    township = await register(core, db, clock, 1201, Role.TOWNSHIP, "岩头镇", "赵乡长")
    person = Person(core, 1202)
    await person.command("start")
    first = await file_complaint(person, category="消防隐患", unit="甲店")  # 5/6, due 5/9
    await file_complaint(person, category="其他", unit="乙店")  # 5/6, due 5/26
    await file_complaint(person, category="消防隐患", township="桥下镇", village="光华村", unit="丙店")  # due 5/9
    clock.set(datetime(2026, 5, 8, 10, 0, tzinfo=SHANGHAI))
    await township.command("track", first)
    await township.press("更新办理状态")
    await township.press("已办结")
    await township.text("已整改")
    clock.set(datetime(2026, 5, 11, 10, 0, tzinfo=SHANGHAI))
    await file_complaint(person, category="其他", unit="丁店")  # 5/11

    week = (datetime(2026, 5, 4, tzinfo=SHANGHAI), datetime(2026, 5, 11, tzinfo=SHANGHAI))
    next_week = (datetime(2026, 5, 11, tzinfo=SHANGHAI), datetime(2026, 5, 18, tzinfo=SHANGHAI))
    async with db.transaction() as session:
        yantou = await find_area(session, "岩头镇")
        guanghua = await find_area(session, "光华村")
        # Week of 5/4: three filed, one finished (5/8); at 5/11 00:00 only 丙店 (due 5/9, open) is overdue.
        assert tuple(vars(await complaint_counts(session, *week)).values()) == (3, 1, 1)
        assert tuple(vars(await complaint_counts(session, *week, yantou)).values()) == (2, 1, 0)
        assert tuple(vars(await complaint_counts(session, *week, guanghua)).values()) == (1, 0, 1)
        assert tuple(vars(await complaint_counts(session, *next_week)).values()) == (1, 0, 1)
        overdue = await open_complaints_overdue(session, clock.now())
        assert [c.unit_name for c in overdue] == ["丙店"]


def test_long_overdue_lists_are_split_into_messages_under_the_limit():
    lines = [f"· TS-2026-{n:06d} 很长的一行" * 3 for n in range(400)]
    parts = chunks("【投诉超期】", lines, limit=1000)
    assert len(parts) > 1 and all(len(p) <= 1000 and p.startswith("【投诉超期】") for p in parts)
    assert sum(p.count("TS-2026-") for p in parts) == 400 * 3
