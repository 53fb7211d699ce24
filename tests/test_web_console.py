"""The web console over HTTP (a real uvicorn server, the real database, links from the chat's /web): sign-in and
its refusals, the role and area rules, CSRF, and bad input. tests/test_web_browser.py drives the same in Chromium."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import openpyxl
import pytest
from sqlalchemy import func, select

from storage import owners
from storage.inspection_models import Inspection, InspectionStatus, Unit
from storage.models import OutboxMessage
from storage.web_models import UnitEdit, WebAudit, WebSession
from tests.web_support import csrf_of, furnish, running_office


@pytest.fixture
async def office(db, clock, tmp_path):
    async for running in running_office(db, clock, tmp_path):
        yield running


async def count(db, column, *where) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count(column)).where(*where)) or 0)


async def test_web_is_for_township_and_county_officials_only(office):
    for who in ("cadre", "operator", "resident"):
        answer = (await office.world.people[who].command("web"))[-1].text
        assert "无权办理" in answer and "http" not in answer, (who, answer)
    for who in ("township", "county"):
        assert "/signin/" in await office.link(who)


async def test_a_link_signs_in_once_and_expires_after_ten_minutes(office, clock):
    client = await office.client("township")
    page = await client.get("/")
    assert page.status_code == 200 and "岩头镇" in page.text and "达标率" in page.text
    cookie = page.request.headers["cookie"]
    assert "shixiao_web=" in cookie
    link = await office.link("township")
    token = link.rsplit("/", 1)[1]
    async with __import__("httpx").AsyncClient(base_url=office.base) as other:
        assert (await other.post("/signin", data={"token": token})).status_code == 303
        replayed = await other.post("/signin", data={"token": token})
        assert replayed.status_code == 403 and "已经使用过" in replayed.text
        late = (await office.link("township")).rsplit("/", 1)[1]
        clock.advance(timedelta(minutes=11))
        expired = await other.post("/signin", data={"token": late})
        assert expired.status_code == 403 and "已过期" in expired.text
        forged = await other.post("/signin", data={"token": "A" * 43})
        assert forged.status_code == 403 and "无效" in forged.text
    await client.aclose()


async def test_no_session_tampered_cookie_idle_timeout_and_sign_out_everywhere(office, clock):
    import httpx

    async with httpx.AsyncClient(base_url=office.base) as anonymous:
        for path in ("/", "/review", "/units", "/complaints", "/plan", "/map", "/map/points.json"):
            answer = await anonymous.get(path)
            assert answer.status_code == 401 and "/web" in answer.text, path
        anonymous.cookies.set("shixiao_web", "eyJhbGciOi.forged.signature")
        assert (await anonymous.get("/")).status_code == 401
    client = await office.client("county")
    signed = client.cookies.get("shixiao_web")
    client.cookies.set("shixiao_web", signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"))
    assert (await client.get("/")).status_code == 401
    client.cookies.set("shixiao_web", signed)
    assert (await client.get("/")).status_code == 200
    clock.advance(timedelta(hours=8, minutes=1))
    assert (await client.get("/")).status_code == 401  # idle for more than 8 hours
    second = await office.client("county")
    third = await office.client("county")
    answer = (await office.world.people["county"].command("web", "退出"))[-1].text
    assert "已在所有浏览器上退出" in answer and "个登录" in answer
    for browser in (second, third):
        assert (await browser.get("/")).status_code == 401
        await browser.aclose()
    await client.aclose()


async def test_review_approve_and_return_notify_the_cadre_through_the_outbox(office, db):
    world = office.world
    client = await office.client("township")
    waiting = await client.get("/review")
    assert "老王小吃店" in waiting.text and "桥头面馆" not in waiting.text
    here = world.inspections["here_submitted"]
    page = await client.get(f"/review/{here}")
    assert page.status_code == 200 and "here-submitted营业执照未悬挂" in page.text
    before = await count(db, OutboxMessage.id)
    short = await client.post(f"/review/{here}", data={"csrf": csrf_of(page.text), "decision": "return", "reason": "x"})
    assert short.status_code == 400 and "退回理由" in short.text
    returned = await client.post(
        f"/review/{here}", data={"csrf": csrf_of(page.text), "decision": "return", "reason": "门头照片看不清，请重拍"}
    )
    assert returned.status_code == 303
    async with db.transaction() as session:
        inspection = await session.get(Inspection, here)
        assert inspection.status == InspectionStatus.RETURNED and inspection.review_note == "门头照片看不清，请重拍"
        notices = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.id > before)))
    cadre = world.people["cadre"].user_id
    assert any(n.chat_id == cadre and "门头照片看不清" in n.payload["text"] for n in notices)
    again = await client.post(f"/review/{here}", data={"csrf": csrf_of(page.text), "decision": "approve"})
    assert again.status_code == 409 and "已经处理过了" in again.text  # decided once: a second decision changes nothing
    # The other township's report: refused like one never filed, nothing changed.
    there = world.inspections["there_submitted"]
    assert (await client.get(f"/review/{there}")).status_code == 404
    forged = await client.post(f"/review/{there}", data={"csrf": csrf_of(page.text), "decision": "approve"})
    assert forged.status_code == 404
    async with db.transaction() as session:
        assert (await session.get(Inspection, there)).status == InspectionStatus.SUBMITTED
    await client.aclose()


async def test_a_post_without_the_csrf_token_changes_nothing(office, db):
    client = await office.client("township")
    here = office.world.inspections["here_submitted"]
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf": "forged"}):
        answer = await client.post(f"/review/{here}", data=data)
        assert answer.status_code == 403 and "安全校验码" in answer.text
    async with db.transaction() as session:
        assert (await session.get(Inspection, here)).status == InspectionStatus.SUBMITTED
    assert await count(db, WebAudit.id, WebAudit.action == "refused") == 2
    await client.aclose()


async def test_roles_and_areas_on_every_page(office):
    """The web rows of the authorization matrix: the chat's own rules (menus.yaml and the area checks)."""
    world = office.world
    township, county, other = [await office.client(who) for who in ("township", "county", "there_township")]
    expected = {  # path: (township, county)
        "/": (200, 200),
        "/review": (200, 403),
        "/units": (200, 200),
        "/complaints": (200, 200),
        "/plan": (200, 200),
        "/map": (200, 200),
        "/map/points.json": (200, 200),
        "/units/export.xlsx": (200, 200),
        f"/review/{world.inspections['here_submitted']}": (200, 403),
        f"/units/{world.units['here']}": (200, 200),
        f"/units/{world.units['there']}": (404, 200),
        f"/complaints/{world.complaints['here_anon'].id}": (200, 200),
        f"/complaints/{world.complaints['there_real'].id}": (404, 200),
    }
    for path, (for_township, for_county) in expected.items():
        assert (await township.get(path)).status_code == for_township, path
        assert (await county.get(path)).status_code == for_county, path
    assert (await other.get(f"/units/{world.units['here']}")).status_code == 404
    for client in (township, county, other):
        await client.aclose()


