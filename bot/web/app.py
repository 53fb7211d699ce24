"""The web console's Starlette application: sign-in from a chat link, the pages, and the Chinese error pages.

Every page runs in one database transaction: the session is verified (cookie signature, then its row), the chat's
role rule is applied (bot/web/auth.py), a POST's CSRF token is checked, then the page's function reads or changes
through storage/ and handlers/ functions the chat uses too. A refusal rolls everything back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.web.auth import COOKIE, Cookies, Refusal, Viewer, allow, check_csrf, viewer
from handlers.events import Reply
from handlers.formatting import cn_percent
from handlers.menus import Menus
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from storage import outbox, web
from storage.clock import Clock
from storage.db import Database
from storage.media import MediaStore

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
MAX_FORM = 64 * 1024  # a form without a file: far beyond any note or reason

NAV = (
    ("/", "总览", "report"),
    ("/review", "审核", "review"),
    ("/units", "单位", "web"),
    ("/complaints", "投诉", "complaint_queue"),
    ("/plan", "计划", "milestones"),
    ("/map", "地图", "report"),
)


@dataclass
class Console:
    """What the pages need: the same database, clock, texts, menus and knowledge as the chat's core."""

    db: Database
    clock: Clock
    texts: Texts
    menus: Menus
    knowledge: KnowledgeBase | None
    media: MediaStore
    cookies: Cookies
    files_dir: Path  # milestone files (private: served only to signed-in officials)
    charts_dir: Path
    upload_max: int
    tile_url: str = ""
    tile_attribution: str = ""
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Rates written exactly as the chat's /report writes them (handlers/digest_render.py).
        self.env.filters["percent"] = lambda share: cn_percent(share.part, share.whole)

    def render(
        self, request: Request, template: str, who: Viewer | None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        nav = [
            (href, label) for href, label, action in NAV if who is not None and self.menus.allows(who.user.role, action)
        ]
        body = self.env.get_template(template).render(
            request=request,
            who=who,
            nav=nav,
            csrf=who.csrf if who else "",
            path=request.url.path,
            identity=self.identity(who) if who else "",
            **values,
        )
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def identity(self, who: Viewer) -> str:
        from storage.areas import area_path

        where = area_path(who.user.area)
        title = self.menus.title(who.user.role)
        return f"{who.user.name or ''} · {title}（{where}）" if where else f"{who.user.name or ''} · {title}"


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from here; inline scripts are not needed by any page.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: https: http:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}

Page = Callable[[Console, Request, AsyncSession, Viewer], Awaitable[Response]]


