"""Plan milestones: the reminder calendar from the seed plan (injected clock), marking done, the county overview,
re-loading a year, and the `shixiao plan` commands."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from handlers.plan_schedule import (
    PlanError,
    ensure_plan,
    load_plan,
    planned_milestones,
    read_schedule,
    shipped_schedule,
)
from handlers.texts import Texts
from scheduler.milestone_jobs import remind_milestones, stage_for
from storage import milestones, work_groups
from storage.areas import find_area, the_county
from storage.clock import SHANGHAI, ManualClock
from storage.db import Database
from storage.milestone_models import MilestoneDone, PlanMilestone
from storage.models import AreaLevel, OutboxMessage, Role
from storage.users import get_by_channel_id
from tests.chat_driver import Person, register

TEXTS = Texts.load()
KICKOFF = "召开现场会（或动员会）全面动员，签订目标责任书"
CLASSIFY = "摸清动态、完善监管档案、分类并制定整规措施"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


async def key_id(db: Database, key: str, year: int = 2026) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(select(PlanMilestone.id).where(PlanMilestone.year == year, PlanMilestone.key == key))
        )


async def reminders(db: Database, chat_id: int, title: str | None = None) -> list[tuple[date, str, list[str]]]:
    """(local day, text, button labels) of the milestone messages queued for a chat."""
    async with db.transaction() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
            )
        )
    found = []
    for row in rows:
        text = row.payload["text"]
        if text.startswith(("【计划节点", "【工作阶段")) and (title is None or f"“{title}”" in text or title in text):
            labels = [b["label"] for line in row.payload.get("buttons", []) for b in line]
            found.append((row.created_at.astimezone(SHANGHAI).date(), text, labels))
    return found


async def run_daily(db: Database, clock: ManualClock, first: date, last: date) -> None:
    day = first
    while day <= last:
        clock.set(at(day))
        await remind_milestones(db, clock, TEXTS)
        day += timedelta(days=1)


async def township_official(core, db, clock, user_id: int, township: str, name: str) -> Person:
    return await register(core, db, clock, user_id, Role.TOWNSHIP, township, name)


# --- the plan as milestones -----------------------------------------------------------------------------------


def test_the_seed_plan_gives_tasks_phases_and_two_supervisions_for_any_year():
    planned = planned_milestones(shipped_schedule(), 2026, TEXTS)
    by_key = {p.key: p for p in planned}
    assert len([p for p in planned if p.kind == "task"]) == 12
    assert by_key["task.kickoff"].due_on == date(2026, 4, 15)
    assert by_key["task.kickoff"].responsible == ("县整规办", "乡镇", "各部门")
    assert by_key["task.year_end_acceptance"].due_on == date(2026, 12, 31)
    assert [by_key[f"phase.{n}"].due_on for n in (1, 2, 3)] == [date(2026, 3, 1), date(2026, 5, 1), date(2026, 11, 1)]
    # Quarterly supervision in phase 2 (5月-10月): the ends of Q2 and Q3.
    supervision = [p for p in planned if p.kind == "supervision"]
    assert [(p.key, p.due_on) for p in supervision] == [
        ("supervision.q2", date(2026, 6, 30)),
        ("supervision.q3", date(2026, 9, 30)),
    ]
    assert all(
        "没有具体日期；本系统以季度末为期限提醒" in p.text for p in supervision
    )  # the date is ours, not the plan's
    assert planned == sorted(planned, key=lambda p: (p.due_on, p.position, p.key))
    assert planned_milestones(shipped_schedule(), 2031, TEXTS)[1].due_on == date(2031, 4, 15)


def test_the_reminder_stage_of_a_day():
    due = date(2026, 4, 15)
    stages = {d: stage_for(due, date(2026, 4, d), (7, 3, 1, 0), 3) for d in range(1, 31)}
    assert stages[7] is None and stages[8].key == "d7" and stages[10].key == "d7" and stages[10].days == 5
    assert stages[12].key == "d3" and stages[14].key == "d1" and stages[15].key == "d0"
    assert (stages[16].key, stages[16].days, stages[16].overdue) == ("late0", 1, True)
    assert stages[23].key == "late1" and stages[30].key == "late2"
    assert stage_for(due, date(2026, 5, 7), (7, 3, 1, 0), 3).key == "late3"
    assert stage_for(due, date(2026, 5, 14), (7, 3, 1, 0), 3) is None  # it stops nagging after four weeks
    assert stage_for(due, date(2026, 4, 16), (7, 0), None) is None  # phases are never overdue
    assert stage_for(due, date(2026, 4, 5), (10, 2), 0).key == "d10"  # the days are configurable


# --- reminders ------------------------------------------------------------------------------------------------


async def test_reminders_follow_the_seed_plan_and_stop_for_a_township_that_marked_it_done(core, db, clock):
    clock.set(at(date(2026, 3, 20)))
    assert await ensure_plan(db, clock) == 17
    assert await ensure_plan(db, clock) == 0  # the year has its plan: nothing loaded twice
    yantou = await township_official(core, db, clock, 801, "岩头镇", "陈镇长")
    qiaoxia = await township_official(core, db, clock, 802, "桥下镇", "吴镇长")
    county = await register(core, db, clock, 803, Role.COUNTY, None, "县整规办老周")

    await run_daily(db, clock, date(2026, 4, 1), date(2026, 4, 13))
    kickoff = await key_id(db, "task.kickoff")
    await qiaoxia.press_data(f"m.ms_done.{kickoff}")  # 桥下镇 marks it done on 4月13日, after two reminders
    assert "可以补充一句备注" in qiaoxia.last.text
    await qiaoxia.press("不填备注")
    assert "已标记完成" in qiaoxia.last.text
    await run_daily(db, clock, date(2026, 4, 14), date(2026, 5, 20))

    days = [day for day, _, _ in await reminders(db, yantou.user_id, KICKOFF)]
    assert days == [date(2026, 4, d) for d in (8, 12, 14, 15, 16, 23, 30)] + [date(2026, 5, 7)]
    first, *_ = await reminders(db, yantou.user_id, KICKOFF)
    assert first[1].startswith(f"【计划节点提醒】岩头镇：“{KICKOFF}”须在2026年4月15日前完成（还有7天）。")
    assert first[2] == ["标记已完成"]
    texts = [text for _, text, _ in await reminders(db, yantou.user_id, KICKOFF)]
    assert "今天（2026年4月15日）是" in texts[3] and "已逾期1天" in texts[4] and "已逾期22天" in texts[7]
    assert [day for day, _, _ in await reminders(db, qiaoxia.user_id, KICKOFF)] == [date(2026, 4, 8), date(2026, 4, 12)]
    county_texts = await reminders(db, county.user_id, KICKOFF)
    assert len(county_texts) == 8 and county_texts[0][1].startswith("【计划节点提醒】县级（县整规办、各部门）：")
    # 乡镇-only work reaches township officials only; phase starts reach everyone, without a button.
    assert await reminders(db, county.user_id, "乡镇确定各行业示范点并报备") == []
    assert len(await reminders(db, yantou.user_id, "乡镇确定各行业示范点并报备")) == 8
    phase = await reminders(db, county.user_id, "第二阶段开始")
    assert [(day, labels) for day, _, labels in phase] == [(date(2026, 4, 24), []), (date(2026, 5, 1), [])]
    assert await remind_milestones(db, clock, TEXTS) == 0  # the same day again repeats nothing


async def group_reminders(db: Database, group_id: int, channel: str, title: str) -> list[tuple[date, str]]:
    """(local day, text) of the milestone pushes queued for a work group."""
    async with db.transaction() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == channel, OutboxMessage.chat_id == group_id)
                .order_by(OutboxMessage.id)
            )
        )
    return [
        (row.created_at.astimezone(SHANGHAI).date(), row.payload["text"])
        for row in rows
        if row.payload["text"].startswith(("【计划节点", "【工作阶段")) and title in row.payload["text"]
    ]


async def test_work_groups_get_the_reminders_of_their_scope(core, db, clock):
    """A township's work group is reminded as its officials are (until the township marks it done), the county's
    groups as the county; robots get the text without the button; each stage once."""
    clock.set(at(date(2026, 3, 20)))
    await ensure_plan(db, clock)
    qiaoxia = await township_official(core, db, clock, 802, "桥下镇", "吴镇长")
    groups: dict[str, tuple[int, str]] = {}
    async with db.transaction() as session:
        for name, kind, scope in (
            ("岩头群", "dingtalk", "岩头镇"),
            ("桥下群", "wecom", "桥下镇"),
            ("全县群", "dingtalk", None),
        ):
            area = await the_county(session) if scope is None else await find_area(session, scope, AreaLevel.TOWNSHIP)
            webhook = (
                "https://oapi.dingtalk.com/robot/send?access_token=t" if kind == "dingtalk" else "https://q/?key=k"
            )
            group = await work_groups.add_group(session, name, kind, area, webhook, None, clock.now())
            groups[name] = (group.id, work_groups.robot_channel(kind))

    await run_daily(db, clock, date(2026, 4, 1), date(2026, 4, 13))
    await qiaoxia.press_data(f"m.ms_done.{await key_id(db, 'task.kickoff')}")  # 桥下镇 marks it done on 4月13日
    await qiaoxia.press("不填备注")
    await run_daily(db, clock, date(2026, 4, 14), date(2026, 5, 20))

    yantou = await group_reminders(db, *groups["岩头群"], KICKOFF)
    assert [day for day, _ in yantou] == [date(2026, 4, d) for d in (8, 12, 14, 15, 16, 23, 30)] + [date(2026, 5, 7)]
    assert yantou[0][1].startswith(f"【计划节点提醒】岩头镇：“{KICKOFF}”须在2026年4月15日前完成（还有7天）。")
    assert "已逾期22天" in yantou[-1][1]
    # 桥下镇's group stops with its township's mark, as its official does.
    assert [day for day, _ in await group_reminders(db, *groups["桥下群"], KICKOFF)] == [
        date(2026, 4, 8),
        date(2026, 4, 12),
    ]
    county = await group_reminders(db, *groups["全县群"], KICKOFF)
    assert len(county) == 8 and county[0][1].startswith("【计划节点提醒】县级（县整规办、各部门）：")
    # 乡镇-only work reaches the townships' groups only; a phase start reaches every group.
    assert await group_reminders(db, *groups["全县群"], "乡镇确定各行业示范点并报备") == []
    assert len(await group_reminders(db, *groups["岩头群"], "乡镇确定各行业示范点并报备")) == 8
    for name in groups:
        phase = await group_reminders(db, *groups[name], "第二阶段开始")
        assert [day for day, _ in phase] == [date(2026, 4, 24), date(2026, 5, 1)]
    async with db.transaction() as session:
        pushed = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.channel.in_(work_groups.ROBOT_CHANNELS)))
        )
    assert pushed and all("buttons" not in row.payload for row in pushed)  # robots show no button
    assert await remind_milestones(db, clock, TEXTS) == 0  # the same day again repeats nothing


async def test_a_year_end_task_is_overdue_in_the_next_year(core, db, clock):
    await load_plan(db, shipped_schedule(), 2026, TEXTS, clock)
    official = await township_official(core, db, clock, 811, "枫林镇", "林镇长")
    clock.set(at(date(2027, 1, 1)))
    assert await remind_milestones(db, clock, TEXTS) == 1
    ((_, text, _),) = await reminders(db, official.user_id, "年度评价验收")
    assert "期限是2026年12月31日，已逾期1天" in text


# --- marking done -----------------------------------------------------------------------------------------------


async def test_marking_done_with_a_note_and_the_refusals(core, db, clock):
    await ensure_plan(db, clock)
    official = await township_official(core, db, clock, 821, "岩头镇", "陈镇长")
    county = await register(core, db, clock, 822, Role.COUNTY, None, "县整规办老周")
    cadre = await register(core, db, clock, 823, Role.CADRE, "芙蓉村", "李建国")
    classify, county_check = await key_id(db, "task.classify"), await key_id(db, "task.county_check")
    demo, phase = await key_id(db, "task.demo_sites"), await key_id(db, "phase.2")

    await official.press_data(f"m.ms_done.{classify}")
    assert "将“摸清动态、完善监管档案、分类并制定整规措施”标记为已完成（岩头镇）" in official.last.text
    await official.photo()
    assert "需要输入文字" in official.last.text  # a photo where text is expected loses nothing
    too_long = await official.text("长" * 40_000)
    assert "最多200字" in too_long[0].text
    await official.text("全镇132家已建档，分类完成")
    assert "已标记完成" in official.last.text and "备注：全镇132家已建档，分类完成" in official.last.text
    again = await official.press_data(f"m.ms_done.{classify}")
    assert "已于2026年5月6日标记完成，无需重复标记" in again[0].text
    async with db.transaction() as session:
        marks = list(await session.scalars(select(MilestoneDone)))
    user = await _user(db, 821)
    assert [(m.township_id, m.note, m.user_id) for m in marks] == [(user.area_id, "全镇132家已建档，分类完成", user.id)]

    assert "由县级部门负责，不需要乡镇标记" in (await official.press_data(f"m.ms_done.{county_check}"))[0].text
    assert "由各乡镇负责并标记" in (await county.press_data(f"m.ms_done.{demo}"))[0].text
    assert "不需要标记完成" in (await county.press_data(f"m.ms_done.{phase}"))[0].text
    assert "没有找到这个计划节点" in (await county.press_data("m.ms_done.999999"))[0].text
    assert "无权办理" in (await cadre.press_data(f"m.ms_done.{classify}"))[0].text
    assert "无权办理" in (await official.press_data(f"m.ms_view.{classify}"))[0].text

    await county.press_data(f"m.ms_done.{classify}")  # the county-level part (各部门) of the same task
    await county.press("不填备注")
    assert "已标记完成：“摸清动态、完善监管档案、分类并制定整规措施”（县级（各部门））" in county.last.text
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(MilestoneDone)) == 2


async def _user(db: Database, channel_id: int):
    async with db.transaction() as session:
        return await get_by_channel_id(session, channel_id)


async def test_a_county_mark_is_stored_once_even_when_written_twice(db, clock):
    await ensure_plan(db, clock)
    classify = await key_id(db, "task.classify")
    async with db.transaction() as session:
        from storage.users import create_user

        user = await create_user(session, 8301, clock.now(), Role.COUNTY)
        assert await milestones.mark_done(session, classify, None, user.id, None, clock.now())
        assert not await milestones.mark_done(session, classify, None, user.id, "again", clock.now())
        assert await session.scalar(select(func.count()).select_from(MilestoneDone)) == 1


# --- overview -----------------------------------------------------------------------------------------------------


async def test_the_county_sees_done_counts_and_the_townships_not_done(core, db, clock):
    await ensure_plan(db, clock)  # clock: 2026-05-06
    county = await register(core, db, clock, 831, Role.COUNTY, None, "县整规办老周")
    classify = await key_id(db, "task.classify")
    for user_id, township in ((832, "岩头镇"), (833, "桥下镇"), (834, "碧莲镇")):
        official = await township_official(core, db, clock, user_id, township, "乡镇干部")
        await official.press_data(f"m.ms_done.{classify}")
        await official.press("不填备注")

    await county.press("计划节点")
    text = county.last.text
    assert text.startswith("【2026年计划节点】今天是2026年5月6日")
    assert f"5月5日 {CLASSIFY}：已完成 3/6 个乡镇；县级未完成" in text
    assert "4月15日 召开现场会（或动员会）全面动员，签订目标责任书：已完成 0/6 个乡镇；县级未完成" in text
    assert "5月15日 乡镇完成本区域标准规范的修订完善：已完成 0/6 个乡镇" in text
    assert text.index("已过期限") < text.index("5月5日") < text.index("即将到期") < text.index("5月15日")
    assert "5月1日" not in text  # a phase start already passed is not a to-do
    await county.press("5月5日 摸清动态、完善监管档案、分…")
    view = county.last.text
    assert "乡镇完成情况：已完成 3/6" in view
    assert "未完成（3个）：北城街道、东城街道、枫林镇" in view
    assert "岩头镇（5月6日）" in view
    assert county.buttons() == ["✔ 标记县级已完成"]


async def test_a_township_official_sees_their_own_status_and_marks_from_the_list(core, db, clock):
    await ensure_plan(db, clock)
    official = await township_official(core, db, clock, 841, "枫林镇", "林镇长")
    await official.press("计划节点")
    text = official.last.text
    assert text.startswith("【2026年计划节点 · 枫林镇】")
    assert f"5月5日 {CLASSIFY}：逾期1天" in text and "5月15日 乡镇完成本区域标准规范的修订完善：还有9天" in text
    assert "出台扶持措施" not in text  # 各部门 work is not the township's
    await official.press("✔ 标记完成：摸清动态、完善监管档案、分…")
    await official.press("不填备注")
    await official.press_data("m.milestones")
    assert f"✅ 5月5日 {CLASSIFY}" not in official.last.text  # done and past: no longer a to-do
    assert "已过期限且全部完成的节点1个" in official.last.text


LISTED = re.compile(r"^(?:✅ )?(\d+月\d+日) (.+?)：", re.MULTILINE)


async def every_page(person: Person) -> tuple[list[tuple[str, str]], list[str]]:
    """The (date, title) lines the overview lists, and its milestone buttons on every page (following 下一页)."""
    listed = LISTED.findall(person.last.text)
    labels: list[str] = []
    while True:
        labels += [label for label in person.buttons() if label not in ("下一页 ➡", "⬅ 上一页")]
        if "下一页 ➡" not in person.buttons():
            return listed, labels
        await person.press("下一页 ➡")
        assert LISTED.findall(person.last.text) == listed  # every page repeats the whole list


def short(title: str) -> str:
    return title if len(title) <= 14 else title[:13] + "…"


async def test_every_listed_milestone_can_be_marked_by_a_township_even_past_eight(core, db, clock):
    clock.set(at(date(2026, 12, 2)))
    await ensure_plan(db, clock)
    official = await township_official(core, db, clock, 842, "枫林镇", "林镇长")
    await official.press("计划节点")
    assert "（按钮第1/2页，共10个节点" in official.last.text
    assert official.buttons()[-1] == "下一页 ➡" and len(official.buttons()) == 9
    listed, labels = await every_page(official)
    assert len(listed) == 10  # 9 overdue, 1 upcoming
    assert labels == [f"✔ 标记完成：{short(title)}" for _, title in listed]
    assert "（按钮第2/2页" in official.last.text and official.buttons()[-1] == "⬅ 上一页"
    await official.press("✔ 标记完成：年度评价验收，迎接市里年终…")  # the 10th, on page 2
    await official.press("不填备注")
    assert "已标记完成：“年度评价验收，迎接市里年终检查”（枫林镇）" in official.last.text
    await official.press("计划节点")
    assert "✅ 12月31日 年度评价验收" in official.last.text and "（按钮第1/2页，共9个节点" in official.last.text
    await official.press_data("m.milestones.3")  # a page past the last (a stale button): the last page
    assert "（按钮第2/2页" in official.last.text
    assert official.buttons() == ["✔ 标记完成：第三季度督查评价，更新上报…", "⬅ 上一页"]


async def test_every_listed_milestone_can_be_viewed_and_marked_by_the_county_even_past_eight(core, db, clock):
    clock.set(at(date(2026, 12, 2)))
    await ensure_plan(db, clock)
    county = await register(core, db, clock, 852, Role.COUNTY, None, "县整规办老周")
    await county.press("计划节点")
    listed, labels = await every_page(county)
    assert len(listed) == 14
    assert labels == [f"{day} {short(title)}" for day, title in listed]
    await county.press("⬅ 上一页")
    assert "（按钮第1/2页，共14个节点" in county.last.text
    await county.press("下一页 ➡")
    await county.press("10月26日 县整规办检查各乡镇、各部门…")  # the 13th, on page 2
    assert county.buttons() == ["✔ 标记县级已完成"]
    await county.press("✔ 标记县级已完成")
    await county.press("不填备注")
    assert "已标记完成：“县整规办检查各乡镇、各部门进展和成效”" in county.last.text


async def test_no_plan_loaded_is_explained(core, db, clock):
    county = await register(core, db, clock, 851, Role.COUNTY, None, "县整规办老周")
    await county.press("计划节点")
    assert "2026年的计划节点尚未载入" in county.last.text


# --- re-loading a year ----------------------------------------------------------------------------------------------


SMALL_PLAN = """
phases:
  - {number: 2, name: 全面整规阶段, start_month: 5, end_month: 10, summary: 全面整治}
