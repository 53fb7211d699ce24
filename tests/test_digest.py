"""Digest numbers against a small hand-computed fixture, and their rendering."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers.digest_render import chart_caption, chart_lines, chart_png, digest_text, split_message
from handlers.texts import Texts
from storage.areas import find_area
from storage.digest import Share, compute_digest
from storage.inspection_models import UnitStatus
from storage.inspections import Report, submit
from storage.models import AreaLevel, Role, User
from storage.units import UnitFields, upsert_unit

# (village, industry, status, how many)
FIXTURE = [
    ("芙蓉村", "small_restaurant", UnitStatus.COMPLIANT, 80),
    ("芙蓉村", "small_restaurant", UnitStatus.RECTIFYING, 20),
    ("桥下村", "small_grocery", UnitStatus.COMPLIANT, 79),
    ("桥下村", "small_grocery", UnitStatus.UNCHECKED, 21),
    ("新岙村", "small_grocery", UnitStatus.COMPLIANT, 5),
    ("新岙村", "small_grocery", UnitStatus.RECTIFYING, 3),
    ("新岙村", "small_grocery", UnitStatus.CLOSED, 2),
]


async def load_fixture(db, clock) -> None:
    async with db.transaction() as session:
        for village_name, industry, status, count in FIXTURE:
            village = await find_area(session, village_name, AreaLevel.VILLAGE)
            for index in range(count):
                unit, _ = await upsert_unit(
                    session, village, UnitFields(f"{village_name}{status}{index}", industry, status=status), clock.now()
                )
                if status == UnitStatus.RECTIFYING and index < 1:
                    unit.rectify_by = date(2026, 5, 1)  # overdue on 2026-05-06
                elif status == UnitStatus.RECTIFYING:
                    unit.rectify_by = date(2026, 6, 1)
        user = User(channel_user_id=1, role=Role.CADRE, created_at=clock.now(), last_seen_at=clock.now())
        session.add(user)
        await session.flush()
        for days_ago, key in ((1, "a"), (2, "b"), (6, "c"), (9, "d"), (20, "e")):
            report = Report(
                unit_id=1,
                submit_key=key,
                industry="small_restaurant",
                answers={},
                notes={},
                proposed_compliant=True,
                compliant=True,
                unit_class="upgrade",
            )
            await submit(session, report, user.id, clock.now() - timedelta(days=days_ago))


async def test_county_digest_matches_the_hand_computed_figures(db, clock):
    await load_fixture(db, clock)
    async with db.transaction() as session:
        county = await find_area(session, "永嘉县", AreaLevel.COUNTY)
        digest = await compute_digest(session, county, clock.now())
    assert digest.units == 210
    assert (digest.share.part, digest.share.whole) == (164, 208)  # the 2 closed units leave the base
    ranking = [(line.name, line.share.part, line.share.whole, line.complete) for line in digest.townships]
    assert ranking[:3] == [("岩头镇", 80, 100, True), ("桥下镇", 79, 100, False), ("碧莲镇", 5, 8, False)]
    assert len(ranking) == 6 and all(whole == 0 for _, _, whole, _ in ranking[3:])
    assert (digest.townships_complete.part, digest.townships_complete.whole) == (1, 6)
    assert not digest.townships_complete.reaches(70)
    industries = {line.slug: (line.share.part, line.share.whole, line.meets_target) for line in digest.industries}
    assert industries == {"small_grocery": (84, 108, True), "small_restaurant": (80, 100, True)}
    assert (digest.inspections_this_week, digest.inspections_last_week) == (3, 1)
    # submitting the reports made unit 1 compliant; the other 2 overdue rectifications remain
    assert digest.overdue_rectifications == 2
    assert (digest.complaints_opened, digest.complaints_closed, digest.complaints_overdue) == (0, 0, 0)


async def test_township_digest_and_the_80_percent_line(db, clock):
    await load_fixture(db, clock)
    async with db.transaction() as session:
        yantou = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        qiaoxia = await find_area(session, "桥下镇", AreaLevel.TOWNSHIP)
        first = await compute_digest(session, yantou, clock.now())
        second = await compute_digest(session, qiaoxia, clock.now())
    assert first.share.reaches(80) and [line.name for line in first.townships] == ["岩头镇"]
    assert not second.share.reaches(80)  # 79%
    text = digest_text(second, Texts.load(), {"small_grocery": "小食杂店"}, clock.tz)
    assert "达标率 79.0%（79/100" in text and "✗ 未达到" in text
    assert "【十小通周报】桥下镇 · 2026年4月29日—2026年5月6日" in text
    # a township's digest has no township ranking: its sections are still numbered 一、二、三 without a gap
    heads = [line for line in text.splitlines() if line[:2] in {f"{n}、" for n in "一二三四五"}]
    assert heads == ["一、整治进度", "二、各行业达标率（目标70%）", "三、近7天工作"]


async def test_a_township_digest_ranks_its_villages(db, clock):
    await load_fixture(db, clock)
    async with db.transaction() as session:
        qiaoxia = await find_area(session, "桥下镇", AreaLevel.TOWNSHIP)
        county = await find_area(session, "永嘉县", AreaLevel.COUNTY)
        township, whole = (
            await compute_digest(session, qiaoxia, clock.now()),
            await compute_digest(session, county, clock.now()),
        )
    villages = [(line.name, line.units, line.share.part, line.share.whole, line.complete) for line in township.villages]
    assert villages[0] == ("桥下村", 100, 79, 100, False)
    assert {name for name, *_ in villages} == {"桥下村", "小旦岙村", "光华村", "西溪下村", "金兰村", "梅岙村"}
    assert all(units == 0 for _, units, *_ in villages[1:])
    assert whole.villages == []  # the county's digest ranks townships, not its villages
    texts = Texts.load()
    assert (
        chart_caption(township, texts)
        == "桥下镇各村（社区）达标率（虚线为80%，即乡镇“基本完成”的标准）\n待关停 0、已关停 0（待关停计入基数）"
    )
    assert [line.name for line in chart_lines(township)] == [name for name, *_ in villages]
    assert (
        chart_caption(whole, texts) == "永嘉县各乡镇达标率（虚线为80%基本完成线）\n待关停 0、已关停 2（待关停计入基数）"
    )
    assert [line.name for line in chart_lines(whole)][:2] == ["岩头镇", "桥下镇"]


def test_share_uses_exact_arithmetic():
    assert Share(80, 100).reaches(80) and not Share(79, 100).reaches(80)
    assert not Share(7999, 10000).reaches(80) and Share(4, 5).reaches(80)
    assert not Share(0, 0).reaches(0)


async def test_rendered_county_digest_fits_telegram_and_has_a_chart(db, clock, tmp_path):
    await load_fixture(db, clock)
    async with db.transaction() as session:
        county = await find_area(session, "永嘉县", AreaLevel.COUNTY)
        digest = await compute_digest(session, county, clock.now())
    texts = Texts.load()
    text = digest_text(digest, texts, {"small_grocery": "小食杂店", "small_restaurant": "小餐饮店"}, clock.tz)
    heads = [line for line in text.splitlines() if line[:2] in {f"{n}、" for n in "一二三四五"}]
    assert heads == ["一、整治进度", "二、乡镇排名（达标率，目标80%）", "三、各行业达标率（目标70%）", "四、近7天工作"]
    assert "基本完成的乡镇 1/6（16.7%），全县目标 70%：✗ 未达到" in text
    assert "1. 岩头镇 80.0%（80/100）✓ 基本完成" in text
    assert "2. 桥下镇 79.0%（79/100）" in text and "2. 桥下镇 79.0%（79/100）✓" not in text
    assert "· 小食杂店 77.8%（84/108）✓" in text
    assert "检查上报 3 次（前7天 1 次，增加2次）" in text
    assert "逾期未整改单位 2 家" in text
    assert all(len(part) <= 4096 for part in split_message(text))
    png = chart_png(digest, texts, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_section_numbers_are_chinese_numerals():
    from handlers.formatting import cn_numeral

    assert [cn_numeral(n) for n in (1, 4, 10, 11, 20, 21, 99)] == ["一", "四", "十", "十一", "二十", "二十一", "九十九"]


def test_long_text_is_split_at_line_breaks():
    text = "\n".join(f"第{i}行" + "字" * 50 for i in range(300))
    parts = split_message(text)
    assert len(parts) > 1 and all(len(part) <= 4000 for part in parts)
    assert "\n".join(parts) == text


async def test_report_on_demand_for_officials_only(core, db, clock):
    from tests.chat_driver import Person, register

    await load_fixture(db, clock)
    official = await register(core, db, clock, 801, Role.TOWNSHIP, "桥下镇", "陈镇长")
    await official.press("数据报表")
    texts = [reply.text for reply in official.last_outcome.replies]
    assert "【十小通周报】桥下镇" in texts[0] and "达标率 79.0%" in texts[0]
    assert official.last.photo and official.last.photo.endswith(".png")
    assert (
        official.last.text
        == "桥下镇各村（社区）达标率（虚线为80%，即乡镇“基本完成”的标准）\n待关停 0、已关停 0（待关停计入基数）"
    )
    county = await register(core, db, clock, 802, Role.COUNTY, None, "周主任")
    replies = await county.command("report")
    assert "基本完成的乡镇 1/6" in replies[0].text
    resident = Person(core, 803)
    await resident.command("start")
    assert "无权办理" in (await resident.command("report"))[0].text


def test_digest_and_report_from_the_command_line(tmp_path):
    import asyncio

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from bot.cli import app
    from handlers.area_files import SAMPLE_COUNTY, parse_area_file
    from storage.areas import load_county
    from storage.clock import SystemClock
    from storage.db import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> None:
        db = Database(url)
        await db.upgrade()
        clock = SystemClock()
        async with db.transaction() as session:
            await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
        await load_fixture(db, clock)
        await db.dispose()

    asyncio.run(seed())
    env = {"SHIXIAO_DATABASE_URL": url}
    runner = CliRunner()
    printed = runner.invoke(app, ["digest", "--scope", "桥下镇", "--chart", str(tmp_path / "c.png")], env=env)
    assert printed.exit_code == 0 and "达标率 79.0%（79/100" in printed.output
    assert (tmp_path / "c.png").stat().st_size > 5000
    county = runner.invoke(app, ["digest", "--scope", "county"], env=env)
    assert "1. 岩头镇 80.0%（80/100）✓ 基本完成" in county.output
    missing = runner.invoke(app, ["digest", "--scope", "火星镇"], env=env)
    assert missing.exit_code == 1 and "找不到“火星镇”" in missing.output
    village = runner.invoke(app, ["digest", "--scope", "芙蓉村"], env=env)
    assert village.exit_code == 1 and "找不到" not in village.output
    assert "“芙蓉村”是岩头镇的村，周报只按全县或乡镇生成" in village.output and "--scope 岩头镇" in village.output
    for name in ("全县", "永嘉县"):
        assert runner.invoke(app, ["digest", "--scope", name], env=env).output == county.output
    jpeg = runner.invoke(app, ["digest", "--chart", str(tmp_path / "c.jpg")], env=env)
    assert jpeg.exit_code == 2 and "图表只能保存为 PNG 文件，请把“c.jpg”改为如“c.png”" in jpeg.output
    assert not (tmp_path / "c.jpg").exists()
    silent = runner.invoke(app, ["digest", "--no-print"], env=env)
    assert silent.exit_code == 2 and "--no-print 不打印周报，又没有用 --chart 保存图表" in silent.output
    chart_only = runner.invoke(app, ["digest", "--no-print", "--chart", str(tmp_path / "only.png")], env=env)
    assert chart_only.exit_code == 0 and "周报" not in chart_only.output and (tmp_path / "only.png").exists()
    empty = {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    for args in (["digest"], ["export", "report", "--out", str(tmp_path / "r.xlsx")]):
        nothing = runner.invoke(app, args, env=empty)
        assert nothing.exit_code == 1 and "还没有载入县、乡镇和村" in nothing.output and "county" not in nothing.output
    out = tmp_path / "report.xlsx"
    exported = runner.invoke(app, ["export", "report", "--out", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", "各乡镇达标情况", "各行业达标情况"]
    rows = list(book["各乡镇达标情况"].iter_rows(values_only=True))
    assert rows[1] == (1, "岩头镇", 100, 80, 0, 0, 100, 0.8, "是") and rows[2][-1] == "否"
    assert rows[3][:7] == (3, "碧莲镇", 10, 5, 0, 2, 8)  # 待关停, 已关停 beside the base
    # shares are numbers shown as percentages (they sort and sum); no units to measure leaves the cell empty
    assert book["各乡镇达标情况"]["H2"].number_format == "0.0%" and rows[-1][6:8] == (0, None)
    industries = list(book["各行业达标情况"].iter_rows(values_only=True))
    assert industries[1][1:6] == (84, 0, 2, 108, 84 / 108) and book["各行业达标情况"]["F2"].number_format == "0.0%"
    summary = {label.value: cell for label, cell in book["汇总"].iter_rows(min_row=2)}
    assert summary["达标率（待关停计入基数，已关停不计入）"].value == 164 / 208
    assert summary["达标率（待关停计入基数，已关停不计入）"].number_format == "0.0%"
    assert (summary["待关停"].value, summary["已关停（含已取缔）"].value) == (0, 2)
    assert (
        isinstance(summary["统计截止"].value, datetime)
        and summary["统计截止"].number_format == 'yyyy"年"m"月"d"日" hh:mm'
    )


async def test_the_chart_is_drawn_off_the_event_loop(core, db, clock, monkeypatch):
    """/report's chart (0.1 s, 0.8 s more the first time) is drawn on a worker thread (handlers/report.py), so the
    event loop goes on serving other chats meanwhile."""
    import threading

    import handlers.report
    from tests.chat_driver import register

    drawn_on = []
    draw = handlers.report.chart_png

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        drawn_on.append(threading.current_thread())
        return draw(*args, **kwargs)

    monkeypatch.setattr(handlers.report, "chart_png", watched)
    official = await register(core, db, clock, 811, Role.COUNTY, None, "周主任")
    replies = await official.command("report")
    assert replies[-1].photo and replies[-1].photo.endswith(".png")
    assert len(drawn_on) == 1 and drawn_on[0] is not threading.current_thread()
