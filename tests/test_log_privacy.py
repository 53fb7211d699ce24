"""No secret and no personal data in what real bot processes log or store: a Bot API address that redirects (at
start and while delivering), a database error while a named complainant files. Each process's log is also read by
the session-wide log audit (tests/log_audit.py), which covers every other bot the suite runs."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy import select, text

from bot.cli import STOPPED_ON_ERROR
from bot.log_redaction import redact_logs, redact_record
from storage.db import Database
from storage.models import OutboxMessage
from storage.redaction import hide, redact
from tests import log_audit
from tests.log_audit import TOKEN, personal
from tests.telegram_harness import TOKEN as HARNESS_TOKEN
from tests.telegram_harness import BotProcess

SECRET_HALF = TOKEN.partition(":")[2]
NAME, PHONE = "林晓燕", "13912345678"
DESCRIPTION = "后厨老鼠乱窜，林晓燕亲眼所见"  # carries the name too: a description is personal data


def leaks(found: str) -> list[str]:
    return [secret for secret in (TOKEN, SECRET_HALF, NAME, PHONE, DESCRIPTION) if secret in found]


async def wait_until(predicate, timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.1)


async def stored_errors(db: Database) -> list[tuple[str, int]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(OutboxMessage.last_error, OutboxMessage.attempts).where(OutboxMessage.last_error.is_not(None))
        )
        return [(error, attempts) for error, attempts in rows]


@pytest.mark.slow
@pytest.mark.contract  # each runtime has its own HTTP client
async def test_delivering_through_a_redirecting_address_stores_and_logs_no_token(emulator, db_url, tmp_path, runtime):
    """The Bot API address answers sendMessage with a redirect to itself (a misconfigured proxy). The bot does
    not follow it (one request per attempt, none to the redirect target), and neither the WARNING line nor
    outbox.last_error carries the token; once the address is fixed the reply goes out."""
    emulator.faults.add("sendMessage", "redirect", count=None)
    db = Database(db_url)
    process = BotProcess(emulator, db_url, tmp_path, runtime).start()
    try:
        user = emulator.user(4101, "林居民")
        await user.send_command("/start")

        async def retried_twice() -> bool:
            try:
                return any(attempts >= 2 for _, attempts in await stored_errors(db))
            except Exception:  # the process has not created the tables yet
                return False

        await wait_until(retried_twice, 60, "the bot did not retry the redirected send")
        errors = await stored_errors(db)
        redirected = [call for call in emulator.calls if call.fault == "redirect"]
        emulator.faults.clear()
        await user.expect("请选择要办理的事项", timeout=30)
    finally:
        process.terminate()
        await db.dispose()
    log = process.log()
    assert errors and all("302" in error for error, _ in errors), errors
    assert len(redirected) == sum(attempts for _, attempts in errors)  # one request per attempt: not followed
    assert "WARNING scheduler.sender: temporary failure for outbox" in log
    assert leaks(log) == [] and leaks(" ".join(error for error, _ in errors)) == []
    print(
        f"redirected sends ({runtime}): {sum(attempts for _, attempts in errors)} attempts, {len(redirected)} requests "
        f"(0 redirects followed); {len(errors)} outbox row's stored error says 302; token, name, phone: 0"
    )


@pytest.mark.slow
@pytest.mark.contract
async def test_a_start_through_a_redirecting_address_fails_without_printing_the_token(emulator, tmp_path, runtime):
    emulator.faults.add("getMe", "redirect", count=None)
    process = BotProcess(emulator, f"sqlite+aiosqlite:///{tmp_path / 'start.db'}", tmp_path, runtime).start()
    assert process.process is not None
    try:
        returncode = await asyncio.to_thread(process.process.wait, 60)
    finally:
        process.terminate()
    log = process.log()
    assert returncode == 1, log
    assert STOPPED_ON_ERROR in log and "302" in log and "Traceback" in log
    assert leaks(log) == [], log
    print(f"redirected getMe ({runtime}): exit {returncode}, {len(log.splitlines())} log lines, token in them: 0")


TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER complaints_closed BEFORE INSERT ON complaints "
        "BEGIN SELECT RAISE(ABORT, 'complaints are closed for maintenance'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION complaints_closed() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'complaints are closed for maintenance'; END $$",
        "CREATE TRIGGER complaints_closed BEFORE INSERT ON complaints "
        "FOR EACH ROW EXECUTE FUNCTION complaints_closed()",
    ],
}


@pytest.mark.slow
async def test_a_database_error_while_a_named_complainant_files_logs_no_name_phone_or_text(emulator, db_url, tmp_path):
    """The insert of a real-name complaint fails in the database. The ERROR line and its traceback show the
    statement, never the complainant's name, phone or description (engines hide bound parameters)."""
    personal(NAME)
    db = Database(db_url)
    await db.upgrade()
    async with db.engine.begin() as conn:
        for statement in TRIGGERS[db.engine.dialect.name]:
            await conn.execute(text(statement))
    await db.dispose()
    process = BotProcess(emulator, db_url, tmp_path, "aiogram").start()
    try:
        person = emulator.user(4102, "投诉人")
        await person.send_command("/start")
        await person.expect("请选择要办理的事项", timeout=60)
        for press, prompt in (
            ("投诉举报", "请选择问题类别"),
            ("卫生条件差", "问题发生在哪个乡镇"),
            ("岩头镇", "请选择所在的村"),
            ("芙蓉村", "被投诉的是哪家店"),
        ):
            await person.press(press)
            await person.expect(prompt)
        await person.send_text("芙蓉饭店")
        await person.expect("请描述问题")
        await person.send_text(DESCRIPTION)
        await person.expect("如有现场照片")
        await person.press("完成")
        await person.expect("请选择提交方式")
        await person.press("实名提交")
        await person.expect("真实姓名")
        await person.send_text(NAME)
        await person.expect("手机号")
        await person.send_contact(PHONE)
        await person.expect("确认提交吗")
        await person.press("确认提交")
        await person.expect("系统处理时出现问题", timeout=30)
    finally:
        process.terminate()
    log = process.log()
    assert "ERROR handlers.core: failed to handle update" in log
    assert "complaints are closed for maintenance" in log and "INSERT INTO complaints" in log
    assert "SQL parameters hidden" in log
    assert leaks(log) == [], re.findall(r".*(?:林晓燕|13912345678).*", log)


