"""The web console in a real browser: Debian's Chromium (/usr/bin/chromium) driven headless by Playwright, against
the real server, database and chat core. Each page is saved as a screenshot under tests/output/web/ (at the office
screen's 1366×768, and the dashboard also at a phone's width) to be looked at."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.complaint_models import Complaint, ComplaintStatus
from storage.inspection_models import Inspection, InspectionStatus, Unit
from storage.models import Area
from tests.web_support import furnish, running_office
from tests.world import THERE_TOWNSHIP

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "output" / "web"
pytestmark = [
    pytest.mark.slow,  # a browser start and every page: left out of the quick tier
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium fonts-noto-cjk)",
    ),
]


@pytest.fixture
def db_url(tmp_path) -> str:
    """SQLite only: the browser tests exercise pages, not dialects (tests/test_web_console.py runs both)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
async def office(db, clock, tmp_path):
    async for running in running_office(db, clock, tmp_path):
        await furnish(running, db, clock)
        yield running


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def signed_in(browser, office, who: str, width: int = 1366, height: int = 768):
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(await office.link(who))
    await page.click("#signin")
    await page.wait_for_url(office.base + "/")
    return page


async def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def add_owner_fix_with_photo(office, db) -> None:
    from storage.kept_photo_models import PhotoOf, RecordPhoto
    from storage.media import keep
    from storage.owner_models import OwnerFix
    from tests.web_support import photo_png

    stored = await keep(office.console.media, photo_png("已整改"))
    world = office.world
    async with db.transaction() as session:
        now = office.console.clock.now()
        fix = OwnerFix(
            unit_id=world.units["here"],
            report_id=world.inspections["here_submitted"],
            owner_id=world.user_ids["operator"],
            items={"common.scope": {"note": "已按执照核定范围经营"}},
            created_at=now,
        )
        session.add(fix)
        await session.flush()
        session.add(
            RecordPhoto(
                kind=PhotoOf.OWNER_FIX,
                record_id=fix.id,
                item_id="common.scope",
                file_id="fix-photo",
                sha256=stored.sha256,
                extension=stored.extension,
                created_at=now,
            )
        )


async def test_an_official_works_through_every_page(office, browser, db):
    page = await signed_in(browser, office, "township")
    assert "达标率" in await page.inner_text("main")
    await shot(page, "01-dashboard-township")
    # 审核: return one report with a reason (the cadre's correction comes back), approve another.
    await page.click("text=审核")
    await shot(page, "02-review-queue")
    await page.click(f"a[href='/review/{office.world.inspections['here_submitted']}'] >> nth=0")
    assert "here-submitted营业执照未悬挂" in await page.inner_text("main")
    photo = await page.request.get(office.base + await page.get_attribute(".photos img", "src"))
    assert photo.status == 200 and (await photo.body()).startswith(b"\x89PNG"), await photo.text()
    await page.wait_for_function("document.querySelector('.photos img').naturalWidth > 0")  # from the media store
    await shot(page, "03-review-report")
    await page.fill("#reason", "营业执照照片看不清，请重拍")
    await page.click("#return")
    await page.wait_for_url("**/review?done=*")
    assert "已退回" in await page.inner_text(".flash")
    async with db.transaction() as session:
        returned = await session.get(Inspection, office.world.inspections["here_submitted"])
        assert returned.status == InspectionStatus.RETURNED
    # 单位: a typo-tolerant search, the unit's page, an edit.
    await page.click("header >> text=单位")
    await page.fill("input[name=q]", "老汪小吃")
    await page.click("#search button")
    assert "老王小吃店" in await page.inner_text("#units")
    await shot(page, "04-units-search")
    await page.click("#units >> text=老王小吃店")
    await page.fill("input[name=address]", "芙蓉村中街8号")
    await page.click("#save")
    await page.wait_for_url("**saved=1")
    assert "芙蓉村中街8号" in await page.inner_text("main")
    await shot(page, "05-unit-page")
    async with db.transaction() as session:
        assert (await session.get(Unit, office.world.units["here"])).address == "芙蓉村中街8号"
    # The owner's 已整改 report with its kept photo, on the same page (storage/unit_records.py).
    await add_owner_fix_with_photo(office, db)
    await page.reload()
    await page.wait_for_function("document.querySelector('.photos img').naturalWidth > 0")  # from the media store
    assert "不超范围经营（已按执照核定范围经营）" in await page.inner_text("main")
    await shot(page, "05b-unit-owner-fix")
    # 投诉: accept one.
    await page.click("header >> text=投诉")
    await shot(page, "06-complaints")
    anonymous = office.world.complaints["here_operator_anon"]
    await page.click(f"text={anonymous.number}")
    await shot(page, "07-complaint")
    await page.click("#accept")
    await page.wait_for_url("**/complaints?done=*")
    async with db.transaction() as session:
        assert (await session.get(Complaint, anonymous.id)).status == ComplaintStatus.ACCEPTED
    # 转办: another one to 桥下镇 (its village not known), through the chat's rules.
    moving = office.world.complaints["here_anon"]
    async with db.transaction() as session:
        there = await session.scalar(select(Area).where(Area.name == THERE_TOWNSHIP))
    await page.goto(office.base + f"/complaints/{moving.id}")
    await page.select_option("#reroute-area select[name=place]", f"{there.id}:none")
    await page.fill("#reroute-area textarea[name=note]", "店在桥下镇，转桥下镇办理")
    await shot(page, "07b-complaint-reroute")
    await page.click("#reroute-place")
    await page.wait_for_url("**/complaints?done=*")
    assert "转办" in await page.inner_text(".flash")
    async with db.transaction() as session:
        moved = await session.get(Complaint, moving.id)
        assert (moved.township_id, moved.office_area_id) == (there.id, there.id)
    # 计划 and 地图.
    await page.click("header >> text=计划")
    await shot(page, "08-plan")
    await page.click("header >> text=地图")
    await page.wait_for_selector("#map[data-ready='1']")
    await shot(page, "09-map")
    assert "单位 8 个" in await page.inner_text("#map-count")  # 岩头镇's: 老王小吃店 and its seven furnished shops


