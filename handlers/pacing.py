"""What one person may send, how fast: a double tap is answered with a toast (no message), and too many messages
too fast are refused, the person told to slow down (once a minute at most) and the refusals counted for the county
office (待答复问题, handlers/ask.py).

Checked before anything else of an update is handled, on the user's locked row (storage/pacing.py), so two
instances agree and a restart forgets nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import CoreConfig
from handlers.events import Inbound, Kind, Outcome, Reply
from handlers.texts import Texts
from storage import pacing
from storage.clock import Clock
from storage.models import User

SLOW_DOWN_EVERY = timedelta(minutes=1)


async def screen(
    session: AsyncSession, user: User, inbound: Inbound, clock: Clock, texts: Texts, config: CoreConfig
) -> Outcome | None:
    """None when the update is to be handled; else what to answer instead (written by the core)."""
    now = clock.now()
    if inbound.kind is Kind.PRESS and pacing.pressed_again(user, inbound.message_id, now, config.double_tap_within):
        # The first tap's answer is on its way; a second one would only add a message (or 这个按钮已过期).
        return Outcome(toast=texts("press_repeated"))
    if config.inbound is None or pacing.admit_inbound(user, now, config.inbound):
        return None
    outcome = Outcome(toast=texts("slow_down_toast") if inbound.kind is Kind.PRESS else None)
    if await pacing.count_throttled(session, user.id, now.astimezone(clock.tz).date(), now, SLOW_DOWN_EVERY):
        outcome.replies = [Reply(texts("slow_down"))]
    return outcome


def taken(user: User, inbound: Inbound, outcome: Outcome, clock: Clock) -> None:
    """After handling: a press that was taken spends its message's buttons (the core marks the choice on a text
    message and removes them; taps that raced that edit are double taps)."""
    if outcome.press_accepted and inbound.message_id is not None and inbound.message_text is not None:
        pacing.note_press(user, inbound.message_id, clock.now())
