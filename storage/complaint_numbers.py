"""Complaint tracking numbers: TS-2026-000123, made from the year and its sequence, and read back from what
people type."""

from __future__ import annotations

import re

NUMBER_PATTERN = re.compile(r"^TS-?(\d{4})-?(\d{1,6})$")
# A number inside a sentence ("查一下TS-2026-000001的进度"), after folding as normalize_number does.
NUMBER_IN_TEXT = re.compile(r"TS-?\d{4}-?\d{1,6}(?!\d)")
NUMBER_FOLDING = str.maketrans("ＴＳ－–—‐０１２３４５６７８９", "TS----0123456789")
TRAILING_PUNCTUATION = "。.，,！!？?；;：:）)」』\"'”’ "


def format_number(year: int, seq: int) -> str:
    return f"TS-{year}-{seq:06d}"


def normalize_number(text: str) -> str | None:
    """TS-2026-000123 from what people type (ts2026-123, ＴＳ－2026－000123 …); None if it is not one."""
    folded = text.strip().upper().translate(NUMBER_FOLDING).rstrip(TRAILING_PUNCTUATION)
    match = NUMBER_PATTERN.match(folded.replace(" ", ""))
    return format_number(int(match[1]), int(match[2])) if match else None


def number_in_text(text: str) -> str | None:
    """The first complaint number written anywhere in a message, normalised; None when there is none."""
    match = NUMBER_IN_TEXT.search(text.upper().translate(NUMBER_FOLDING).replace(" ", ""))
    return normalize_number(match[0]) if match else None
