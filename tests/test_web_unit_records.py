"""The unit's page in the web console shows the owner's 已整改 reports and the verified closures with the photos the
product kept of them (before, those photos were kept and backed up but no screen or export showed them). A photo is
served only through the unit it belongs to, to those who may open that unit's page."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from storage.inspection_models import UnitClosure
from storage.kept_photo_models import PhotoOf, RecordPhoto
from storage.media import keep
from storage.owner_models import OwnerFix
from tests.emulator import make_png
from tests.web_support import running_office


@pytest.fixture
async def office(db, clock, tmp_path):
    async for running in running_office(db, clock, tmp_path):
        yield running


async def add_records(office, db, clock) -> dict[str, int]:
    """A fix with one kept and one lost photo at the unit here, a closure visit with a photo still being saved, and
    a fix with a kept photo at the unit there. Returns the photos' ids."""
    world = office.world
    picture = make_png(5, 5, (10, 160, 10))
    stored = await keep(office.console.media, picture)
    now = clock.now()
    async with db.transaction() as session:
        fix = OwnerFix(
            unit_id=world.units["here"],
            report_id=world.inspections["here_submitted"],
            owner_id=world.user_ids["operator"],
            items={"common.scope": {"note": "已按执照核定范围经营"}, "common.display": {"note": ""}},
            created_at=now,
        )
        there_fix = OwnerFix(
            unit_id=world.units["there"],
            report_id=world.inspections["there_submitted"],
            owner_id=world.user_ids["operator"],
            items={"common.scope": {}},
            created_at=now,
        )
        closure = UnitClosure(
            unit_id=world.units["here"],
            kind="shut_down",
            closed_on=date(2026, 12, 1),
            note="门面已转租",
            source="visit",
            recorded_by_id=world.user_ids["cadre"],
            recorded_by_name="李建国",
            recorded_by_role="cadre",
            recorded_at=now,
        )
        session.add_all([fix, there_fix, closure])
        await session.flush()
        kept = dict(sha256=stored.sha256, extension=stored.extension, created_at=now)
        photos = {
            "kept": RecordPhoto(kind=PhotoOf.OWNER_FIX, record_id=fix.id, item_id="common.scope", file_id="a", **kept),
            "lost": RecordPhoto(
                kind=PhotoOf.OWNER_FIX, record_id=fix.id, file_id="b", failed=True, attempts=8, created_at=now
            ),
            "saving": RecordPhoto(kind=PhotoOf.CLOSURE, record_id=closure.id, file_id="c", created_at=now),
            "there": RecordPhoto(kind=PhotoOf.OWNER_FIX, record_id=there_fix.id, file_id="d", **kept),
        }
        session.add_all(photos.values())
        await session.flush()
        return {key: photo.id for key, photo in photos.items()} | {"png": len(picture)}


async def test_the_unit_page_shows_fixes_and_closures_with_their_photos(office, db, clock):
    ids = await add_records(office, db, clock)
    here = office.world.units["here"]
    client = await office.client("township")
    page = await client.get(f"/units/{here}")
    assert page.status_code == 200
    text = page.text
    assert "业主整改报告" in text and "已按执照核定范围经营" in text
    # The fixed items named by their requirements, not their ids.
    assert "实际经营项目与执照、许可证核定的范围一致，不超范围经营（已按执照核定范围经营）" in text
    assert "营业执照和各类许可证在经营场所醒目位置悬挂（亮证亮照）" in text
    assert "common.scope" not in text
    assert f'<img src="/units/{here}/photos/{ids["kept"]}"' in text
    assert "照片2下载失败" in text
    assert "关停核实" in text and "已关停" in text and "门面已转租" in text and "李建国" in text
    assert "照片正在保存" in text
    photo = await client.get(f"/units/{here}/photos/{ids['kept']}")
    assert (photo.status_code, len(photo.content), photo.headers["content-type"]) == (200, ids["png"], "image/png")
    await client.aclose()


async def test_a_photo_opens_only_through_its_own_unit_and_only_when_kept(office, db, clock):
    ids = await add_records(office, db, clock)
    here, there = office.world.units["here"], office.world.units["there"]
    township = await office.client("township")
    for photo in (ids["lost"], ids["saving"], ids["there"], 999999, "x"):  # not kept, another unit's, none, nonsense
        assert (await township.get(f"/units/{here}/photos/{photo}")).status_code == 404, photo
    # The other township's unit and its photo read as never existing, through either unit.
    assert (await township.get(f"/units/{there}/photos/{ids['there']}")).status_code == 404
    await township.aclose()
    county = await office.client("county")
    assert (await county.get(f"/units/{there}/photos/{ids['there']}")).status_code == 200
    assert (await county.get(f"/units/{there}/photos/{ids['kept']}")).status_code == 404  # here's photo, there's URL
    await county.aclose()
    # No session (a cadre or resident cannot get one; the matrix checks the unit page itself for every role).
    stranger = httpx.AsyncClient(base_url=office.base, follow_redirects=False, timeout=30)
    assert (await stranger.get(f"/units/{here}/photos/{ids['kept']}")).status_code == 401
    await stranger.aclose()


async def test_a_unit_without_fixes_says_so_and_shows_no_closure_section(office):
    client = await office.client("township")
    page = await client.get(f"/units/{office.world.units['here']}")
    assert "业主还没有报过已整改。" in page.text and "关停核实" not in page.text
    await client.aclose()
