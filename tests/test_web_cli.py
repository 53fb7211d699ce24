"""`shixiao web` as a user runs it: missing settings explained in Chinese, and a real server process that serves its
own assets and refuses a visitor without a session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.web_support import free_port


def run(args: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def base_env(tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
        "SHIXIAO_WEB_BASE_URL": "",
        "SHIXIAO_WEB_SECRET": "",
    }


@pytest.mark.slow
def test_missing_settings_are_explained(tmp_path):
    env = base_env(tmp_path)
    no_secret = run(["web"], env, tmp_path)
    assert no_secret.returncode == 2 and "SHIXIAO_WEB_SECRET" in no_secret.stdout + no_secret.stderr
    no_address = run(["web"], {**env, "SHIXIAO_WEB_SECRET": "s3cret-value"}, tmp_path)
    assert no_address.returncode == 2 and "SHIXIAO_WEB_BASE_URL" in no_address.stdout + no_address.stderr
    bad_listen = run(
        ["web", "--listen", "nonsense"],
        {**env, "SHIXIAO_WEB_SECRET": "x", "SHIXIAO_WEB_BASE_URL": "http://127.0.0.1:1"},
        tmp_path,
    )
    assert bad_listen.returncode == 2 and "格式不对" in bad_listen.stdout + bad_listen.stderr
    for result in (no_secret, no_address, bad_listen):
        assert "Traceback" not in result.stdout + result.stderr


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def test_a_real_console_process(tmp_path):
    port = free_port()
    env = {
        **base_env(tmp_path),
        "SHIXIAO_WEB_SECRET": "s3cret-value",
        "SHIXIAO_WEB_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--listen", f"127.0.0.1:{port}"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the console did not start"
                time.sleep(0.2)
        assert status == 401 and "/web" in body and "Traceback" not in body
        assert "server" not in {key.lower() for key in headers}
        status, _, script = get(f"http://127.0.0.1:{port}/static/leaflet/leaflet.js")
        assert status == 200 and "leaflet" in script.lower()
        status, _, body = get(f"http://127.0.0.1:{port}/no-such-page")
        assert status == 404 and "没有这个页面" in body
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0 and "Traceback" not in output, output


@pytest.mark.slow
async def test_run_with_web_serves_the_console_beside_the_bot(emulator, tmp_path):
    """`shixiao run --web`: a township official registered in Telegram sends /web, opens the link, is signed in;
    the bot and the console share the process and the database."""
    import asyncio
    import re

    import httpx

    from storage.clock import SystemClock
    from storage.db import Database
    from storage.models import Role
    from tests.chat_driver import make_invite
    from tests.telegram_harness import BotProcess

    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    process = BotProcess(
        emulator,
        url,
        tmp_path,
        env={"SHIXIAO_WEB_BASE_URL": f"http://127.0.0.1:{port}"},
        args=["--web", f"127.0.0.1:{port}"],
    ).start()
    db = Database(url)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as browser:
            for _ in range(300):
                try:
                    if (await browser.get("/")).status_code == 401:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            code = await make_invite(db, SystemClock(), Role.TOWNSHIP, "岩头镇")
            official = emulator.user(4301, "赵乡长")
            await official.send_command("/start", code)
            await official.expect("真实姓名", timeout=30)
            await official.send_text("赵乡长")
            await official.expect("登记完成", timeout=30)
            await official.send_command("/web")
            link = re.search(r"/signin/([A-Za-z0-9_-]+)", (await official.expect("/signin/", timeout=30)).text)
            assert link is not None
            assert (await browser.post("/signin", data={"token": link.group(1)})).status_code == 303
            page = await browser.get("/")
            assert page.status_code == 200 and "岩头镇" in page.text and "达标率" in page.text
    finally:
        process.terminate()
        await db.dispose()
    assert "Traceback" not in process.log()
