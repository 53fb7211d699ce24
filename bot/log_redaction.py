"""Every log record of the process redacted before any handler sees it (storage/redaction.py says what goes).

A record's message, its arguments and its traceback are all checked: the bot token turns up in exception texts
quoted by an HTTP client (in the message of a WARNING, or in a traceback's last line), never in the format string.
Done in the log record factory rather than as a filter on some handlers: a filter on a logger does not see the
records of its child loggers, and a filter on a handler misses handlers added later (by a library, a test
harness). The runtimes install it with the secrets they know as they start, and so does the CLI's logging setup.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import make_url

from bot.settings import Settings
from storage.redaction import hide, redact

_installed = False


def redact_logs(settings: Settings | None = None) -> None:
    """Redact every later log record of this process; register the secrets `settings` holds. Idempotent."""
    global _installed
    if settings is not None:
        hide(*configured_secrets(settings))
    if _installed:
        return
    _installed = True
    create = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = create(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(redacted_record)


def configured_secrets(settings: Settings) -> list[str | None]:
    secrets = [settings.token]
    if settings.dingtalk_client_secret is not None:
        secrets.append(settings.dingtalk_client_secret.get_secret_value())
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    try:
        secrets.append(make_url(settings.database_url).password)
    except Exception:  # an unparsable URL fails later, where it is used, with its own message
        pass
    return secrets


_FORMATTER = logging.Formatter()


def redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when the record is emitted
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        # Formatted once here, redacted; formatters use exc_text when it is set.
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
