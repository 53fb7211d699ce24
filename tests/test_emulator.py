"""Tests of the Telegram Bot API emulator itself, driven by the real aiogram 3 client (and PTB if installed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from tests.emulator import TelegramEmulator, make_png

TOKEN = "123456:TEST-token"


def kb(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons])


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, session=emu.aiogram_session())
    yield b
    await b.session.close()


async def test_get_me_unauthorized_and_unknown_method(emu: TelegramEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456 and me.is_bot and me.username == "test_bot"

    wrong = Bot("999:WRONG", session=emu.aiogram_session())
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.base_url}/bot{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        # Method names are case-insensitive, and query string / JSON bodies work too.
        async with http.get(f"{emu.base_url}/bot{TOKEN}/GETME") as resp:
            assert (await resp.json())["result"]["id"] == 123456
        emu.user(7, "Q")
        body = {
            "chat_id": 7,
            "text": "json",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]},
        }
        async with http.post(f"{emu.base_url}/bot{TOKEN}/sendMessage", json=body) as resp:
            assert (await resp.json())["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
        async with http.post(f"{emu.base_url}/bot{TOKEN}/sendMessage?chat_id=7&text=123") as resp:
            assert (await resp.json())["result"]["text"] == "123"  # text stays a string
    assert [c.method for c in emu.calls[-3:]] == ["getMe", "sendMessage", "sendMessage"]


async def test_inline_keyboard_press_and_get_updates_offsets(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    sent = await bot.send_message(1001, "请选择", reply_markup=kb(("确认", "ok:1"), ("取消", "no:1")))
    assert sent.message_id == 1 and sent.chat.type == "private" and sent.from_user.is_bot
    assert user.last_buttons() == [("确认", "ok:1"), ("取消", "no:1")]

    first = await user.send_text("你好")
    second = await user.press("确认")
    third = await user.press(1)  # by index
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second, third]
    cq = updates[1].callback_query
    assert cq.data == "ok:1" and cq.message.message_id == sent.message_id and cq.from_user.id == 1001
    assert updates[2].callback_query.data == "no:1" and cq.id != updates[2].callback_query.id

    # Unconfirmed updates come back; an offset confirms everything below it.
    assert len(await bot.get_updates(timeout=0)) == 3
    rest = await bot.get_updates(offset=second + 1, timeout=0)
    assert [u.update_id for u in rest] == [third]
    assert await bot.get_updates(offset=third + 1, timeout=0) == []

    assert await bot.answer_callback_query(cq.id, text="已确认")
    assert emu.callback_answers[-1].text == "已确认" and (await user.expect_answer()).user_id == 1001
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(cq.id)  # second answer is rejected


async def test_long_poll_waits_then_returns_on_user_message(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # nothing pending: the request is held open
    await user.send_command("/start", "CODE")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    msg = updates[0].message
    assert msg.text == "/start CODE" and msg.entities[0].type == "bot_command" and msg.entities[0].length == 6
    assert msg.from_user.first_name == "张三" and msg.chat.id == 1001


async def test_concurrent_get_updates_conflict(emu: TelegramEmulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError):
        await asyncio.wait_for(first, 2)
    emu.user(5, "X")
    await emu.user(5).send_text("hi")
    assert len(await asyncio.wait_for(second, 2)) == 1


async def test_photo_upload_and_user_photo_download(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    png = make_png(40, 30)
    sent = await bot.send_photo(1001, BufferedInputFile(png, "p.png"), caption="<b>照片</b>", parse_mode="HTML")
    assert sent.caption == "照片" and sent.photo[-1].width == 40 and sent.photo[-1].height == 30
    assert user.last_message.kind == "photo" and user.last_message.caption == "照片"
    # The bot's own upload is retrievable, and a string file_id is accepted for re-sending.
    again = await bot.send_photo(1001, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id

    data = b"\xff\xd8 fake jpeg bytes"
    update_id = await user.send_photo(data, caption="现场")
    (update,) = await bot.get_updates(offset=0, timeout=0)
    assert update.update_id == update_id and update.message.caption == "现场"
    file = await bot.get_file(update.message.photo[-1].file_id)
    assert file.file_path and file.file_size == len(data)
    assert (await bot.download(update.message.photo[-1])).read() == data

    await user.send_document(b"%PDF-1.4", file_name="report.pdf", mime_type="application/pdf")
    await user.send_photo(file_size=25 * 1024 * 1024)
    updates = await bot.get_updates(offset=update_id + 1, timeout=0)
    assert updates[0].message.document.file_name == "report.pdf"
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(updates[1].message.photo[-1].file_id)
    doc = await bot.send_document(1001, BufferedInputFile(b"a,b\n1,2\n", "export.csv"))
    assert doc.document.file_name == "export.csv" and doc.document.file_size == 8


async def test_an_album_is_one_media_group_of_two_to_ten_photos(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    first = await bot.send_photo(1001, BufferedInputFile(make_png(2, 2), "a.png"))
    sent = await bot.send_media_group(
        1001,
        [
            InputMediaPhoto(media=BufferedInputFile(make_png(5, 4), "b.png"), caption="两张照片"),
            InputMediaPhoto(media=first.photo[-1].file_id),
        ],
    )
    assert [message.caption for message in sent] == ["两张照片", None]
    assert sent[0].media_group_id == sent[1].media_group_id is not None
    assert sent[0].photo[-1].width == 5 and sent[1].photo[-1].file_id == first.photo[-1].file_id
    assert [m.method for m in user.messages] == ["sendPhoto", "sendMediaGroup", "sendMediaGroup"]
    with pytest.raises(TelegramBadRequest, match="2-10 items"):
        await bot.send_media_group(1001, [InputMediaPhoto(media=first.photo[-1].file_id)])
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_media_group(1001, [InputMediaPhoto(media="nonsense"), InputMediaPhoto(media="nonsense")])


async def test_429_is_telegram_retry_after_and_has_no_side_effect(emu: TelegramEmulator, bot: Bot) -> None:
    emu.user(1001, "张三")
    emu.faults.add(method="sendMessage", kind="429", retry_after=7, count=1)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(1001, "第一次")
    assert info.value.retry_after == 7
    assert emu.sent == [] and emu.calls[-1].fault == "429"
    await bot.send_message(1001, "第二次")
    assert [m.text for m in emu.sent] == ["第二次"]


async def test_5xx_timeout_and_lost_response_faults(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    emu.faults.add("sendMessage", "5xx")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(1001, "x")
    emu.faults.add("sendmessage", "timeout", hold=0.1)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1001, "x")
    assert emu.sent == []
    # apply=True: the message is delivered but the bot never hears back (a retry would duplicate it).
    emu.faults.add("sendMessage", "reset", apply=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1001, "lost answer")
    assert user.last_message.text == "lost answer"
    assert emu.faults.triggered == [("sendMessage", "5xx"), ("sendMessage", "timeout"), ("sendMessage", "reset")]


async def test_random_faults_are_reproducible(emu: TelegramEmulator, bot: Bot) -> None:
    emu.user(1001, "张三")

    async def run() -> list[str]:
        emu.faults.random(rate=0.5, kinds=("5xx", "429"), seed=42, methods=["sendMessage"])
        outcomes = []
        for i in range(12):
            try:
                await bot.send_message(1001, f"m{i}")
                outcomes.append("ok")
            except TelegramRetryAfter:
                outcomes.append("429")
            except TelegramServerError:
                outcomes.append("5xx")
        return outcomes

    first, second = await run(), await run()
    assert first == second and {"ok", "429", "5xx"} <= set(first)
    assert len(emu.sent) == 2 * first.count("ok")


async def test_validation_errors(emu: TelegramEmulator, bot: Bot) -> None:
    emu.user(1001, "张三")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1001, "x", reply_markup=kb(("长", "数" * 22)))  # 66 UTF-8 bytes
    await bot.send_message(1001, "x", reply_markup=kb(("ok", "数" * 21)))  # 63 bytes is fine
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1001, "字" * 4097)
    await bot.send_message(1001, "字" * 4096)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(1001, "   ")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1001, "a < b <br>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="must be escaped"):
        await bot.send_message(1001, "共 3.5 元", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_photo(1001, BufferedInputFile(make_png(), "p.png"), caption="x" * 1025)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "who?")
    emu.user(1001).blocked = True
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(1001, "blocked")
    assert len(emu.sent) == 2


async def test_edits_not_modified_and_keyboard_removal(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    msg = await bot.send_message(1001, "步骤 1", reply_markup=kb(("下一步", "next")))
    edited = await bot.edit_message_text(
        text="步骤 2", chat_id=1001, message_id=msg.message_id, reply_markup=kb(("完成", "done"))
    )
    assert edited.text == "步骤 2" and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="步骤 2", chat_id=1001, message_id=msg.message_id, reply_markup=kb(("完成", "done"))
        )
    # Editing text without reply_markup drops the inline keyboard, as Telegram does.
    await bot.edit_message_text(text="完成", chat_id=1001, message_id=msg.message_id)
    assert user.last_buttons() == [] and user.last_message.is_edit
    await bot.edit_message_reply_markup(chat_id=1001, message_id=msg.message_id, reply_markup=kb(("再来", "again")))
    assert user.last_buttons() == [("再来", "again")]
    assert [m.text for m in user.messages] == ["步骤 1", "步骤 2", "完成", "完成"]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="?", chat_id=1001, message_id=99)

    user_msg = await user.send_text("原文")
    message_id = emu.updates[user_msg]["message"]["message_id"]
    await user.edit_text(message_id, "改过的")
    updates = await bot.get_updates(timeout=0)
    assert updates[1].edited_message.text == "改过的" and updates[1].edited_message.message_id == message_id

    # Pressing on an explicit (older) message, and forged callback data the bot never offered.
    pressed = await user.press("again", message=msg.message_id)
    forged = await user.press_data("admin:delete_all")
    cb1, cb2 = [u.callback_query for u in await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)]
    assert (cb1.data, cb1.message.text) == ("again", "完成") and cb2.data == "admin:delete_all"
    assert emu.updates[pressed]["callback_query"]["id"] == cb1.id and forged == pressed + 1
    with pytest.raises(LookupError, match="no callback button"):
        await user.press("不存在")


async def test_reply_keyboard_tap_and_commands(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    markup = ReplyKeyboardMarkup(
        keyboard=[
            [
                KeyboardButton(text="📍 发送位置", request_location=True),
                KeyboardButton(text="📞 分享手机号", request_contact=True),
            ]
        ],
        resize_keyboard=True,
    )
    sent = await bot.send_message(1001, "请分享", reply_markup=markup)
    assert sent.reply_markup is None  # Message objects only carry inline keyboards
    assert user.reply_keyboard == ["📍 发送位置", "📞 分享手机号"]
    await user.tap("📞 分享手机号")
    await user.tap("📍 发送位置", latitude=25.1, longitude=102.8)
    await user.send_sticker()
    contact, location, sticker = [u.message for u in await bot.get_updates(timeout=0)]
    assert contact.contact.user_id == 1001 and location.location.latitude == 25.1 and sticker.sticker.emoji
    await bot.send_message(1001, "谢谢", reply_markup=ReplyKeyboardRemove())
    assert user.reply_keyboard is None

    await bot.set_my_commands(
        [BotCommand(command="start", description="开始"), BotCommand(command="help", description="帮助")]
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Cmd", description="x")])
    assert await bot.delete_my_commands() and await bot.get_my_commands() == []
    assert await bot.send_chat_action(1001, "typing") and emu.chat_actions[-1].action == "typing"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_redeliver_returns_same_update_again(emu: TelegramEmulator, bot: Bot) -> None:
    user = emu.user(1001, "张三")
    update_id = await user.send_text("一次")
    (first,) = await bot.get_updates(timeout=0)
    emu.redeliver(update_id)
    (again,) = await bot.get_updates(offset=update_id + 1, timeout=0)
    assert again.update_id == update_id and again.message.message_id == first.message.message_id
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == []


async def test_rate_limit_enforcement() -> None:
    async with TelegramEmulator(
        token=TOKEN, enforce_limits=True, per_chat_per_sec=2, per_chat_burst=2, global_per_sec=3
    ) as emu:
        bot = Bot(TOKEN, session=emu.aiogram_session())
        try:
            emu.user(1, "A")
            emu.user(2, "B")
            await bot.send_message(1, "1")
            await bot.send_message(1, "2")
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(1, "3")  # per-chat limit
            assert info.value.retry_after >= 1
            await bot.send_message(2, "4")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(2, "5")  # global limit
            assert emu.limit_violations == 2 and len(emu.sent) == 3
        finally:
            await bot.session.close()


async def test_dispatcher_end_to_end(emu: TelegramEmulator, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(f"欢迎 {message.from_user.first_name}", reply_markup=kb(("确认", "confirm")))

    @dp.callback_query(F.data == "confirm")
    async def confirm(query: CallbackQuery) -> None:
        await query.answer("好的")
        await query.message.edit_text("已确认")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        user = emu.user(1001, "张三")
        await user.send_command("/start")
        welcome = await user.expect("欢迎 张三")
        assert welcome.buttons == [("确认", "confirm")]
        await user.press("确认")
        assert (await user.expect_answer()).text == "好的"
        assert (await user.expect("已确认")).is_edit
        await emu.settle(quiet=0.1)
        await user.expect_silence(0.1)
    finally:
        await dp.stop_polling()
        await polling


async def test_expect_timeout_shows_transcript(emu: TelegramEmulator) -> None:
    user = emu.user(1001, "张三")
    await user.send_text("有人吗")
    with pytest.raises(AssertionError, match="有人吗"):
        await user.expect("回复", timeout=0.05)


async def test_python_telegram_bot_client(emu: TelegramEmulator) -> None:
    telegram = pytest.importorskip("telegram", reason="python-telegram-bot is not installed")
    user = emu.user(1001, "张三")
    async with telegram.Bot(TOKEN, base_url=emu.api_url, base_file_url=emu.file_url) as ptb:
        assert ptb.username == "test_bot"  # initialize() called getMe
        sent = await ptb.send_message(
            1001,
            "你好 <b>PTB</b>",
            parse_mode="HTML",
            reply_markup=telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("按钮", callback_data="ptb")]]),
        )
        assert sent.text == "你好 PTB" and user.last_buttons() == [("按钮", "ptb")]
        await user.send_command("/start")
        await user.press("按钮")
        updates = await ptb.get_updates(timeout=1)
        assert updates[0].message.text == "/start" and updates[1].callback_query.data == "ptb"
        assert await ptb.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
