"""Work groups (DingTalk and WeCom group robots): what is pushed to them, how a webhook is checked and shown.

A group has a scope, the county (全县) or one township, and gets what that scope's officials get: the weekly
digest (text and chart), milestone reminders, and broadcasts to officials of that area. Robots show no buttons,
so a push is text (markdown) and the chart; long texts are cut where the robots allow (WeCom: 4096 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.digest_render import split_message
from handlers.events import Reply
from handlers.texts import Texts
from storage import work_groups
from storage.channel_models import WorkGroup
from storage.models import Role
from storage.users import users_with_role

KINDS = {"dingtalk": "钉钉", "wecom": "企业微信"}
TEXT_BYTES = 4000  # WeCom's markdown takes 4096 bytes; DingTalk's the same is plenty
# Where each kind's robot keeps its credential in the webhook URL.
CREDENTIAL = {"dingtalk": "access_token", "wecom": "key"}
MAX_WEBHOOK, MAX_SECRET, MAX_NAME = 500, 200, 64


class BadGroup(ValueError):
    """A webhook, secret or name that cannot be registered; the message says why, in Chinese."""


@dataclass(frozen=True)
class GroupSpec:
    kind: str
    webhook: str
    secret: str | None


def check_group(texts: Texts, kind: str, webhook: str, secret: str | None, *, allow_http: bool = False) -> GroupSpec:
    """A robot's kind, webhook and secret as they can be registered; BadGroup with the reason otherwise."""
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise BadGroup(texts("wg_bad_kind", kind=kind[:20], kinds="、".join(f"{k}（{v}）" for k, v in KINDS.items())))
    webhook = webhook.strip()
    parts = urlsplit(webhook) if len(webhook) <= MAX_WEBHOOK else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        raise BadGroup(texts("wg_bad_webhook", kind=KINDS[kind], param=CREDENTIAL[kind]))
    if parts.scheme != "https" and not allow_http:
        raise BadGroup(texts("wg_not_https"))
    if not parse_qs(parts.query).get(CREDENTIAL[kind]):
        raise BadGroup(texts("wg_bad_webhook", kind=KINDS[kind], param=CREDENTIAL[kind]))
    secret = (secret or "").strip() or None
    if secret is not None and (
        kind != "dingtalk" or len(secret) > MAX_SECRET or not secret.isprintable() or " " in secret
    ):
        raise BadGroup(texts("wg_bad_secret") if kind == "dingtalk" else texts("wg_wecom_no_secret"))
    return GroupSpec(kind, webhook, secret)


def check_name(texts: Texts, name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise BadGroup(texts("wg_bad_name", max=MAX_NAME))
    return name


def masked(secret: str | None) -> str:
    """A webhook or secret as shown: where it goes and the last four characters, nothing that would let one send."""
    if not secret:
        return "—"
    parts = urlsplit(secret)
    head = f"{parts.scheme}://{parts.netloc}{parts.path}?…" if parts.scheme and parts.netloc else ""
    return f"{head}****{secret[-4:]}" if len(secret) > 8 else f"{head}****"


def default_name(kind: str, scope_name: str) -> str:
    return f"{scope_name}{KINDS[kind]}工作群"


def _cut(text: str) -> list[str]:
    """Parts of at most TEXT_BYTES bytes, cut between lines where possible."""
    parts: list[str] = []
    for piece in split_message(text):
        current = ""
        for line in piece.split("\n"):
            while len(line.encode()) > TEXT_BYTES:  # one very long line: cut by characters
                head = line[: TEXT_BYTES // 4]
                if current:
                    parts.append(current)
                    current = ""
                parts.append(head)
                line = line[len(head) :]
            candidate = f"{current}\n{line}" if current else line
            if len(candidate.encode()) > TEXT_BYTES:
                parts.append(current)
                candidate = line
            current = candidate
        if current.strip():
            parts.append(current)
    return [part for part in parts if part.strip()]


def robot_messages(kind: str, replies: list[Reply]) -> list[tuple[str, dict[str, Any]]]:
    """Replies as (outbox kind, payload) pushes for a robot of `kind`: texts cut to size, buttons dropped, a
    photo (the digest chart) as a message of its own; WeCom shows a caption as a text before the image."""
    pushes: list[tuple[str, dict[str, Any]]] = []
    for reply in replies:
        photo = reply.photo or (reply.album[0] if reply.album else None)
        if photo is not None and kind == "dingtalk":
            pushes.append(("photo", {"photo": photo, "text": reply.text[:1000]}))
            continue
        pushes.extend(("message", {"text": part}) for part in _cut(reply.text))
        if photo is not None:
            pushes.append(("photo", {"photo": photo}))
    return pushes


async def failure_notices(
    session: AsyncSession, texts: Texts, group: WorkGroup, reason: str
) -> list[tuple[int, str, dict[str, Any]]]:
    """What the county office is told when a group's robot keeps failing: which group, why, what to do."""
    text = texts(
        "wg_failing",
        name=group.name,
        kind=KINDS.get(group.kind, group.kind),
        n=group.failures,
        reason=texts(f"wg_reason_{reason}"),
    )
    reply = Reply(text)
    return [
        (official.channel_user_id, reply.kind, reply.payload())
        for official in await users_with_role(session, Role.COUNTY)
    ]


async def push_replies(session: AsyncSession, groups: list[WorkGroup], replies: list[Reply], now: datetime) -> int:
    """Queue replies to each group as its robot takes them; returns the number of groups."""
    for group in groups:
        await work_groups.push(session, [group], robot_messages(group.kind, replies), now)
    return len(groups)
