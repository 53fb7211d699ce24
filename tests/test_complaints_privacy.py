"""Who sees who filed a complaint: every role × anonymous/实名, by the rule and in what each person is shown."""

from __future__ import annotations

import pytest

from handlers.complaints.privacy import Audience, audience_of, complainant_identity, may_read_description
from storage.complaint_models import Complaint
from storage.complaints import add_follower
from storage.models import Role, User
from storage.users import get_by_channel_id, users_with_role
from tests.chat_driver import Person, register
from tests.complaints_support import complaint, file_complaint, notices_to

NAME, PHONE = "王小明", "13812345678"

# Who may see the complainant's name and phone: (anonymous?, audience) -> sees.
EXPECTED = {
    (True, Audience.COMPLAINANT): False,  # nothing is stored to show, even to themselves
    (True, Audience.COUNTY): False,
    (True, Audience.TOWNSHIP): False,
    (True, Audience.CADRE): False,
    (True, Audience.OPERATOR): False,
    (True, Audience.PUBLIC): False,
    (False, Audience.COMPLAINANT): True,
    (False, Audience.COUNTY): True,
    (False, Audience.TOWNSHIP): False,
    (False, Audience.CADRE): False,
    (False, Audience.OPERATOR): False,
    (False, Audience.PUBLIC): False,
}


@pytest.mark.parametrize(("anonymous", "audience"), sorted(EXPECTED, key=str))
def test_the_rule_for_every_audience(anonymous, audience):
    filed = Complaint(
        anonymous=anonymous,
        complainant_name=None if anonymous else NAME,
        complainant_phone=None if anonymous else PHONE,
        complainant_id=1,
    )
    identity = complainant_identity(filed, audience)
    sees = EXPECTED[(anonymous, audience)]
    assert (identity.name == NAME, identity.phone == PHONE) == (sees, sees)
    assert identity.anonymous is anonymous


def test_roles_map_to_audiences_and_the_complainant_is_recognised():
    filed = Complaint(complainant_id=7, anonymous=True)
    for role, audience in [
        (Role.COUNTY, Audience.COUNTY),
        (Role.TOWNSHIP, Audience.TOWNSHIP),
        (Role.CADRE, Audience.CADRE),
        (Role.OPERATOR, Audience.OPERATOR),
        (Role.RESIDENT, Audience.PUBLIC),
    ]:
        assert audience_of(User(id=8, role=role), filed) is audience
        assert audience_of(User(id=7, role=role), filed) is Audience.COMPLAINANT
    assert [a for a in Audience if may_read_description(a)] == [
        Audience.COMPLAINANT,
        Audience.COUNTY,
        Audience.TOWNSHIP,
    ]


async def everything_sent_to(db, chat_id: int) -> str:
    return "\n".join(p.get("text", "") for p in await notices_to(db, chat_id))


@pytest.mark.parametrize("anonymous", [True, False], ids=["anonymous", "real-name"])
async def test_what_each_role_is_shown(core, db, clock, anonymous):
    township = await register(core, db, clock, 1001, Role.TOWNSHIP, "岩头镇", "赵乡长")
    county = await register(core, db, clock, 1002, Role.COUNTY, None, "孙主任")
    cadre = await register(core, db, clock, 1003, Role.CADRE, "芙蓉村", "李建国")
    operator = await register(core, db, clock, 1004, Role.OPERATOR, "芙蓉村", "老王")
    filer = Person(core, 1005)
    await filer.command("start")
    if anonymous:
        number = await file_complaint(filer, description="老王小卖部无证经营很久了")
    else:
        number = await file_complaint(
            filer, description="老王小卖部无证经营很久了", identity="实名提交", name=NAME, phone=PHONE
        )
    follower = Person(core, 1006)
    await follower.command("start")
    await follower.press("投诉举报")
    await follower.press("无证经营")
    await follower.press("岩头镇")
    await follower.press("芙蓉村")
    await follower.text("老王小卖部")
    assert number not in follower.last.text and "关注" not in str(follower.last.choices)
    await follower.press("不再重复提交")
    await follower.command("track", number)
    assert "没有找到" in follower.last.text  # typing the shop's name gives no way in
    filed_id = (await complaint(db, number)).id
    async with db.transaction() as session:  # a follower only by an official's merge (重复): public status only
        account = await get_by_channel_id(session, follower.user_id)
        await add_follower(session, filed_id, account.id, clock.now())

    # Everyone opens the complaint the way their role can; then the official moves it along so notices flow.
    views: dict[str, str] = {}
    for label, person in [
        ("township", township),
        ("county", county),
        ("cadre", cadre),
        ("operator", operator),
        ("follower", follower),
        ("filer", filer),
    ]:
        views[label] = "\n".join(r.text for r in await person.command("track", number))
    await township.press("受理")

    def shows_identity(text: str) -> bool:
        return NAME in text or PHONE in text

    expected = {
        "county": not anonymous,
        "filer": not anonymous,
        "township": False,
        "cadre": False,
        "operator": False,
        "follower": False,
    }
    assert {label: shows_identity(text) for label, text in views.items()} == expected
    assert "没有找到" in views["cadre"] and "没有找到" in views["operator"]
    assert "老王小卖部无证经营很久了" in views["township"] and "老王小卖部无证经营很久了" not in views["follower"]
    label = "投诉人：匿名" if anonymous else "实名（姓名和电话仅县整规办可见）"
    assert label in views["township"]
    for person in (township, cadre, operator, follower):
        assert not shows_identity(await everything_sent_to(db, person.user_id))
    # the follower hears of the new status, never the office's note; /track shows the same
    to_follower = await everything_sent_to(db, follower.user_id)
    assert "状态：已受理" in to_follower and "将尽快核查处理" not in to_follower
    assert "将尽快核查处理" in await everything_sent_to(db, filer.user_id)
    await follower.command("track", number)
    assert "已受理" in follower.last.text and "将尽快核查处理" not in follower.last.text

    async with db.transaction() as session:
        stored = await complaint(db, number)
        assert (stored.complainant_name, stored.complainant_phone) == ((None, None) if anonymous else (NAME, PHONE))
        assert [u.name for u in await users_with_role(session, Role.RESIDENT)] == [None, None]  # no name kept