async def test_complaints_desk_accepts_and_keeps_complainants_private(office, db):
    from tests.world import REAL_NAME, REAL_PHONE

    world = office.world
    township = await office.client("township")
    county = await office.client("county")
    real = world.complaints["here_real"]
    shown = await township.get(f"/complaints/{real.id}")
    assert real.number in shown.text and REAL_NAME not in shown.text and REAL_PHONE not in shown.text
    assert REAL_NAME in (await county.get(f"/complaints/{real.id}")).text
    anonymous = world.complaints["here_operator_anon"]
    assert "王老板" not in (await county.get(f"/complaints/{anonymous.id}")).text
    page = await township.get(f"/complaints/{anonymous.id}")
    accepted = await township.post(f"/complaints/{anonymous.id}/accept", data={"csrf": csrf_of(page.text)})
    assert accepted.status_code == 303
    assert "已受理投诉" in (await township.get(accepted.headers["location"])).text
    # A link made elsewhere cannot put its words on the page as the console's own message.
    forged = await township.get("/complaints", params={"done": "请把验证码发到13800000000"})
    assert forged.status_code == 200 and "验证码" not in forged.text
    desk = await township.get("/complaints?state=accepted")
    assert anonymous.number in desk.text
    await township.aclose()
    await county.aclose()


async def test_register_search_edit_with_history_and_hostile_text(office, db):
    client = await office.client("township")
    found = await client.get("/units", params={"q": "老王小吃"})
    assert "老王小吃店" in found.text and "桥头面馆" not in found.text
    typo = await client.get("/units", params={"q": "老汪小吃店"})
    assert "老王小吃店" in typo.text
    hostile = "<script>alert(1)</script>' OR 1=1; DROP TABLE units;--"
    answer = await client.get("/units", params={"q": hostile})
    assert answer.status_code == 200 and "<script>alert(1)" not in answer.text and "&lt;script&gt;" in answer.text
    unit_id = office.world.units["here"]
    page = await client.get(f"/units/{unit_id}")
    saved = await client.post(
        f"/units/{unit_id}",
        data={
            "csrf": csrf_of(page.text),
            "address": "芙蓉村<b>中街</b>8号",
            "operator_name": "王大",
            "operator_phone": "",
            "licences": "",
            "is_demo": "1",
        },
    )
    assert saved.status_code == 303
    page = await client.get(f"/units/{unit_id}")
    assert "芙蓉村&lt;b&gt;中街&lt;/b&gt;8号" in page.text and "<b>中街</b>" not in page.text
    assert "示范点</td><td>否</td><td>是" in page.text.replace("\n", "")  # the history, in words
    async with db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        assert unit.address == "芙蓉村<b>中街</b>8号" and unit.is_demo
        fields = {edit.field for edit in await session.scalars(select(UnitEdit).where(UnitEdit.unit_id == unit_id))}
    assert fields == {"address", "operator_name", "is_demo"}
    assert await count(db, Unit.id) == 2  # the hostile search dropped nothing
    await client.aclose()