milestones:
  - {id: kickoff, number: 1, month: 4, day: 15, title: 动员, responsible: [县整规办, 乡镇], text: 召开动员会}
  - {id: archive, number: 2, month: 5, day: 5, title: 建立监管档案, responsible: [乡镇], text: 建档分类}
  - {id: gone, number: 3, month: 6, day: 1, title: 将被删除, responsible: [乡镇], text: 临时}
"""


async def test_reloading_replaces_the_year_and_keeps_marks_of_kept_keys(db, clock, tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    first = await load_plan(db, read_schedule(path), 2026, TEXTS, clock)
    assert (first.created, first.updated, first.removed) == (6, 0, 0)  # 3 tasks, 1 phase, 2 supervisions
    archive, gone = await key_id(db, "task.archive"), await key_id(db, "task.gone")
    async with db.transaction() as session:
        from storage.users import create_user

        user = await create_user(session, 8601, clock.now(), Role.COUNTY)
        await milestones.mark_done(session, archive, None, user.id, "ok", clock.now())
        await milestones.mark_done(session, gone, None, user.id, None, clock.now())
    path.write_text(
        SMALL_PLAN.replace("day: 5, title: 建立监管档案", "day: 8, title: 建立并完善监管档案").replace(
            "  - {id: gone, number: 3, month: 6, day: 1, title: 将被删除, responsible: [乡镇], text: 临时}\n", ""
        ),
        encoding="utf-8",
    )
    second = await load_plan(db, read_schedule(path), 2026, TEXTS, clock)
    assert (second.created, second.updated, second.removed, second.kept_marks) == (0, 5, 1, 1)
    async with db.transaction() as session:
        rows = await milestones.milestones_for_year(session, 2026)
        assert len(rows) == 5
        kept = await milestones.get_milestone(session, archive)
        assert (kept.due_on, kept.title) == (date(2026, 5, 8), "建立并完善监管档案")
        assert [m.note for m in (await milestones.done_marks(session, [archive]))[archive]] == ["ok"]
        assert await session.scalar(select(func.count()).select_from(MilestoneDone)) == 1
    await load_plan(db, read_schedule(path), 2027, TEXTS, clock)  # another year stands beside it
    async with db.transaction() as session:
        assert await milestones.count_for_year(session, 2026) == 5
        assert await milestones.count_for_year(session, 2027) == 5


def test_bad_plan_files_are_explained_in_chinese(tmp_path):
    def problem(text: str, year: int = 2026) -> str:
        path = tmp_path / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(PlanError) as error:
            planned_milestones(read_schedule(path), year, TEXTS)
        return str(error.value)

    task = "  - {{id: a, number: 1, {date}, title: 甲, responsible: [{who}], text: 乙}}\n"
    assert (
        problem("milestones:\n" + task.format(date="month: 2, day: 30", who="乡镇"))
        == "bad.yaml：时间节点 a（第1项）：2026年没有2月30日，请改为有效日期"
    )
    assert "2027年没有2月29日" in problem("milestones:\n" + task.format(date="month: 2, day: 29", who="乡镇"), 2027)
    assert "责任单位“县政府”无法识别（可用：乡镇、县整规办、牵头部门、各部门）" in problem(
        "milestones:\n" + task.format(date="month: 4, day: 1", who="县政府")
    )
    missing = problem("milestones:\n  - {id: b, number: 1, month: 4, day: 1, responsible: [乡镇]}\n")
    assert "时间节点 b：缺少必填字段 title" in missing and "时间节点 b：缺少必填字段 text" in missing
    assert "缺少必填字段 milestones" in problem("phases: []\n")
    assert "YAML 格式错误" in problem("milestones: [\n")
    assert "id 重复" in problem("milestones:\n" + task.format(date="month: 4, day: 1", who="乡镇") * 2)
    assert "二者取其一" in problem("milestones:\n" + task.format(date="month: 4, year_end: true", who="乡镇"))


# --- the command line ---------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}", "SHIXIAO_TELEGRAM_TOKEN": ""}


def invoke(args: list[str], env: dict[str, str]):
    return runner.invoke(app, args, env=env, catch_exceptions=False)


def test_plan_load_and_list(env, tmp_path):
    shipped = invoke(["plan", "list", "--year", "2027"], env)
    assert shipped.exit_code == 0
    assert "2027 年尚未载入时间节点" in shipped.stderr and "尚未载入" not in shipped.stdout
    lines = shipped.stdout.splitlines()
    assert len(lines) == 17 and lines[1] == f"2027-04-15\t县整规办、乡镇、各部门\t{KICKOFF}"
    assert lines[10] == "2027-06-30\t县整规办、乡镇、各部门\t第二季度督查评价，更新上报整规信息和数据报表"
    assert [line.split("\t")[0] for line in lines] == sorted(line.split("\t")[0] for line in lines)

    path = tmp_path / "plan2027.yaml"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    loaded = invoke(["plan", "load", str(path), "--year", "2027"], env)
    assert loaded.exit_code == 0, loaded.output
    assert "已载入 2027 年的时间节点：3项任务、1个阶段、2次督查（共 6 个）；新增 6" in loaded.stdout
    again = invoke(["plan", "load", str(path), "--year", "2027"], env)
    assert "新增 0，更新 6，删除 0" in again.stdout
    listed = invoke(["plan", "list", "--year", "2027"], env)
    assert listed.stderr == ""
    assert listed.stdout.splitlines() == [
        "2027-04-15\t县整规办、乡镇\t动员",
        "2027-05-01\t县整规办、乡镇、各部门\t第二阶段开始：全面整规阶段（5月-10月）",
        "2027-05-05\t乡镇\t建立监管档案",
        "2027-06-01\t乡镇\t将被删除",
        "2027-06-30\t县整规办、乡镇、各部门\t第二季度督查评价，更新上报整规信息和数据报表",
        "2027-09-30\t县整规办、乡镇、各部门\t第三季度督查评价，更新上报整规信息和数据报表",
    ]

    async def count() -> int:
        db = Database(env["SHIXIAO_DATABASE_URL"])
        try:
            async with db.transaction() as session:
                return await milestones.count_for_year(session, 2027)
        finally:
            await db.dispose()

    assert asyncio.run(count()) == 6


def test_plan_load_refuses_bad_files_and_changes_nothing(env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "milestones:\n  - {id: a, number: 1, month: 2, day: 30, title: 甲, responsible: [乡镇], text: 乙}\n",
        encoding="utf-8",
    )
    result = invoke(["plan", "load", str(bad), "--year", "2026"], env)
    assert result.exit_code == 1
    assert "bad.yaml：时间节点 a（第1项）：2026年没有2月30日" in result.stderr and "Traceback" not in result.output
    missing = invoke(["plan", "load", str(tmp_path / "nope.yaml")], env)
    assert missing.exit_code == 1 and "文件不存在" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("milestones:\n  - id: a\n    title: [\n", encoding="utf-8")
    result = invoke(["plan", "load", str(broken), "--year", "2026"], env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    # the file, the line and what to fix, in Chinese; not PyYAML's "expected the node content, but found …"
    assert "broken.yaml：YAML 格式错误，第3行第12列：“[”没有配对的“]”" in result.stderr, result.stderr
    assert "expected" not in result.stderr
    listed = invoke(["plan", "list", "--year", "2026"], env)
    assert "尚未载入" in listed.stderr  # the failed loads stored nothing
    assert invoke(["plan", "--help"], env).exit_code == 0
