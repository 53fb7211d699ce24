"""The county office's question queue and the entries learned from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.question_models import LearnedEntry, Question

MAX_QUESTION = 500


async def ask(session: AsyncSession, asker_id: int, text: str, now: datetime) -> Question:
    question = Question(asker_id=asker_id, text=text[:MAX_QUESTION], status="open", created_at=now)
    session.add(question)
    await session.flush()
    return question


async def get_question(session: AsyncSession, question_id: int) -> Question | None:
    return await session.get(Question, question_id)


async def open_count(session: AsyncSession, asker_id: int) -> int:
    """The asker's questions still waiting for the county office."""
    return int(
        await session.scalar(
            select(func.count(Question.id)).where(Question.asker_id == asker_id, Question.status == "open")
        )
        or 0
    )


async def announced_since(session: AsyncSession, since: datetime) -> bool:
    """Whether the county officials were told of a question at or after `since`."""
    return await session.scalar(select(Question.id).where(Question.announced_at >= since).limit(1)) is not None


async def unannounced(session: AsyncSession) -> list[Question]:
    """Open questions the county officials have not been told of yet, oldest first."""
    stmt = select(Question).where(Question.status == "open", Question.announced_at.is_(None)).order_by(Question.id)
    return list(await session.scalars(stmt))


def mark_announced(announced: list[Question], now: datetime) -> None:
    for question in announced:
        question.announced_at = now


async def open_questions(session: AsyncSession, limit: int = 20) -> list[Question]:
    stmt = select(Question).where(Question.status == "open").order_by(Question.id).limit(limit)
    return list(await session.scalars(stmt))


def dismiss(question: Question, official_id: int, now: datetime) -> None:
    """Not a question the county office answers (a greeting, a stray number): out of the queue, asker not told."""
    question.status = "dismissed"
    question.answered_by_id = official_id
    question.answered_at = now


def answer(question: Question, official_id: int, text: str, now: datetime) -> None:
    question.status = "answered"
    question.answer = text
    question.answered_by_id = official_id
    question.answered_at = now


MAX_PARAPHRASES = 20  # per learned entry
MAX_PARAPHRASE = 100  # characters


def _lines(existing: str | None, added: list[str]) -> str | None:
    """Paraphrases one per line: the existing ones, then the new ones not yet there, within the limits."""
    lines = [line for line in (existing or "").split("\n") if line]
    for text in added:
        text = " ".join(text.split())[:MAX_PARAPHRASE]
        if text and text not in lines and len(lines) < MAX_PARAPHRASES:
            lines.append(text)
    return "\n".join(lines) or None


async def learn(
    session: AsyncSession,
    question: Question,
    official_id: int,
    source: str,
    now: datetime,
    paraphrases: list[str] | None = None,
) -> LearnedEntry:
    entry = LearnedEntry(
        question=question.text,
        answer=question.answer or "",
        source=source,
        paraphrases=_lines(None, [p for p in paraphrases or [] if p != question.text]),
        created_by_id=official_id,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    question.learned_id = entry.id
    return entry


async def learned_entries(session: AsyncSession) -> list[LearnedEntry]:
    return list(await session.scalars(select(LearnedEntry).order_by(LearnedEntry.id)))


async def learned_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(LearnedEntry.id))) or 0)


async def learned_version(session: AsyncSession) -> tuple[int, int]:
    """Changes whenever an entry is learned or gets a paraphrase: (entries, characters of paraphrases)."""
    row = (
        await session.execute(
            select(func.count(LearnedEntry.id), func.coalesce(func.sum(func.length(LearnedEntry.paraphrases)), 0))
        )
    ).one()
    return int(row[0]), int(row[1])


async def get_learned(session: AsyncSession, entry_id: int) -> LearnedEntry | None:
    return await session.get(LearnedEntry, entry_id)


def add_paraphrases(entry: LearnedEntry, texts: list[str]) -> int:
    """Adds the new ones (a repeat or the question itself is skipped); returns how many were added."""
    before = len(entry.questions())
    entry.paraphrases = _lines(entry.paraphrases, [t for t in texts if " ".join(t.split()) != entry.question])
    return len(entry.questions()) - before