async def test_a_units_page_lists_its_self_checks_apart_from_the_reports(office, db, clock):
    unit_id = office.world.units["here"]
    client = await office.client("township")
    assert "业主还没有做过自查" in (await client.get(f"/units/{unit_id}")).text
    async with db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        checklist = office.console.knowledge.checklists[unit.industry]
        failed = checklist.items[0]
        answers = {item.id: "pass" for item in checklist.items} | {failed.id: "fail"}
        await owners.record_self_check(
            session, unit_id, office.world.user_ids["operator"], unit.industry, answers, clock.now()
        )
    page = (await client.get(f"/units/{unit_id}")).text
    section = page.split("自查记录")[1].split("<h2>")[0]
    assert "1 项：" in section and checklist.text_of(failed.id) in section
    assert "业主还没有做过自查" not in page
    await client.aclose()


def xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["单位名称", "行业", "乡镇", "村", "地址"])
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


async def test_import_reports_rows_refuses_broken_files_and_huge_uploads(office, db):
    client = await office.client("township")
    csrf = csrf_of((await client.get("/units")).text)
    units_before = await count(db, Unit.id)
    bad = xlsx(
        [["新开小吃店", "小餐饮店", "岩头镇", "芙蓉村", "一号"], ["外镇小店", "小餐饮店", "桥下镇", "桥下村", ""]]
    )
    answer = await client.post("/units/import", data={"csrf": csrf}, files={"file": ("名册.xlsx", bad)})
    assert answer.status_code == 400 and "不是本乡镇" in answer.text and "没有写入任何数据" in answer.text
    assert await count(db, Unit.id) == units_before
    broken = await client.post(
        "/units/import", data={"csrf": csrf}, files={"file": ("../../etc/passwd.xlsx", b"PK\x03\x04 not really a zip")}
    )
    assert broken.status_code == 400 and "没有导入任何数据" in broken.text
    good = xlsx([["新开小吃店", "小餐饮店", "岩头镇", "芙蓉村", "一号"]])
    done = await client.post("/units/import", data={"csrf": csrf}, files={"file": ("名册.xlsx", good)})
    assert done.status_code == 303, done.text
    assert await count(db, Unit.id) == units_before + 1
    huge = await client.post(
        "/units/import", data={"csrf": csrf}, files={"file": ("big.xlsx", b"0" * (50 * 1024 * 1024))}
    )
    assert huge.status_code == 413 and "上限" in huge.text
    assert await count(db, Unit.id) == units_before + 1
    await client.aclose()


