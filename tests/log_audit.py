"""The log audit: no bot token and no person's name or phone in anything the suite's bots log or store as an error.

Collected over the whole test session (tests/conftest.py installs it):
- every log record of this process at INFO and above, as a handler formats it (traceback included): the bots that
  tests run in-process (tests/telegram_harness.RunningBot) log here;
- the log file of every bot process the suite starts (`BotProcess`, the crash test's forked bots, the webhook
  instances), read at the end of the session;
- `outbox.last_error` of every in-process bot's database, read when the bot stops.

Forbidden: the test token, its secret half, any Bot API path with a token (/bot<id>:<secret>), any mainland mobile
number, and the names people type or carry in the tests (registered with `personal()`: the harness registers every
name typed at registration and every simulated user's display name). The bots log ids, never what people wrote.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

TOKEN = "123456789:TEST-emulator-token"  # the emulator's and the harness's (tests/test_log_privacy.py checks)
_FIXED = [
    ("the bot token", re.compile(re.escape(TOKEN))),
    ("the token's secret half", re.compile(re.escape(TOKEN.partition(":")[2]))),
    ("a Bot API path with a token", re.compile(r"/bot\d+(?::|%3A)[A-Za-z0-9_-]+", re.IGNORECASE)),
    ("a mobile phone number", re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")),
]
_CJK = re.compile(r"[\u4e00-\u9fff]")


class LogAudit:
    def __init__(self) -> None:
        self.personal: set[str] = set()
        self.files: list[Path] = []
        self.findings: list[str] = []
        self.records = 0  # log records of this process
        self.files_read = 0  # bot processes' log files
        self.stored_errors = 0  # outbox.last_error values
        self._with_cjk: list[tuple[str, str]] = []  # (where, text): checked for names at the end

    def personal_value(self, value: str | None) -> None:
        # Two CJK characters at least: a one-character name ("王") would match ordinary words.
        if value and len(_CJK.findall(value)) >= 2:
            self.personal.add(value)

    def watch(self, path: Path) -> None:
        self.files.append(path)

    def check(self, where: str, text: str) -> None:
        for what, pattern in _FIXED:
            found = pattern.search(text)
            if found:
                start = max(found.start() - 80, 0)
                self.findings.append(f"{where}: {what}: …{text[start : found.end() + 40]}…")
        if _CJK.search(text):
            self._with_cjk.append((where, text))

    def finish(self) -> list[str]:
        """Read the watched files and check everything collected for the registered names; the findings."""
        for path in self.files:
            if path.is_file():
                self.files_read += 1
                self.check(str(path), path.read_text(encoding="utf-8", errors="replace"))
        self.files.clear()
        for where, text in self._with_cjk:
            for name in self.personal:
                at = text.find(name)
                if at >= 0:
                    self.findings.append(f"{where}: the name {name!r}: …{text[max(at - 80, 0) : at + 40]}…")
        self._with_cjk.clear()
        return self.findings

    def summary(self) -> str:
        return (
            f"log audit: {self.records} log records, {self.files_read} bot process logs and {self.stored_errors} "
            f"stored delivery errors checked for the token, {len(self.personal)} names and any phone number: "
            f"{len(self.findings)} findings"
        )


class AuditHandler(logging.Handler):
    """Checks every record as the bots' log handler would write it."""

    def __init__(self, audit: LogAudit) -> None:
        super().__init__(logging.INFO)
        self.audit = audit
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.audit.records += 1
        self.audit.check(f"log record {record.name}", self.format(record))


AUDIT = LogAudit()


def personal(*values: str | None) -> None:
    """Mark values (a name, a phone) that no log line may contain."""
    for value in values:
        AUDIT.personal_value(value)
