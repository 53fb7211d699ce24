"""Telling the county officials of forwarded questions without letting one asker flood them.

The first question after a quiet spell is announced at once (as it always was). Questions forwarded within
NOTICE_EVERY of the last announcement wait, and a job (scheduler/jobs.py, question-notices, every minute) folds
them into one summary per official once that time has passed: at most one question notice per official per
NOTICE_EVERY, however many questions come. An asker has at most MAX_OPEN_PER_ASKER questions waiting; further
ones are not forwarded (the asker is told why)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons
from handlers.events import Choice, Reply
from handlers.texts import Texts
from storage import questions
from storage.models import Role
from storage.notices import claim_notice
from storage.question_models import Question
from storage.users import users_with_role

log = logging.getLogger(__name__)

NOTICE_EVERY = timedelta(minutes=10)
MAX_OPEN_PER_ASKER = 3
SUMMARY_BUTTONS = 8  # answer buttons on a summary; the rest are a tap away in 待答复问题
SUMMARY_LINE = 60  # characters of each question shown in a summary


async def may_announce(session: AsyncSession, now: datetime) -> bool:
    """Nothing announced within NOTICE_EVERY, and this slot not yet taken: the claim makes two instances
    announcing at the same moment take turns (the second sees the slot taken and leaves it to the job)."""
    if await questions.announced_since(session, now - NOTICE_EVERY):
        return False
    return await claim_notice(session, f"question-notice:{int(now.timestamp() // NOTICE_EVERY.total_seconds())}", now)


async def announce_one(
    session: AsyncSession, texts: Texts, question: Question, role: str, now: datetime
) -> list[Reply]:
    """The notice of one question to every county official (with a button to answer it)."""
    questions.mark_announced([question], now)
    reply_button = Choice(buttons.menu_data("kb_answer", question.id), texts("ask_reply_button"))
    return [
        Reply(
            texts("ask_forwarded_notice", role=role, question=question.text),
            (reply_button,),
            chat_id=official.channel_user_id,
        )
        for official in await users_with_role(session, Role.COUNTY)
    ]


async def announce_waiting(session: AsyncSession, texts: Texts, now: datetime) -> list[Reply]:
    """One summary per county official of the questions not yet announced, when the time has come."""
    waiting = await questions.unannounced(session)
    if not waiting or not await may_announce(session, now):
        return []
    questions.mark_announced(waiting, now)
    lines = [f"{number}. {_short(question.text)}" for number, question in enumerate(waiting, start=1)]
    text = "\n".join([texts("ask_summary_notice", n=len(waiting)), *lines])
    choices = tuple(
        Choice(buttons.menu_data("kb_answer", question.id), texts("ask_summary_button", n=number))
        for number, question in enumerate(waiting[:SUMMARY_BUTTONS], start=1)
    )
    choices += (Choice(buttons.menu_data("questions"), texts("ask_summary_queue")),)
    log.info("%d questions announced to the county office in one summary", len(waiting))
    return [
        Reply(text[:3500], choices, columns=4, chat_id=official.channel_user_id)
        for official in await users_with_role(session, Role.COUNTY)
    ]


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_LINE else text[:SUMMARY_LINE] + "…"