async def test_milestone_marked_with_a_file_whose_name_cannot_escape(office, db, tmp_path):
    client = await office.client("township")
    page = await client.get("/plan")
    milestone = office.world.milestone
    answer = await client.post(
        f"/plan/{milestone}",
        data={"csrf": csrf_of(page.text), "note": "方案已报县整规办"},
        files={"file": ("../../../../tmp/evil.pdf", b"%PDF-1.4 plan")},
    )
    assert answer.status_code == 303
    stored = list((tmp_path / "web-files").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == b"%PDF-1.4 plan"
    assert not (tmp_path.parent / "evil.pdf").exists()
    grid = await client.get("/plan")
    assert "evil.pdf" in grid.text and "方案已报县整规办" in grid.text
    refused = await client.post(
        f"/plan/{milestone}", data={"csrf": csrf_of(page.text)}, files={"file": ("run.sh", b"#!/bin/sh")}
    )
    assert refused.status_code == 400 and len(list((tmp_path / "web-files").iterdir())) == 1
    await client.aclose()


async def test_sessions_are_rows_any_instance_can_verify(office, db):
    client = await office.client("township")
    assert await count(db, WebSession.id, WebSession.ended_at.is_(None)) == 1
    page = await client.get("/")
    out = await client.post("/signout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 200 and "已退出" in out.text
    assert await count(db, WebSession.id, WebSession.ended_at.is_(None)) == 0
    await client.aclose()


async def test_the_dashboard_shows_the_numbers_of_report(office):
    """The same digest, the same formatting: what the county office reads on the dashboard equals /report."""
    import re

    await furnish(office, office.console.db, office.console.clock)
    for who in ("county", "township"):
        chat = "\n".join(reply.text for reply in await office.world.people[who].command("report"))
        client = await office.client(who)
        page = (await client.get("/")).text
        rate = re.search(r'<b id="rate">([^<]+)</b>', page).group(1)
        assert rate in chat and rate not in ("0.0%", "—"), (who, rate)
        chart = await client.get("/chart.png")
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        await client.aclose()


async def test_a_status_update_with_a_note_as_in_the_chat(office, db):
    world = office.world
    client = await office.client("township")
    anonymous = world.complaints["here_anon"]
    page = await client.get(f"/complaints/{anonymous.id}")
    short = await client.post(
        f"/complaints/{anonymous.id}/status",
        data={"csrf": csrf_of(page.text), "from": "submitted", "status": "investigating", "note": "a"},
    )
    assert short.status_code == 400 and "办理说明" in short.text
    stale = await client.post(
        f"/complaints/{anonymous.id}/status",
        data={"csrf": csrf_of(page.text), "from": "accepted", "status": "investigating", "note": "已派人核查"},
    )
    assert stale.status_code == 409
    done = await client.post(
        f"/complaints/{anonymous.id}/status",
        data={"csrf": csrf_of(page.text), "from": "submitted", "status": "investigating", "note": "<b>已派人</b>核查"},
    )
    assert done.status_code == 303
    async with db.transaction() as session:
        from storage.complaint_models import Complaint

        assert (await session.get(Complaint, anonymous.id)).status == "investigating"
        resident = world.people["resident"].user_id
        notices = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == resident)))
    assert any("已派人" in n.payload.get("text", "") for n in notices)  # the complainant hears of it
    shown = (await client.get(f"/complaints/{anonymous.id}")).text
    assert "&lt;b&gt;已派人&lt;/b&gt;" in shown and "<b>已派人</b>" not in shown
    await client.aclose()


async def test_a_corrected_report_shows_what_changed_since_the_returned_version(office, db, clock):
    from storage import inspections

    world = office.world
    returned = world.inspections["here_returned"]
    async with db.transaction() as session:
        report = inspections.Report(
            unit_id=world.units["here"],
            submit_key="corrected",
            industry="small_restaurant",
            answers={"common.display": "pass"},
            notes={},
            proposed_compliant=True,
            compliant=True,
            unit_class="upgrade",
            previous_id=returned,
        )
        corrected, _ = await inspections.submit(session, report, world.user_ids["cadre"], clock.now())
    client = await office.client("township")
    page = (await client.get(f"/review/{corrected.id}")).text
    assert "与上一版相比的修改" in page and "上次退回理由：照片看不清楚，请重拍" in page
    changed = page[page.index("与上一版相比的修改") :]
    assert "不符合" in changed and "符合" in changed and "营业执照" in changed
    assert "JC000002" in page  # the same number as the version returned
    await client.aclose()


async def test_a_session_holds_on_any_instance_and_ends_on_all(office, db, clock, tmp_path):
    """A second instance (its own application object, the same database and secret) accepts the cookie the first
    one set; signing out everywhere from the chat ends it on both."""
    import httpx

    from bot.web.app import Console, build_app
    from storage.media import LocalMediaStore

    first = office.console
    second = build_app(
        Console(
            db=db,
            clock=clock,
            texts=first.texts,
            menus=first.menus,
            knowledge=first.knowledge,
            media=LocalMediaStore(tmp_path / "media2"),
            cookies=first.cookies,
            files_dir=tmp_path / "files2",
            charts_dir=tmp_path / "charts2",
            upload_max=first.upload_max,
        )
    )
    client = await office.client("township")
    cookie = client.cookies.get("shixiao_web")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://second", cookies={"shixiao_web": cookie}
    ) as other:
        assert (await other.get("/")).status_code == 200
        await office.world.people["township"].command("web", "退出")
        assert (await other.get("/")).status_code == 401
    assert (await client.get("/")).status_code == 401
    await client.aclose()


async def test_the_export_holds_the_officials_area(office):
    township, county = await office.client("township"), await office.client("county")
    for client, present, absent in (
        (township, {"老王小吃店"}, {"桥头面馆"}),
        (county, {"老王小吃店", "桥头面馆"}, set()),
    ):
        answer = await client.get("/units/export.xlsx")
        assert answer.status_code == 200
        sheet = openpyxl.load_workbook(BytesIO(answer.content), read_only=True).active
        names = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert present <= names and not names & absent, names
        await client.aclose()
