"""Secrets kept out of what is stored and logged.

The bot token travels in the path of every Bot API request (`/bot<token>/sendMessage`, `/file/bot<token>/…`), so
any HTTP client error that quotes the request URL (a redirect loop, an unreachable or malformed address) carries
it. Errors are stored in `outbox.last_error` and written to the logs; both go through `redact()` first.

Secrets this process knows (the token, the webhook secret, the database password) are registered with `hide()` by
whoever reads the configuration; anything shaped like a Bot API path or a Telegram token is removed even when
not registered.
"""

from __future__ import annotations

import re

HIDDEN = "<hidden>"
# /bot<token> and /file/bot<token> in a URL; a token is <bot id>:<secret> (":" may be percent-encoded).
_BOT_PATH = re.compile(r"/bot\d+(?::|%3A)[^/\s'\"<>?#]+", re.IGNORECASE)
# A Telegram bot token anywhere: the bot's numeric id, a colon and (in real tokens) 35 URL-safe characters.
_TOKEN = re.compile(r"(?<![\w-])\d{5,}:[A-Za-z0-9_-]{30,}")
# A group robot's credentials in its webhook URL (DingTalk's access_token, WeCom's key) and a signed request's
# sign; a DingTalk robot's signing secret (SEC and 64 hex digits). The registered webhooks are hidden whole too.
_ROBOT_QUERY = re.compile(r"([?&](?:access_token|key|sign)=)[^&\s'\"<>#]+", re.IGNORECASE)
_ROBOT_SECRET = re.compile(r"SEC[0-9a-f]{64}")
_MIN_SECRET = 6  # shorter registered values would blank out ordinary words

_secrets: set[str] = set()


def hide(*secrets: str | None) -> None:
    """Register values that must never appear in a log line or a stored error (process-wide)."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            _secrets.add(secret)
            # the secret half of a token on its own (a message may quote it without the bot's id)
            _, colon, tail = secret.partition(":")
            if colon and len(tail) >= _MIN_SECRET:
                _secrets.add(tail)


def redact(text: str) -> str:
    """`text` with every registered secret and every Bot API token path replaced by <hidden>."""
    if not text:
        return text
    text = _BOT_PATH.sub("/bot" + HIDDEN, text)
    text = _ROBOT_SECRET.sub(HIDDEN, _ROBOT_QUERY.sub(lambda found: found[1] + HIDDEN, text))
    for secret in sorted(_secrets, key=len, reverse=True):  # the whole token before its secret half
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return _TOKEN.sub(HIDDEN, text)