def test_the_audit_and_the_harness_use_one_token_and_the_audit_sees_a_leak():
    assert HARNESS_TOKEN == TOKEN
    audit = log_audit.LogAudit()
    audit.personal_value(NAME)
    audit.check("a line", f"POST http://127.0.0.1:1/bot{TOKEN}/getMe")
    audit.check("another", f"… {NAME} …")
    audit.check("a clean line", "update 7 already handled; skipped")
    assert [finding.split(":")[0] for finding in audit.finish()] == ["a line", "a line", "a line", "another"]


def test_redaction_removes_registered_secrets_token_paths_and_token_shapes():
    hide(TOKEN, "s3cr3t-webhook-value")  # as the runtime registers them
    real_shape = "7012345678:AAH" + "x" * 32
    line = (
        f"GET https://api.example/bot{TOKEN}/getMe; again /file/bot{real_shape}/photos/1.jpg; "
        f"token {SECRET_HALF} or {real_shape}; secret s3cr3t-webhook-value; update 13 of chat 77"
    )
    clean = redact(line)
    assert TOKEN not in clean and SECRET_HALF not in clean and real_shape not in clean
    assert "s3cr3t-webhook-value" not in clean and "update 13 of chat 77" in clean
    assert "/bot<hidden>/getMe" in clean and "/file/bot<hidden>/photos/1.jpg" in clean


def test_log_records_are_redacted_in_message_arguments_and_traceback():
    redact_logs()
    hide(TOKEN)
    try:
        raise RuntimeError(f"Cannot connect to http://127.0.0.1:1/bot{TOKEN}/getMe")
    except RuntimeError as error:
        record = logging.getLogger("t").makeRecord(
            "t",
            logging.WARNING,
            __file__,
            1,
            "failed: %s",
            (error,),
            exc_info=(type(error), error, error.__traceback__),
        )
    redact_record(record)
    formatted = logging.Formatter("%(message)s").format(record)
    assert "failed: Cannot connect to http://127.0.0.1:1/bot<hidden>/getMe" in formatted
    assert "Traceback" in formatted and TOKEN not in formatted and SECRET_HALF not in formatted


@pytest.mark.parametrize("leak", [TOKEN, PHONE])
def test_the_audit_handler_flags_what_it_is_given(leak):
    audit = log_audit.LogAudit()
    handler = log_audit.AuditHandler(audit)
    handler.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", (leak,), None))
    assert len(audit.finish()) >= 1
