"""A local Telegram Bot API emulator for end-to-end tests of the bot.

Usage::

    async with TelegramEmulator(token="123:ABC") as emu:
        bot = Bot("123:ABC", session=AiohttpSession(api=emu.aiogram_server()))
        user = emu.user(1001, "张三")
        await user.send_command("/start")
        reply = await user.expect("欢迎")
        await user.press("确认")

Main pieces: ``emu.user()`` -> SimulatedUser (send_*/press/tap inject updates; expect/messages observe),
``emu.faults`` (scripted or seeded-random 429/5xx/timeout/... faults), ``emu.sent`` / ``emu.calls`` /
``emu.callback_answers`` (what the bot did), ``emu.redeliver()`` / ``emu.inject_raw_update()``,
``emu.settle()`` (wait until the bot went quiet), ``enforce_limits=True`` (flood-limit 429s).
"""

from .errors import ApiError
from .faults import FAULT_KINDS, TELEGRAM_CHAT_BURST, Fault, FaultInjector, RateLimiter
from .markup import parse_text, utf16_len
from .records import ApiCall, CallbackAnswer, ChatAction, SentMessage, TranscriptLine
from .server import TelegramEmulator
from .state import StoredFile, make_png
from .user import SimulatedUser

__all__ = [
    "FAULT_KINDS",
    "TELEGRAM_CHAT_BURST",
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "ChatAction",
    "Fault",
    "FaultInjector",
    "RateLimiter",
    "SentMessage",
    "SimulatedUser",
    "StoredFile",
    "TelegramEmulator",
    "TranscriptLine",
    "make_png",
    "parse_text",
    "utf16_len",
]
