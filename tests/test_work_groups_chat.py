"""工作群 in the county office's chat menu (issue 19, item 1: "and the same from the county's chat menu"): the list
with masked webhooks, adding a DingTalk group step by step (typed answers, a wrong webhook and secret re-asked),
a WeCom group (no secret step), a taken name, cancelling, and removing one (confirmed first)."""

from __future__ import annotations

from sqlalchemy import select

from storage import work_groups
from storage.channel_models import WorkGroup
from storage.models import Role
from tests.chat_driver import register

DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234-efgh-5678"
SECRET = "SEC0123456789abcdef0123456789abcdef"


async def stored_groups(db) -> list[WorkGroup]:
    async with db.transaction() as session:
        return list(await session.scalars(select(WorkGroup).order_by(WorkGroup.id)))


def shown(replies) -> str:
    return "\n".join([*(r.text for r in replies), *(c.label for r in replies for c in r.choices)])


async def test_the_county_office_adds_lists_and_removes_work_groups_in_the_chat(core, db, clock):
    office = await register(core, db, clock, 901, Role.COUNTY, None, "陈主任")
    assert "还没有登记工作群" in shown(await office.press_data("m.groups"))
    assert "要添加哪种工作群" in shown(await office.press("➕ 添加工作群"))
    await office.text("钉钉")  # typed labels do what pressing does
    assert "接收哪个范围" in shown(office.replies[-1:])
    await office.text("岩头")  # a unique beginning of 岩头镇
    assert "Webhook 地址" in office.replies[-1].text
    wrong = shown(await office.text("https://example.com/hook"))
    assert "access_token=" in wrong
    plain = shown(await office.text(DINGTALK.replace("https", "http")))
    assert "https://" in plain and "必须" in plain
    assert "加签" in shown(await office.text(DINGTALK))
    assert "密钥不对" in shown(await office.text("SEC 有 空格"))
    await office.text(SECRET)
    assert "岩头镇钉钉工作群" in shown(office.replies[-1:])  # the suggested name
    confirm = shown(await office.press("用“岩头镇钉钉工作群”"))
    assert "岩头镇" in confirm and "已加签" in confirm
    assert DINGTALK not in confirm and SECRET not in confirm  # only masked
    assert await stored_groups(db) == []  # nothing stored before the confirmation
    added = shown(await office.press("确定添加"))
    assert "已添加工作群“岩头镇钉钉工作群”" in added and DINGTALK not in added
    [group] = await stored_groups(db)
    assert (group.kind, group.webhook, group.secret) == ("dingtalk", DINGTALK, SECRET)

    # A WeCom group has no secret step; a taken name is re-asked; 取消 stores nothing.
    await office.press_data("m.group_add")
    await office.press("企业微信")
    await office.press("全县")
    assert "给这个工作群起个名称" in shown(await office.text(WECOM))
    assert "已有名为" in shown(await office.text("岩头镇钉钉工作群"))
    await office.text("县整规办企业微信群")
    assert "未加签" in shown(office.replies[-1:])
    assert "没有做任何更改" in shown(await office.press("取消"))
    assert len(await stored_groups(db)) == 1

    listed = shown(await office.press_data("m.groups"))
    assert "岩头镇钉钉工作群（钉钉 · 岩头镇）" in listed and "****" in listed and DINGTALK not in listed
    assert "确定删除工作群“岩头镇钉钉工作群”" in shown(await office.press("删除“岩头镇钉钉工作群”"))
    assert "已删除工作群" in shown(await office.press("确定删除"))
    assert await stored_groups(db) == []
    # The old 删除 button again: the group is gone, said plainly.
    assert "找不到这个工作群" in shown(await office.press_data(f"m.group_remove.{group.id}"))


async def test_a_group_removed_meanwhile_is_not_removed_twice(core, db, clock):
    office = await register(core, db, clock, 902, Role.COUNTY, None, "陈主任")
    async with db.transaction() as session:
        from storage.areas import the_county

        group = await work_groups.add_group(
            session, "全县钉钉工作群", "dingtalk", await the_county(session), DINGTALK, None, clock.now()
        )
    await office.press_data(f"m.group_remove.{group.id}")
    async with db.transaction() as session:  # removed from the CLI while the office looked at the question
        await work_groups.remove_group(session, await work_groups.get_group(session, group.id))
    assert "找不到这个工作群" in shown(await office.press("确定删除"))


def test_a_webhook_without_its_credential_is_named_in_the_error_for_both_kinds():
    # The CLI and the chat share the check; its message once crashed (a placeholder named like Texts' own argument).
    import pytest

    from handlers.texts import Texts
    from handlers.work_groups import BadGroup, check_group

    for kind, param in (("dingtalk", "access_token="), ("wecom", "key=")):
        with pytest.raises(BadGroup, match=param):
            check_group(Texts.load(), kind, "https://example.com/hook", None)