async def test_approve_and_county_views_and_a_phone(office, browser, db):
    township = await signed_in(browser, office, "township")
    await township.goto(office.base + f"/review/{office.world.inspections['here_submitted']}")
    await township.click("#approve")
    await township.wait_for_url("**/review?done=*")
    assert "审核通过" in await township.inner_text(".flash")
    async with db.transaction() as session:
        approved = await session.get(Inspection, office.world.inspections["here_submitted"])
        assert approved.status == InspectionStatus.APPROVED
    county = await signed_in(browser, office, "county")
    await shot(county, "10-dashboard-county")
    await county.goto(office.base + "/units")
    await shot(county, "11-units-county")
    phone = await signed_in(browser, office, "township", width=390, height=844)
    await shot(phone, "12-dashboard-phone")


async def test_refusals_in_the_browser(office, browser, db, clock):
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    answer = await page.goto(office.base + "/")
    assert answer.status == 401 and "/web" in await page.inner_text("main")
    await shot(page, "20-no-session")
    link = await office.link("township")
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(office.base + "/")
    other = await (await browser.new_context()).new_page()
    await other.goto(link)  # the same link again: replayed
    await other.click("#signin")
    assert "已经使用过" in await other.inner_text("main")
    await shot(other, "21-replayed-link")
    late = await office.link("township")
    clock.advance(timedelta(minutes=11))
    await other.goto(late)
    await other.click("#signin")
    assert "已过期" in await other.inner_text("main")
    await shot(other, "22-expired-link")
    answer = await page.goto(office.base + f"/units/{office.world.units['there']}")
    assert answer.status == 404 and "不在您的管辖范围" in await page.inner_text("main")
    await shot(page, "23-wrong-township")
    # A form whose CSRF token was removed: refused, the report still waits.
    await page.goto(office.base + f"/review/{office.world.inspections['here_submitted']}")
    await page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    await page.click("#approve")
    assert "安全校验码" in await page.inner_text("main")
    await shot(page, "24-missing-csrf")
    async with db.transaction() as session:
        waiting = await session.scalar(
            select(Inspection.status).where(Inspection.id == office.world.inspections["here_submitted"])
        )
        assert waiting == InspectionStatus.SUBMITTED