def page(
    console: Console, action: str, function: Page, *, post: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a page: session, the chat's role rule for `action`, CSRF on POST; refusals become Chinese pages."""

    async def endpoint(request: Request) -> Response:
        form = None
        if post:
            try:
                form = await read_form(console, request)
            except Refusal as refusal:
                return error_page(console, request, refusal)
        try:
            async with console.db.transaction() as session:
                who = await viewer(session, request, console.cookies, console.clock)
                allow(console.menus, who, action)
                if post:
                    check_csrf(who, form.get("csrf") if form is not None else None)
                    request.state.form = form
                response = await function(console, request, session, who)
            # Work that opens transactions of its own (an export streaming the register) runs after this one.
            after = getattr(request.state, "after_commit", None)
            return await after() if after is not None else response
        except Refusal as refusal:
            if post and refusal.status == 403:
                async with console.db.transaction() as session:
                    web.audit(session, None, console.clock.now(), "refused", request.url.path[:64], refusal.title)
            return error_page(console, request, refusal)

    return endpoint


async def read_form(console: Console, request: Request) -> Any:
    """The posted form, its size capped before parsing (a 50 MB upload is refused unread)."""
    declared = request.headers.get("content-length")
    limit = console.upload_max + MAX_FORM
    if declared is None or not declared.isdigit() or int(declared) > limit:
        raise Refusal(
            413,
            "文件太大",
            f"上传的内容超过 {console.upload_max // (1024 * 1024)} MB 的上限，没有做任何修改。请压缩或拆分后再上传。",
        )
    try:
        return await request.form(max_files=2, max_fields=200)
    except Exception as error:  # a malformed multipart body
        log.info("unreadable form: %s", type(error).__name__)
        raise Refusal(400, "表单无法读取", "提交的表单格式不正确，没有做任何修改。请刷新页面后重试。") from None


def error_page(console: Console, request: Request, refusal: Refusal) -> HTMLResponse:
    return console.render(
        request, "error.html", None, status=refusal.status, title=refusal.title, message=refusal.message
    )


async def queue_notices(session: AsyncSession, notices: list[Reply], console: Console) -> None:
    """Notices a web action causes (the cadre hears of a decision) go out through the outbox, as from the chat."""
    if notices:
        await outbox.enqueue_notices(
            session,
            [(notice.chat_id, notice.kind, notice.payload()) for notice in notices if notice.chat_id is not None],
            console.clock.now(),
        )


async def signin_form(request: Request) -> Response:
    """GET of a chat link shows a button; only the POST uses the link (link previews must not burn it)."""
    console: Console = request.app.state.console
    token = request.path_params["token"]
    return console.render(request, "signin.html", None, token=token[:100])


async def signin(request: Request) -> Response:
    console: Console = request.app.state.console
    try:
        form = await read_form(console, request)
    except Refusal as refusal:
        return error_page(console, request, refusal)
    token = form.get("token")
    now = console.clock.now()
    async with console.db.transaction() as session:
        user_id, why = (
            await web.redeem_link(session, token, now)
            if isinstance(token, str) and len(token) < 100
            else (None, "unknown")
        )
        if user_id is None:
            web.audit(session, None, now, "signin_refused", why)
    if user_id is None:
        message = {
            "used": "这个登录链接已经使用过（每个链接只能用一次）。",
            "expired": "这个登录链接已过期（有效期 10 分钟）。",
        }.get(why, "这个登录链接无效。")
        return error_page(
            console, request, Refusal(403, "无法登录", message + "请在聊天中向机器人发送 /web 获取新的链接。")
        )
    async with console.db.transaction() as session:
        session_token, _ = await web.start_session(session, user_id, now)
        web.audit(session, user_id, now, "signin")
    response = RedirectResponse("/", status_code=303)
    # A browser-session cookie: the 8-hour idle limit is the server's (web_sessions.last_seen_at), so an official
    # at work all day is not signed out at a fixed hour, and a closed browser forgets it.
    response.set_cookie(
        COOKIE,
        console.cookies.sign(session_token),
        httponly=True,
        samesite="lax",
        secure=console.cookies.secure,
        path="/",
    )
    return response


async def signout(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    web.end_session(who.row, console.clock.now())
    web.audit(session, who.user.id, console.clock.now(), "signout")
    response = console.render(
        request,
        "error.html",
        None,
        title="已退出",
        message="您已退出网页控制台。需要时在聊天中发送 /web 获取新的登录链接。",
    )
    response.delete_cookie(COOKIE, path="/")
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    console: Console = request.app.state.console
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 500:
        log.error("web console error on %s", request.url.path, exc_info=exc)
    titles = {404: ("未找到", "没有这个页面。"), 405: ("请求无效", "不支持这种请求方式。")}
    title, message = titles.get(status, ("出错了", "服务器处理请求时出错，没有做任何修改。请稍后重试。"))
    return error_page(console, request, Refusal(status, title, message))


def build_app(console: Console) -> Starlette:
    from bot.web import complaint_actions, pages_main, pages_office, pages_units

    routes = [
        Route("/signin/{token}", signin_form),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", page(console, "web", signout, post=True), methods=["POST"]),
        *pages_main.routes(console),
        *pages_units.routes(console),
        *pages_office.routes(console),
        *complaint_actions.routes(console),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found, Exception: not_found})
    app.state.console = console
    return app
