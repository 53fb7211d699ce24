"""Who is asking: the signed session cookie, its row in the database (so any instance can verify it and signing out
everywhere ends it everywhere), the CSRF token of every form, and the chat's role and area rules.

The cookie holds a random session token signed with SHIXIAO_WEB_SECRET; a tampered cookie fails the signature
and reads as no session. The row holds the token's hash, its CSRF token and its last use (idle timeout)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from handlers.menus import Menus
from storage import web
from storage.clock import Clock
from storage.models import Role, User
from storage.users import get_user
from storage.web_models import WebSession

COOKIE = "shixiao_web"
IDLE = timedelta(hours=8)
CONSOLE_ROLES = (Role.TOWNSHIP, Role.COUNTY)


class Refusal(Exception):
    """The request is answered with a Chinese page and changes nothing. `status`: the HTTP status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


NO_SESSION = Refusal(
    401,
    "请先登录",
    "您尚未登录或登录已过期（闲置 8 小时自动退出）。请在聊天中向机器人发送 /web，用收到的链接重新登录。",
)
BAD_CSRF = Refusal(403, "请求无效", "表单已失效或来源不明（缺少安全校验码），没有做任何修改。请刷新页面后重试。")


def derive_secret(*sources: str | None) -> str:
    """The signing key: SHIXIAO_WEB_SECRET, else derived from a secret every instance already shares."""
    for source in sources:
        if source:
            return hmac.new(source.encode(), b"shixiao-web-console", hashlib.sha256).hexdigest()
    raise ValueError("no secret")


class Cookies:
    def __init__(self, secret: str, secure: bool) -> None:
        self.signer = URLSafeSerializer(secret, salt="shixiao-web-session")
        self.flasher = URLSafeSerializer(secret, salt="shixiao-web-flash")
        self.secure = secure

    def sign(self, token: str) -> str:
        return str(self.signer.dumps(token))

    def flash(self, text: str) -> str:
        """A message for the next page, signed: a link someone else made cannot put words on an official's page."""
        return str(self.flasher.dumps(text))

    def flash_of(self, request: Request) -> str:
        raw = request.query_params.get("done", "")
        try:
            text = self.flasher.loads(raw) if raw else ""
        except BadSignature:
            return ""
        return text if isinstance(text, str) else ""

    def token_of(self, request: Request) -> str | None:
        raw = request.cookies.get(COOKIE)
        if not raw or len(raw) > 512:
            return None
        try:
            token = self.signer.loads(raw)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


@dataclass
class Viewer:
    """The signed-in official of this request."""

    user: User
    row: WebSession

    @property
    def csrf(self) -> str:
        return self.row.csrf

    @property
    def township_id(self) -> int | None:
        """Their township (a township official), None for the county office (everything)."""
        return self.user.area_id if self.user.role == Role.TOWNSHIP else None


async def viewer(session: AsyncSession, request: Request, cookies: Cookies, clock: Clock) -> Viewer:
    """The request's official, or Refusal (no or ended session, tampered cookie, no longer an official)."""
    token = cookies.token_of(request)
    if token is None:
        raise NO_SESSION
    row = await web.live_session(session, token, clock.now(), IDLE)
    if row is None:
        raise NO_SESSION
    user = await get_user(session, row.user_id)
    if user is None or user.role not in CONSOLE_ROLES or (user.role == Role.TOWNSHIP and user.area_id is None):
        web.end_session(row, clock.now())  # the role was taken away in the chat: the browser goes with it
        raise NO_SESSION
    return Viewer(user, row)


def allow(menus: Menus, who: Viewer, action: str) -> None:
    """The chat's rule for this action (menus.yaml), or Refusal."""
    if not menus.allows(who.user.role, action):
        raise Refusal(
            403,
            "无权访问",
            f"「{menus.actions[action].label}」仅限相关工作人员使用，"
            f"您当前的身份（{menus.title(who.user.role)}）无权办理。",
        )


def check_csrf(who: Viewer, form_token: object) -> None:
    if not isinstance(form_token, str) or not hmac.compare_digest(form_token.encode(), who.csrf.encode()):
        raise BAD_CSRF


def not_found(what: str = "记录") -> Refusal:
    """Outside the viewer's area reads exactly like never existing."""
    return Refusal(404, "未找到", f"没有找到这条{what}，或不在您的管辖范围内。")
