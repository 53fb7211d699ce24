"""Questions the knowledge base could not answer, and the answers officials turned into new entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime


class Question(Base):
    """A question forwarded to the county office's queue (the bot was not sure)."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | answered | dismissed
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    learned_id: Mapped[int | None] = mapped_column(ForeignKey("learned_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the county officials were told of it (at once, or folded into the next summary: handlers/ask.py).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LearnedEntry(Base):
    """A knowledge base entry made from an official's answer to a real question."""

    def questions(self) -> tuple[str, ...]:
        """The question asked, then its paraphrases."""
        return (self.question, *(line for line in (self.paraphrases or "").split("\n") if line))

    __tablename__ = "learned_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    # Other ways to ask it, one per line: made when the entry is learned, and added by the county office.
    paraphrases: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
