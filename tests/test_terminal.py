"""The terminal chat: whatever is typed is handled and the session goes on (in process on both databases, and
as a real subprocess for what only a process shows: tracebacks, stdin decoding, the exit code)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest

from bot.terminal import CHANNEL, POLL_SECONDS, NotSent, TerminalTransport, chat, parse_line
from handlers.events import Kind
from storage import outbox

HOSTILE_LINES = (
    "9" * 5000,
    "²",
    "①",
    "１" * 5000,
    "0",
    "-1",
    "/",
    "/ ",
    "/photo nonexistent.jpg",
    "/photo " + "x" * 5000,
    "/photo a\x00b",
    "/location abc",
    "/location nan nan",
    "/location 1e999 5",
    "/location 1 2 3",
    "/contact",
    "\x00",
    "\ud800",
)


def transport_with_buttons(count: int = 3) -> TerminalTransport:
    transport = TerminalTransport(io.StringIO())
    transport.buttons[7] = [(f"按钮{n}", f"data{n}") for n in range(1, count + 1)]
    return transport


def lines(*typed: str) -> Callable[[], str]:
    pending = iter(typed)

    def read() -> str:
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    return read


@pytest.mark.parametrize("typed", ["9" * 5000, "9" * 4301, "²", "①", "12345", "0", "4"])
def test_digits_that_are_no_button_are_text(typed):
    inbound = parse_line(typed, 7, transport_with_buttons())
    assert inbound is not None and inbound.kind is Kind.TEXT and inbound.text == typed


@pytest.mark.parametrize(("typed", "label"), [("1", "按钮1"), ("3", "按钮3"), ("２", "按钮2")])
def test_a_button_number_is_a_press(typed, label):
    inbound = parse_line(typed, 7, transport_with_buttons())
    assert inbound is not None and inbound.kind is Kind.PRESS and inbound.pressed_label == label


async def test_numbers_choose_among_the_latest_messages_buttons_only():
    transport = transport_with_buttons()
    await transport.deliver(7, "text", {"text": "请输入整改期限"})  # a text step: no buttons
    inbound = parse_line("2", 7, transport)
    assert inbound is not None and inbound.kind is Kind.TEXT and inbound.text == "2"


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("nonexistent.jpg", "照片没有发送：找不到文件“nonexistent.jpg”"),
        ("x" * 5000, "找不到文件“" + "x" * 80 + "…”"),  # longer than a file name may be
        ("a\x00b", "找不到文件"),
        (".", "照片没有发送：“.”不是一个文件"),
    ],
)
def test_a_photo_file_that_is_not_there_is_not_sent(argument, expected):
    with pytest.raises(NotSent) as raised:
        parse_line(f"/photo {argument}", 7, transport_with_buttons())
    assert expected in str(raised.value)


def test_a_photo_file_that_is_there_is_sent(tmp_path):
    picture = tmp_path / "门店.jpg"
    picture.write_bytes(b"\xff\xd8" + b"0" * 98)
    inbound = parse_line(f"/photo {picture}", 7, transport_with_buttons())
    assert inbound is not None and inbound.kind is Kind.PHOTO
    assert (inbound.photo.file_id, inbound.photo.size) == (str(picture), 100)
    simulated = parse_line("/photo", 7, transport_with_buttons())
    assert simulated is not None and simulated.photo.file_id == "terminal-photo"


@pytest.mark.parametrize("argument", ["", "abc", "28.1", "nan nan", "28 inf", "1e999 120", "1 2 3"])
def test_a_location_that_is_not_two_finite_numbers_is_not_sent(argument):
    with pytest.raises(NotSent) as raised:
        parse_line(f"/location {argument}", 7, transport_with_buttons())
    assert "请输入 /location 纬度 经度" in str(raised.value)


def test_a_location_is_sent():
    inbound = parse_line("/location 28.15, 120.69", 7, transport_with_buttons())
    assert inbound is not None and inbound.location == (28.15, 120.69)


async def run_chat(core, db, typed: Iterable[str]) -> str:
    out = io.StringIO()
    await chat(core, db, 7, out=out, read_line=lines(*typed))
    return out.getvalue()


async def test_the_chat_survives_every_line_and_answers_in_chinese(core, db):
    out = await run_chat(core, db, [*HOSTILE_LINES, "1"])
    assert "找不到文件“nonexistent.jpg”" in out and "请输入 /location 纬度 经度" in out
    assert "Traceback" not in out and "抱歉" not in out
    assert "x" * 81 not in out  # a long file name is not echoed in full
    # Still working at the end: the last line pressed the main menu's first button.
    tail = out.split("位置没有发送")[-1]
    assert "【投诉举报】第1步：请选择问题类别" in tail and tail.rstrip().endswith("再见！")


class FailingCore:
    """A core whose handle() fails outside its own error handling (as the outbox or the database might)."""

    def __init__(self, core) -> None:
        self.core, self.calls = core, 0

    async def handle(self, inbound):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("database went away")
        return await self.core.handle(inbound)


async def test_a_failure_outside_the_core_does_not_end_the_chat(core, db, caplog):
    failing = FailingCore(core)
    out = await run_chat(failing, db, ["/menu", "/menu"])
    assert "十小通（终端）：抱歉，处理这条输入时出错了，请重试" in out
    assert failing.calls == 3 and out.rstrip().endswith("再见！")
    assert "database went away" in caplog.text


def run_process(tmp_path, script: bytes, **extra_env: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", "42"],
        input=script,
        env=env,
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
    )


@pytest.mark.slow
def test_the_terminal_process_takes_5000_digits_and_bytes_that_are_not_utf8(tmp_path):
    # PYTHONIOENCODING=utf-8 makes stdin strict, as it is in an ordinary UTF-8 locale (C.UTF-8 is lenient).
    result = run_process(
        tmp_path, b"9" * 5000 + b"\n\xff\xfe\xe4\xb8\n/photo nonexistent.jpg\n1\n/quit\n", PYTHONIOENCODING="utf-8"
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in out + err
    assert "找不到文件“nonexistent.jpg”" in out
    assert out.count("十小通：") >= 4  # greeting, two answers and the pressed button's
    assert out.rstrip().endswith("再见！")


async def queue_notice(db, chat_id: int, text: str) -> None:
    async with db.transaction() as session:
        await outbox.enqueue(session, chat_id, "text", {"text": text}, datetime.now(UTC), CHANNEL)


async def test_each_terminal_shows_its_own_users_messages_only(core, db):
    await queue_notice(db, 8, "【投诉进展】给用户8的通知")
    await queue_notice(db, 7, "【投诉进展】给用户7的通知")
    seven = await run_chat(core, db, ["/menu"])
    assert "给用户7的通知" in seven and "给用户8的通知" not in seven
    out = io.StringIO()
    await chat(core, db, 8, out=out, read_line=lines("/menu"))
    assert "给用户8的通知" in out.getvalue()  # still waiting for user 8's own terminal


async def test_a_waiting_terminal_shows_what_arrives_meanwhile(core, db):
    def slow_quit() -> str:
        time.sleep(POLL_SECONDS * 3)  # the person is reading, not typing
        return "/quit"

    async def notice_while_waiting() -> None:
        await asyncio.sleep(POLL_SECONDS / 2)
        await queue_notice(db, 7, "【县整规办答复】快递驿站不属于十小行业")

    out = io.StringIO()
    arriving = asyncio.create_task(notice_while_waiting())
    await chat(core, db, 7, out=out, read_line=slow_quit)
    await arriving
    assert "快递驿站不属于十小行业" in out.getvalue().split("再见！")[0]
