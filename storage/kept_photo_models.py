"""Photos kept by the product, whatever record they belong to. Telegram's file id (DingTalk's download code) is
only a loan: the photo keeper (scheduler/photo_keeper.py) downloads each photo once, after its record committed,
into the media store, named by its content's sha256; after the last attempt it stays `failed` and its record says
so. Every photo table carries the same columns (`KeptColumns`): inspection_photos, complaint_photos, and
record_photos for the records whose photo was a column or JSON (a closure visit's photo, an owner's 已整改 photos).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime


class KeptColumns:
    """The keeper's bookkeeping on a photo row (mixed into each photo table)."""

    # Which runtime can fetch the file: "telegram" (a file id), "dingtalk" (a download code), "terminal" (a path).
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")
    sha256: Mapped[str | None] = mapped_column(String(64))
    extension: Mapped[str | None] = mapped_column(String(8))  # jpg, png…: part of the stored name
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Not before this moment: the next retry after a failure, or another instance's claim while it downloads.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class PhotoOf(StrEnum):
    """Which record a record_photos row belongs to."""

    CLOSURE = "closure"  # unit_closures.id: the cadre's follow-up visit (已关停 / 已取缔)
    OWNER_FIX = "owner_fix"  # owner_fixes.id: an owner's 已整改 photo, of the item `item_id`


class RecordPhoto(KeptColumns, Base):
    """A photo of a closure visit or of an owner's 已整改 report. The record keeps its file id too (the closure's
    column, the fix's JSON): what the chat shows; this row is what the product keeps."""

    __tablename__ = "record_photos"
    __table_args__ = (
        Index("ix_record_photos_record", "kind", "record_id"),
        Index("ix_record_photos_pending", "channel", "failed", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # PhotoOf
    record_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the table depends on `kind`
    item_id: Mapped[str | None] = mapped_column(String(64))
    file_id: Mapped[str] = mapped_column(String(200))
    file_unique_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
