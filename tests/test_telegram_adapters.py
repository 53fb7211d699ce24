"""The two Telegram runtimes' adapters agree: the same raw update becomes the same Inbound, and both transports
map Telegram's failures onto the same sender classes (real HTTP against the emulator's injected faults)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import aiogram.types
import pytest
import telegram
from aiogram import Bot as AiogramBot

from bot import aiogram_inbound, ptb_inbound
from bot.ptb_runtime import build_application
from bot.ptb_transport import PtbPhotoSource, PtbTransport
from bot.telegram_transport import AiogramPhotoSource, AiogramTransport
from handlers.events import Inbound, Kind
from scheduler.sender import PermanentFailure, RetryAfter, TemporaryFailure
from storage.media import LocalMediaStore, describe, keep
from tests.emulator import TelegramEmulator, make_png
from tests.telegram_harness import REPO, RUNTIMES, TOKEN, bot_settings


@pytest.fixture
async def emulator():
    async with TelegramEmulator() as emu:
        yield emu


def both(raw: dict[str, Any]) -> tuple[Inbound, Inbound]:
    """The Inbound each runtime makes of one raw update."""
    a_update = aiogram.types.Update.model_validate(raw)
    p_update = telegram.Update.de_json(raw, None)
    update_id = raw["update_id"]
    if "callback_query" in raw:
        return (
            aiogram_inbound.from_callback(a_update.callback_query, update_id),
            ptb_inbound.from_callback(p_update.callback_query, update_id),
        )
    edited = "edited_message" in raw
    return (
        aiogram_inbound.from_message(a_update.edited_message if edited else a_update.message, update_id, edited=edited),
        ptb_inbound.from_message(p_update.edited_message if edited else p_update.message, update_id, edited=edited),
    )


async def test_the_same_update_becomes_the_same_inbound(emulator):
    user = emulator.user(3001, "张三")
    other = emulator.user(3002, "李四")
    sent = [
        await user.send_command("/start", "ABCD1234"),
        await user.send_command("/Menu@test_bot"),
        await user.send_text("你好" * 15_000),  # longer than the cut
        await user.send_photo(make_png(), caption="门头照片"),
        await user.send_location(28.15, 120.69),
        await user.send_contact("13800000000"),
        await user.send_contact("13900000000", user_id=other.user_id),  # someone else's card
        await user.send_contact("13700000000", user_id=None),
        await user.send_sticker(),
    ]
    first_text = emulator.queue.log[sent[2]]["message"]["message_id"]
    sent.append(await user.edit_text(first_text, "改过"))
    bot = AiogramBot(TOKEN, session=emulator.aiogram_session())
    try:
        transport = AiogramTransport(bot)
        await transport.deliver(
            user.chat_id,
            "message",
            {"text": "请选择", "buttons": [[{"label": "确认", "data": "s1.yes"}, {"label": "取消", "data": "s1.no"}]]},
        )
    finally:
        await bot.session.close()
    sent.append(await user.press("取消"))
    sent.append(await user.press_data("forged"))

    kinds = []
    for update_id in sent:
        from_aiogram, from_ptb = both(emulator.queue.log[update_id])
        assert from_aiogram == from_ptb
        kinds.append(from_ptb.kind)
    assert kinds == [
        Kind.COMMAND,
        Kind.COMMAND,
        Kind.TEXT,
        Kind.PHOTO,
        Kind.LOCATION,
        Kind.CONTACT,
        Kind.OTHER,
        Kind.OTHER,
        Kind.OTHER,
        Kind.EDITED,
        Kind.PRESS,
        Kind.PRESS,
    ]
    press = both(emulator.queue.log[sent[10]])[1]
    assert (press.data, press.pressed_label, press.message_text) == ("s1.no", "取消", "请选择")
    assert press.message_id is not None and press.update_id == sent[10]


@pytest.fixture(params=RUNTIMES)
async def transport(request, emulator, tmp_path):
    if request.param == "aiogram":
        bot = AiogramBot(TOKEN, session=emulator.aiogram_session())
        yield AiogramTransport(bot)
        await bot.session.close()
        return
    application = build_application(bot_settings(emulator, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"))
    await application.bot.initialize()
    yield PtbTransport(application.bot)
    await application.bot.shutdown()


async def test_delivery_sends_text_buttons_keyboards_media_and_edits(emulator, transport, tmp_path):
    user = emulator.user(3010, "王")
    message_id = await transport.deliver(
        user.chat_id,
        "message",
        {"text": "选一个", "buttons": [[{"label": "甲", "data": "a"}], [{"label": "乙", "data": "b"}]]},
    )
    assert user.last_message.message_id == message_id
    assert user.last_message.buttons == [("甲", "a"), ("乙", "b")]
    await transport.deliver(user.chat_id, "message", {"text": "请发送位置", "request": "location"})
    assert user.reply_keyboard == ["📍 发送我的位置"]
    await transport.deliver(
        user.chat_id,
        "message",
        {"text": "请发送位置", "request": "location", "buttons": [[{"label": "跳过", "data": "s1.skip"}]]},
    )
    assert user.reply_keyboard == ["📍 发送我的位置", "跳过"]
    photo = tmp_path / "门头.png"
    photo.write_bytes(make_png())
    await transport.deliver(user.chat_id, "photo", {"text": "照片", "photo": str(photo)})
    assert user.last_message.kind == "photo" and user.last_message.content == "照片"
    edited = await transport.deliver(user.chat_id, "edit", {"message_id": message_id, "text": "选一个\n\n✅ 甲"})
    assert edited == message_id and user.last_message.is_edit and not user.last_message.buttons
    # The same edit again: Telegram says "not modified", which counts as done, not as a failure.
    again = await transport.deliver(user.chat_id, "edit", {"message_id": message_id, "text": "选一个\n\n✅ 甲"})
    assert again == message_id


async def test_an_album_goes_out_as_one_media_group_from_the_store_a_file_id_and_a_path(emulator, transport, tmp_path):
    user = emulator.user(3030, "王")
    transport.media = LocalMediaStore(tmp_path / "media")
    kept = await keep(transport.media, make_png(3, 3, (1, 1, 1)))
    known = emulator.files.add("photo", make_png(2, 2), width=2, height=2)  # a photo Telegram already has
    local = tmp_path / "现场.png"
    local.write_bytes(make_png(4, 4))
    first = await transport.deliver(
        user.chat_id,
        "album",
        {"text": "JC000001 现场照片（3张）", "album": [f"media:{kept.key}", known.file_id, str(local)]},
    )
    album = [message for message in user.messages if message.method == "sendMediaGroup"]
    assert len(album) == 3 and first == album[0].message_id
    assert [message.caption for message in album] == ["JC000001 现场照片（3张）", None, None]
    assert [emulator.files.get(message.file_id).data for message in album] == [
        make_png(3, 3, (1, 1, 1)),
        make_png(2, 2),
        make_png(4, 4),
    ]
    with pytest.raises(PermanentFailure):  # a key the store does not have can never be sent
        await transport.deliver(user.chat_id, "photo", {"text": "", "photo": f"media:{describe(b'x').key}"})


async def test_a_photo_is_downloaded_through_the_clients_public_api(emulator, transport):
    source = (
        AiogramPhotoSource(transport.bot) if isinstance(transport, AiogramTransport) else PtbPhotoSource(transport.bot)
    )
    stored = emulator.files.add("photo", make_png(6, 6), width=6, height=6)
    assert await source.fetch(stored.file_id) == make_png(6, 6)
    assert [call.method for call in emulator.calls][-1:] == ["getFile"]
    with pytest.raises(PermanentFailure):  # Telegram: a file id it does not know
        await source.fetch("AgACAgUAAxkBEmUunknown")
    huge = emulator.files.add("photo", b"...", file_size=25 * 1024 * 1024)
    with pytest.raises(PermanentFailure):  # over the 20 MB a bot may download
        await source.fetch(huge.file_id)
    emulator.faults.add(method="getFile", kind="5xx", count=1)
    with pytest.raises(Exception) as raised:  # a 5xx: retried by the keeper, never given up at once
        await source.fetch(stored.file_id)
    assert not isinstance(raised.value, PermanentFailure)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "429", "retry_after": 7}, RetryAfter),
        ({"kind": "5xx", "status": 500}, TemporaryFailure),
        ({"kind": "garbage"}, TemporaryFailure),
        ({"kind": "reset"}, TemporaryFailure),
        ({"kind": "timeout", "hold": 0.2}, TemporaryFailure),
        ({"kind": "400"}, PermanentFailure),
        ({"kind": "403"}, PermanentFailure),
    ],
)
async def test_failures_map_onto_the_senders_classes(emulator, transport, fault, expected):
    user = emulator.user(3020, "王")
    emulator.faults.add(method="sendMessage", count=1, **fault)
    with pytest.raises(expected) as raised:
        await transport.deliver(user.chat_id, "message", {"text": "你好"})
    if expected is RetryAfter:
        assert raised.value.seconds == 7
    assert user.messages == []  # nothing was delivered by the failed call
    await transport.deliver(user.chat_id, "message", {"text": "你好"})
    assert [m.content for m in user.messages] == ["你好"]


def run_cli(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    """`shixiao run` in a Python where python-telegram-bot cannot be imported (as without the extra)."""
    script = (
        "import sys; sys.modules['telegram'] = None; from bot.cli import main; "
        f"sys.argv = ['shixiao', *{args!r}]; main()"
    )
    inherited = {key: value for key, value in os.environ.items() if key != "SHIXIAO_RUNTIME"}
    environment = {
        **inherited,
        "PYTHONPATH": str(REPO),
        "SHIXIAO_TELEGRAM_TOKEN": TOKEN,
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("args", "env"), [(["run", "--runtime", "ptb"], {}), (["run"], {"SHIXIAO_RUNTIME": "ptb"})])
def test_ptb_without_the_extra_says_how_to_install_it(tmp_path, args, env):
    result = run_cli(args, tmp_path, **env)
    assert result.returncode != 0
    assert 'pip install ".[ptb]"' in result.stderr and "python-telegram-bot" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "cli.db").exists()  # refused before touching anything


def test_an_unknown_runtime_is_refused_in_chinese(tmp_path):
    result = run_cli(["run", "--runtime", "telethon"], tmp_path)
    assert result.returncode != 0 and "未知的运行时“telethon”" in result.stderr and "ptb" in result.stderr
