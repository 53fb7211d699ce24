"""转办 and 标记重复 on the web console's complaints desk (bot/web/complaint_actions.py): the chat's rules through HTTP.
A township official acts only on complaints its office handles and names as the original only a complaint it may
see; a re-route offers the county's townships and villages or another category; every refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import complaints
from storage.complaint_models import Complaint
from storage.models import Area, OutboxMessage
from storage.web_models import WebAudit
from tests.web_support import csrf_of, running_office
from tests.world import THERE_TOWNSHIP


@pytest.fixture
async def office(db, clock, tmp_path):
    async for running in running_office(db, clock, tmp_path):
        yield running


async def stored(db, complaint_id: int) -> Complaint:
    async with db.transaction() as session:
        found = await session.get(Complaint, complaint_id)
        assert found is not None
        return found


async def audited(db, action: str) -> list[WebAudit]:
    async with db.transaction() as session:
        return list(await session.scalars(select(WebAudit).where(WebAudit.action == action)))


async def test_mark_duplicate_only_of_a_complaint_in_scope(office, db):
    world = office.world
    client = await office.client("township")
    here, original, elsewhere = (world.complaints[k] for k in ("here_anon", "here_real", "there_real"))
    page = await client.get(f"/complaints/{here.id}")
    assert 'id="duplicate"' in page.text and "请在聊天中操作" not in page.text
    form = {"csrf": csrf_of(page.text), "from": "submitted", "note": "与前一件为同一家店"}
    for bad in (elsewhere.number, here.number, "TS-2026-999999", "<script>"):
        refused = await client.post(f"/complaints/{here.id}/duplicate", data={**form, "original": bad})
        assert refused.status_code == 400 and "原投诉编号" in refused.text, bad
        assert (await stored(db, here.id)).status == "submitted"
    short = await client.post(
        f"/complaints/{here.id}/duplicate", data={**form, "original": original.number, "note": "x"}
    )
    assert short.status_code == 400 and (await stored(db, here.id)).status == "submitted"
    assert await audited(db, "complaint_duplicate") == []
    done = await client.post(f"/complaints/{here.id}/duplicate", data={**form, "original": original.number.lower()})
    assert done.status_code == 303
    marked = await stored(db, here.id)
    assert (marked.status, marked.duplicate_of_id) == ("duplicate", original.id)
    async with db.transaction() as session:
        following = {user.id for user in await complaints.followers(session, original.id)}
        resident = world.people["resident"].user_id
        told = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == resident)))
    assert world.user_ids["resident"] in following  # the duplicate's complainant follows the original now
    assert any(original.number in n.payload.get("text", "") for n in told)
    [row] = await audited(db, "complaint_duplicate")
    assert (row.user_id, row.target) == (world.user_ids["township"], here.number)
    again = await client.post(f"/complaints/{here.id}/duplicate", data={**form, "original": original.number})
    assert again.status_code == 409  # finished: nothing more to do
    await client.aclose()


async def test_reroute_to_another_township_as_in_the_chat(office, db):
    world = office.world
    client = await office.client("township")
    moving = world.complaints["here_operator_anon"]
    async with db.transaction() as session:
        there = await session.scalar(select(Area).where(Area.name == THERE_TOWNSHIP))
        village = await session.scalar(select(Area).where(Area.parent_id == there.id))
    page = await client.get(f"/complaints/{moving.id}")
    assert f'value="{there.id}:{village.id}"' in page.text and 'id="reroute-category"' in page.text
    form = {"csrf": csrf_of(page.text), "from": "submitted", "what": "area", "note": "地址在桥下镇"}
    before = await stored(db, moving.id)
    for place in ("99999:none", f"{there.id}:99999", f"{before.township_id}:{village.id}", "", "1 OR 1=1"):
        refused = await client.post(f"/complaints/{moving.id}/reroute", data={**form, "place": place})
        assert refused.status_code == 400 and "没有做任何修改" in refused.text, place
    same = await client.post(
        f"/complaints/{moving.id}/reroute", data={**form, "what": "category", "category": before.category}
    )
    assert same.status_code == 400
    stale = await client.post(
        f"/complaints/{moving.id}/reroute", data={**form, "from": "accepted", "place": f"{there.id}:none"}
    )
    assert stale.status_code == 409
    after = await stored(db, moving.id)
    assert (after.township_id, after.office_area_id, after.category) == (
        before.township_id,
        before.office_area_id,
        before.category,
    )
    done = await client.post(f"/complaints/{moving.id}/reroute", data={**form, "place": f"{there.id}:{village.id}"})
    assert done.status_code == 303
    moved = await stored(db, moving.id)
    assert (moved.township_id, moved.village_id, moved.office_area_id, moved.status) == (
        there.id,
        village.id,
        there.id,
        "submitted",
    )
    async with db.transaction() as session:
        official = world.people["there_township"].user_id
        told = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == official)))
    assert any(moving.number in n.payload.get("text", "") for n in told)  # the new office is asked to accept
    [row] = await audited(db, "complaint_reroute")
    assert row.target == moving.number and "地址在桥下镇" in (row.detail or "")
    # Now the other township's: this township reads it as never issued and cannot act on it.
    assert (await client.get(f"/complaints/{moving.id}")).status_code == 404
    gone = await client.post(f"/complaints/{moving.id}/reroute", data={**form, "place": f"{before.township_id}:none"})
    assert gone.status_code == 404 and (await stored(db, moving.id)).township_id == there.id
    await client.aclose()


async def test_the_county_changes_the_category_and_the_time_limit_follows(office, db):
    world = office.world
    county = await office.client("county")
    complaint = world.complaints["here_real"]
    before = await stored(db, complaint.id)
    page = await county.get(f"/complaints/{complaint.id}")
    form = {"csrf": csrf_of(page.text), "from": "submitted", "what": "category", "note": "其实是无证经营"}
    unknown = await county.post(f"/complaints/{complaint.id}/reroute", data={**form, "category": "nonsense"})
    assert unknown.status_code == 400
    done = await county.post(f"/complaints/{complaint.id}/reroute", data={**form, "category": "unlicensed"})
    assert done.status_code == 303, done.text[:500]
    after = await stored(db, complaint.id)
    assert after.category == "unlicensed" and after.township_id == before.township_id
    await county.aclose()


async def test_the_complaint_page_shows_its_kept_photos_and_flags_a_lost_one(office, db, clock):
    """Issue 17 item 6: a complaint's photos come from the media store, never from the chat's file ids."""
    from storage.complaint_models import ComplaintPhoto
    from storage.media import keep
    from tests.emulator import make_png

    here = office.world.complaints["here_anon"]
    picture = make_png(6, 6, (200, 10, 10))
    stored = await keep(office.console.media, picture)
    async with db.transaction() as session:
        common = {"complaint_id": here.id, "created_at": clock.now(), "file_unique_id": None, "size": 1000}
        session.add(ComplaintPhoto(file_id="kept", sha256=stored.sha256, extension=stored.extension, **common))
        session.add(ComplaintPhoto(file_id="lost", failed=True, attempts=8, **common))
    client = await office.client("township")
    page = await client.get(f"/complaints/{here.id}")
    assert f'<img src="/complaints/{here.id}/photos/0"' in page.text and "照片2下载失败" in page.text
    assert "其中1张多次下载失败，未能保存" in page.text
    photo = await client.get(f"/complaints/{here.id}/photos/0")
    assert (photo.status_code, photo.content, photo.headers["content-type"]) == (200, picture, "image/png")
    for missing in ("1", "2", "x"):  # the lost one, one past the end, not a number
        assert (await client.get(f"/complaints/{here.id}/photos/{missing}")).status_code == 404
    elsewhere = office.world.complaints["there_real"]
    assert (await client.get(f"/complaints/{elsewhere.id}/photos/0")).status_code == 404
