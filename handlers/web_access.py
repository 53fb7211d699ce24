"""/web in the chat: a township or county official gets a single-use sign-in link to the web console; "/web 退出"
signs them out of every browser. Who may is the menu's rule (menus.yaml: action `web`)."""

from __future__ import annotations

from datetime import timedelta

from handlers.context import Turn
from handlers.events import Reply
from storage import web
from storage.models import Role

LINK_VALID = timedelta(minutes=10)
IDLE_HOURS = 8
SIGN_OUT_WORDS = ("退出", "全部退出", "注销", "logout", "signout")
SIGN_IN_PATH = "/signin/"


async def web_console(turn: Turn) -> list[Reply]:
    now = turn.clock.now()
    if turn.argument.strip().lower() in SIGN_OUT_WORDS:
        ended = await web.end_all_sessions(turn.session, turn.user.id, now)
        return [turn.menu_reply(turn.texts("web_signed_out_everywhere", n=ended))]
    base = turn.config.web_base_url.rstrip("/")
    if not base:
        return [turn.menu_reply(turn.texts("web_not_configured"))]
    if turn.user.role == Role.TOWNSHIP and turn.user.area_id is None:
        return [turn.menu_reply(turn.texts("web_no_area"))]
    token = await web.create_link(turn.session, turn.user.id, now, LINK_VALID)
    web.audit(turn.session, turn.user.id, now, "link_sent")
    minutes = int(LINK_VALID.total_seconds() // 60)
    # Plain text, not a menu: the link is the message (a keyboard under it would only hide it on a phone).
    return [Reply(turn.texts("web_link", url=f"{base}{SIGN_IN_PATH}{token}", minutes=minutes, idle=IDLE_HOURS))]
