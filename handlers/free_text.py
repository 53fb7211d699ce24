"""A message typed outside any flow: a complaint number, a greeting, a wish to complain, or a question.

Only a question goes to the knowledge base (and, when it is not sure, to the county office): a greeting, a
tracking number or "我想投诉隔壁饭店" forwarded as a 待答复问题 would leave the sender waiting for nothing and the
county office with a queue of non-questions. The words are data (data/free_text.yaml), validated at load.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handlers import ask, buttons
from handlers.complaints import tracking
from handlers.context import Turn
from handlers.events import Choice, Reply
from knowledge.yaml_errors import YamlFileError, read_yaml_file
from storage.complaint_numbers import number_in_text

DEFAULT_PATH = Path(__file__).parent / "data" / "free_text.yaml"
KEYS = ("greetings", "thanks", "particles", "complaint_words")


class FreeTextError(ValueError):
    pass


@dataclass(frozen=True)
class FreeTextWords:
    greetings: frozenset[str]
    thanks: frozenset[str]
    particles: str
    complaint_words: tuple[str, ...]

    def bare(self, text: str) -> str:
        """The text without spaces, punctuation, symbols (emoji) and trailing particles, lower-cased."""
        kept = "".join(ch for ch in text.lower() if unicodedata.category(ch)[0] in "LN")
        return kept.rstrip(self.particles)


def load_words(path: Path = DEFAULT_PATH) -> FreeTextWords:
    try:
        data = read_yaml_file(path)
    except YamlFileError as problem:
        raise FreeTextError(f"{path}：{problem}") from None
    if not isinstance(data, dict) or set(data) != set(KEYS):
        raise FreeTextError(f"{path}：需要且只能有这几项：{'、'.join(KEYS)}")
    for key in KEYS:
        words = data[key]
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise FreeTextError(f"{path}：{key} 必须是非空的文字列表")
    return FreeTextWords(
        greetings=frozenset(w.lower() for w in data["greetings"]),
        thanks=frozenset(w.lower() for w in data["thanks"]),
        particles="".join(data["particles"]),
        complaint_words=tuple(data["complaint_words"]),
    )


@lru_cache(maxsize=1)
def shipped_words() -> FreeTextWords:
    return load_words()


async def free_text(turn: Turn, text: str) -> list[Reply] | None:
    words = shipped_words()
    number = number_in_text(text)
    if number is not None and turn.menus.allows(turn.user.role, "complaint_track"):
        turn.argument = number
        return await tracking.track(turn)
    bare = words.bare(text)
    if bare in words.greetings:
        return [turn.menu_reply(turn.texts("free_greeting", role=turn.role_title))]
    if bare in words.thanks:
        return [turn.menu_reply(turn.texts("free_thanks"))]
    if any(word in text for word in words.complaint_words) and turn.menus.allows(turn.user.role, "complaint_new"):
        # "投诉电话是多少" is a question the knowledge base may answer; a complaint itself is filed in its flow.
        answered = await ask.answer_question(turn, text, forward=False)
        return [
            *answered,
            Reply(
                turn.texts("free_complaint_hint"),
                (
                    Choice(buttons.menu_data("complaint_new"), turn.texts("free_complaint_button")),
                    Choice(buttons.menu_data("complaint_mine"), turn.texts("free_complaint_mine_button")),
                ),
            ),
        ]
    return await ask.answer_question(turn, text)
