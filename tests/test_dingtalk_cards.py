"""Choices in DingTalk as buttons of the robot API's built-in ActionCards (bot/dingtalk_transport.py): 1 to 5 choices
make sampleActionCard .. sampleActionCard5 whose buttons are `dtmd://dingtalkclient/sendMessage?content=N` links
(DingTalk's client sends N as the person's message), more choices, long labels or SHIXIAO_DINGTALK_CARDS=false make
numbered text. The fake DingTalk (tests/dingtalk_fake.py) checks each msgParam as DingTalk documents it and presses
a button as the client does: it sends the link's content as the person's message."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlalchemy import select

pytest.importorskip("dingtalk_stream")

import dingtalk_stream.stream
from dingtalk_stream import Credential, DingTalkStreamClient

import bot.dingtalk_transport as transport_module
from bot.dingtalk_transport import CHANNEL, DingTalkApi, DingTalkTransport, as_message, as_text
from scheduler.sender import Limits, Sender
from storage import channel_accounts, outbox
from storage.clock import SystemClock
from storage.db import Database
from storage.inspection_models import Inspection
from storage.models import OutboxMessage, Role
from tests.dingtalk_fake import CLIENT_ID, CLIENT_SECRET, SEND_MESSAGE, FakeDingTalk, card_problem
from tests.inspection_support import add_unit

LABELS = ["✓ 符合", "✗ 不符合", "不适用", "查看说明", "余下各项均符合", "返回"]


def choices(count: int, text: str = "【老王小吃店】检查第1/20项：\n持有有效的营业执照") -> dict:
    return {"text": text, "buttons": [[{"label": label, "data": f"i.{n}"}] for n, label in enumerate(LABELS[:count])]}


def sent_back(url: str) -> str:
    assert url.startswith(SEND_MESSAGE), url
    return unquote(url[len(SEND_MESSAGE) :])


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_one_to_five_choices_are_the_built_in_action_card_whose_buttons_send_their_numbers(count):
    msg_key, param = as_message(choices(count))
    assert msg_key == ("sampleActionCard" if count == 1 else f"sampleActionCard{count}")
    assert card_problem(msg_key, param) is None  # the fields DingTalk documents for that msgKey, and no others
    assert param["title"].startswith("老王小吃店")
    assert "持有有效的营业执照" in param["text"] and "点击下方按钮选择" in param["text"]
    assert "1. " not in param["text"]  # the choices are the buttons, not numbered again
    if count == 1:
        buttons = [(param["singleTitle"], param["singleURL"])]
    else:
        buttons = [(param[f"actionTitle{n}"], param[f"actionURL{n}"]) for n in range(1, count + 1)]
    assert [title for title, _ in buttons] == LABELS[:count]
    assert [sent_back(url) for _, url in buttons] == [str(n) for n in range(1, count + 1)]


def test_more_than_five_choices_a_long_label_or_the_setting_off_give_numbered_text():
    msg_key, param = as_message(choices(6))
    assert msg_key == "sampleMarkdown" and set(param) == {"title", "text"}
    assert "6. 返回" in param["text"] and "回复数字选择" in param["text"]
    assert param["text"] == as_text(choices(6))

    long_label = {
        "text": "请选择要检查的单位",
        "buttons": [[{"label": "岩头镇芙蓉村老王家传二十多年的手工小吃早餐店", "data": "u.1"}]],
    }
    assert len(long_label["buttons"][0][0]["label"]) > 20  # longer than a button title may be
    assert as_message(long_label)[0] == "sampleMarkdown"
    assert "1. 岩头镇芙蓉村" in as_message(long_label)[1]["text"]

    msg_key, param = as_message(choices(3), cards=False)
    assert msg_key == "sampleMarkdown" and "3. 不适用" in param["text"]
    assert as_message({"text": "已提交。"}) == ("sampleMarkdown", {"title": "已提交。", "text": "已提交。"})


@pytest.fixture
async def fake(monkeypatch):
    async with FakeDingTalk(per_window=3, window=1.0) as fake:
        monkeypatch.setattr(dingtalk_stream.stream, "DINGTALK_OPENAPI_ENDPOINT", fake.base)
        monkeypatch.setattr(transport_module, "DINGTALK_OPENAPI_ENDPOINT", fake.base)
        monkeypatch.setattr(transport_module, "FLOW_CONTROL_PAUSE", 0.3)
        yield fake


@pytest.mark.parametrize("cards", [True, False])
async def test_cards_go_through_the_outbox_sender_exactly_once(db, clock, fake, cards):
    """The outbox and the sender are unchanged: under the per-app limit (HTTP 429) and injected 5xx each message,
    card or markdown, reaches its person exactly once, in order, as the transport renders it."""
    fake.failures.extend([500, 503])
    payloads = [choices(n, text=f"第{i}条：{n}个选项") for i, n in enumerate([2, 6, 1, 5, 0, 3, 4])]
    async with db.transaction() as session:
        fake.staff.add("staff-a")
        chat_id = await channel_accounts.chat_id_for(session, CHANNEL, "staff-a", clock.now())
        for payload in payloads:
            await outbox.enqueue(session, chat_id, "message", payload, clock.now(), CHANNEL, reply=True)
    api = DingTalkApi(DingTalkStreamClient(Credential(CLIENT_ID, CLIENT_SECRET)), CLIENT_ID)
    sender = Sender(db, DingTalkTransport(api, db, cards=cards), CHANNEL, Limits(20, 0), instance="test")
    try:
        assert await sender.drain(within=60)
    finally:
        await api.close()
    assert fake.failed == 2 and fake.limited > 0 and not fake.refused
    got = [(sent.msg_key, sent.param) for sent in fake.messages_to("staff-a")]
    assert got == [as_message(payload, cards=cards) for payload in payloads]  # each once, in order
    keys = [key for key, _ in got]
    if cards:
        assert keys == [
            "sampleActionCard2",
            "sampleMarkdown",  # 6 choices: numbered text
            "sampleActionCard",
            "sampleActionCard5",
            "sampleMarkdown",  # no choices
            "sampleActionCard3",
            "sampleActionCard4",
        ]
    else:
        assert set(keys) == {"sampleMarkdown"}


@pytest.mark.slow
async def test_a_cadre_answers_inspection_steps_by_pressing_card_buttons(db_url, tmp_path):
    """`shixiao run --runtime dingtalk` as a real process: the cadre's menu (9 choices) is numbered text, the unit
    and the checklist items are cards; pressed buttons (the client sending their numbers) move the inspection on,
    a forged number changes nothing, and every outbox message reached the cadre once, as the transport renders it."""
    from tests.test_dingtalk import DingTalkBot, count, join

    async with FakeDingTalk() as fake:
        bot = await DingTalkBot(fake, db_url, tmp_path).start()
        db = Database(db_url)
        try:
            await add_unit(db, SystemClock(), "芙蓉村", "老王小吃店")
            cadre = await join(fake, db, "staff-cadre", Role.CADRE, "芙蓉村", "李建国")
            menu = cadre.last_message
            assert menu.msg_key == "sampleMarkdown" and "9. 使用帮助" in menu.text  # more than 5: numbered text
            await cadre.press("检查上报")  # typed as its number
            assert cadre.last_message.msg_key == "sampleActionCard2"
            await cadre.press("老王小吃店")  # a button
            step = cadre.last_message
            assert "检查第1/20项" in step.text and step.msg_key == "sampleActionCard4"
            assert [title for title, _ in step.buttons()] == ["✓ 符合", "✗ 不符合", "不适用", "查看说明"]
            assert [sent_back(url) for _, url in step.buttons()] == ["1", "2", "3", "4"]

            assert "检查第2/20项" in await cadre.press("✓ 符合")
            assert cadre.last_message.msg_key == "sampleActionCard5"
            assert "请简要说明" in await cadre.press("✗ 不符合")
            assert "检查第3/20项" in await cadre.text("未亮证亮照")
            # A forged press (a number no button of the card carries) is answered and changes nothing.
            assert "请点击下方按钮选择" in await cadre.follow(SEND_MESSAGE + "99")
            assert "检查第3/20项" in cadre.last.text
            await cadre.press("余下各项均符合")
            assert "燃气" in cadre.last.text and cadre.last_message.buttons()
            assert await count(db, Inspection) == 0  # nothing is submitted by pressing

            async with db.transaction() as session:
                chat_id = await channel_accounts.chat_id_for(session, CHANNEL, cadre.staff_id, SystemClock().now())
                rows = list(
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.channel == CHANNEL, OutboxMessage.chat_id == chat_id)
                        .where(OutboxMessage.kind != "edit")
                        .order_by(OutboxMessage.id)
                    )
                )
            got = [(sent.msg_key, sent.param) for sent in fake.messages_to(cadre.staff_id)]
            assert got == [as_message(row.payload) for row in rows]
            assert not fake.refused
        finally:
            bot.stop()
            await db.dispose()
        assert "Traceback" not in bot.log.read_text(errors="replace")


@pytest.mark.slow
async def test_the_setting_off_makes_the_runtime_number_every_choice(db_url, tmp_path):
    """SHIXIAO_DINGTALK_CARDS=false reaches the running runtime: the resident's 5-choice menu (a card by default, see
    tests/test_dingtalk_delivery.py) is numbered text, and a typed number still chooses."""
    from tests.dingtalk_fake import DingTalkPerson
    from tests.test_dingtalk import DingTalkBot

    async with FakeDingTalk() as fake:
        bot = DingTalkBot(fake, db_url, tmp_path)
        bot.env["SHIXIAO_DINGTALK_CARDS"] = "false"
        await bot.start()
        try:
            resident = DingTalkPerson(fake, "staff-resident", "王阿姨")
            assert "已作为居民登记" in await resident.command("start")
            menu = resident.last_message
            assert menu.msg_key == "sampleMarkdown" and not menu.buttons()
            assert ("5", "使用帮助") in resident.choices()
            assert "请输入您的问题" in await resident.press("咨询标准")  # typed as its number
            assert not fake.refused and {sent.msg_key for sent in fake.sent} == {"sampleMarkdown"}
        finally:
            bot.stop()
        assert "Traceback" not in bot.log.read_text(errors="replace")
