"""Questions in chat: answered from the knowledge base with a source, or honestly 不确定 and forwarded to the
county office, whose answer goes back to the asker and — with one button — becomes a new entry."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import TYPE_CHECKING, TypeVar

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons, question_notices
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply
from handlers.flow import Flow, Invalid, Option, Prompt, Step, pressed_or_typed, text_parser
from handlers.flow_state import FlowState
from handlers.formatting import cn_date
from knowledge.models import Entry, KnowledgeBase
from knowledge.off_topic import OFF_TOPIC
from knowledge.paraphrase import paraphrases
from storage import pacing, questions
from storage.users import get_user

if TYPE_CHECKING:  # the answerer (its search index, pypinyin) is imported with the first question, not at start-up
    from knowledge.answer import Answer, Answerer

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_QUESTION, MAX_QUESTION = 2, 500
DISMISS = "dismiss"
MIN_HAN = 4  # Chinese characters a question needs before it is forwarded to the county office
THROTTLED_DAYS = 7  # 待答复问题 shows the messages refused as too fast over this many days
MAX_PARAPHRASE_TEXT = 2000  # characters typed at once when adding paraphrases


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


class AskService:
    """One answerer per process over the shipped entries plus those learned from officials' answers.

    The learned entries live in the database; their count is checked on every question, so an entry learned
    through another process is picked up too.
    """

    def __init__(self, knowledge: KnowledgeBase, shipped: Callable[[], Answerer]) -> None:
        self.knowledge = knowledge
        self._shipped = shipped  # building an index takes a while: only when the first question comes
        self._answerer: Answerer | None = None
        self.learned: tuple[int, int] = (0, 0)
        # Answering is CPU work: building the index (0.3 s at the first question and after a learned entry), loading
        # the sentence encoder (0.2 s) and encoding an unsure question (50-70 ms). Done on this one thread, it never
        # holds up the other chats' taps on the event loop; one thread keeps the answerer used one call at a time.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answerer")

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            self._answerer = self._shipped()
        return self._answerer

    async def refresh(self, session: AsyncSession) -> None:
        version = await questions.learned_version(session)  # a new entry, or a paraphrase added to one
        if version == self.learned:
            return
        learned = [
            Entry(
                id=f"learned.{row.id}",
                questions=row.questions(),
                answer=row.answer,
                source=row.source,
                reviewed=row.created_at.date(),
                file="（县整规办答复）",
            )
            for row in await questions.learned_entries(session)
        ]
        from knowledge.answer import Answerer

        knowledge = dataclasses.replace(self.knowledge, entries=[*self.knowledge.entries, *learned])
        self._answerer = await self._off_the_loop(Answerer, knowledge)
        self.learned = version

    async def answer(self, session: AsyncSession, text: str, today: date | None = None) -> Answer:
        await self.refresh(session)
        return await self._off_the_loop(lambda: self.answerer.answer(text, today=today))

    async def _off_the_loop(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work, *args)

    def paraphrases(self, question: str) -> list[str]:
        """Other usual ways to ask a question the county office answered (vocabulary.yaml question_shapes)."""
        shapes = getattr(self.knowledge.vocabulary, "question_shapes", None) or []
        return paraphrases(question, shapes)

    def entry(self, entry_id: str) -> Entry | None:
        return next((entry for entry in self.answerer.kb.entries if entry.id == entry_id), None)


def _service(turn: Turn) -> AskService:
    assert turn.ask is not None
    return turn.ask


def _answer_reply(turn: Turn, answer: Answer) -> Reply:
    text = turn.texts("ask_answer", answer=answer.answer, source=answer.source or "")
    choices = tuple(
        Choice(
            buttons.menu_data("kb", suggestion["id"]), turn.texts("ask_did_you_mean", question=suggestion["question"])
        )
        for suggestion in answer.suggestions
        if len(buttons.menu_data("kb", suggestion["id"])) <= 64
    )
    return Reply(text, choices)


async def answer_question(turn: Turn, text: str, forward: bool = True) -> list[Reply]:
    """The knowledge base's answer; when it is not sure, the question goes to the county office (`forward`) or
    nothing is said (no replies), so that the caller can say something better."""
    text = " ".join(text.split())
    if len(text) < MIN_QUESTION:
        return [turn.menu_reply(turn.texts("ask_too_short"))]
    if len(text) > MAX_QUESTION:
        return [turn.menu_reply(turn.texts("ask_too_long", max=MAX_QUESTION, got=len(text)))]
    answer = await _service(turn).answer(turn.session, text, turn.clock.now().date())
    if not answer.abstained:
        return [_answer_reply(turn, answer)]
    if answer.declined and answer.declined != OFF_TOPIC:  # another county or city, a business not in 十小
        return [turn.menu_reply(answer.answer)]
    if not forward:
        return []
    if sum(_is_han(ch) for ch in text) < MIN_HAN:
        # "asdfgh", "99", a stray emoji: not a question the county office could answer, so not sent to it
        return [turn.menu_reply(turn.texts("ask_not_a_question"))]
    if answer.declined:  # nothing of 十小 in it (明天会下雨吗): said so, and not this county office's question
        return [turn.menu_reply(answer.answer)]
    if await questions.open_count(turn.session, turn.user.id) >= question_notices.MAX_OPEN_PER_ASKER:
        return [turn.menu_reply(turn.texts("ask_too_many_open", n=question_notices.MAX_OPEN_PER_ASKER))]
    now = turn.clock.now()
    question = await questions.ask(turn.session, turn.user.id, text, now)
    if await question_notices.may_announce(turn.session, now):
        turn.notices.extend(
            await question_notices.announce_one(turn.session, turn.texts, question, turn.role_title, now)
        )
        log.info("question %s forwarded to the county office", question.id)
    else:  # the officials were told of a question a moment ago: this one goes into the next summary
        log.info("question %s forwarded to the county office's next summary", question.id)
    if answer.suggestions:
        return [_not_sure_reply(turn, answer)]
    return [turn.menu_reply(turn.texts("ask_not_sure"))]


def _not_sure_reply(turn: Turn, answer: Answer) -> Reply:
    """不确定, still helping: up to three 您是想问 buttons (the question has gone to the county office all the same)."""
    choices = tuple(
        Choice(buttons.menu_data("kb", s["id"]), turn.texts("ask_did_you_mean", question=s["question"]))
        for s in answer.suggestions
        if len(buttons.menu_data("kb", s["id"])) <= 64
    )
    back = Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu"))
    return Reply(turn.texts("ask_not_sure_suggestions"), (*choices, back))


async def ask(turn: Turn) -> list[Reply]:
    if turn.argument.strip():
        return await answer_question(turn, turn.argument)
    return await turn.runner.start(turn, "ask")


async def show_entry(turn: Turn) -> list[Reply]:
    """A "您是想问" button: the entry it names."""
    await _service(turn).refresh(turn.session)
    entry = _service(turn).entry(turn.argument)
    if entry is None:
        return [turn.menu_reply(turn.texts("button_invalid"))]
    return [Reply(turn.texts("ask_answer", answer=entry.answer, source=entry.source))]


class AskAnswers(FlowState):
    question: str = ""


async def _ask_prompt(turn: Turn, answers: AskAnswers) -> Prompt:
    return Prompt(turn.texts("ask_prompt"))


async def _finish_ask(turn: Turn, answers: AskAnswers) -> list[Reply]:
    return await answer_question(turn, answers.question)


ASK = Flow(
    "ask",
    "提问",
    (Step("question", _ask_prompt, text_parser(MIN_QUESTION, MAX_QUESTION)),),
    _finish_ask,
    state=AskAnswers,
)


async def question_queue(turn: Turn) -> list[Reply]:
    waiting = await questions.open_questions(turn.session)
    # Messages refused because someone sent too many too fast (handlers/pacing.py), so the office knows.
    week_ago = turn.clock.now().date() - timedelta(days=THROTTLED_DAYS - 1)
    refused, people = await pacing.throttled_since(turn.session, week_ago)
    throttled = turn.texts("ask_queue_throttled", days=THROTTLED_DAYS, n=refused, people=people) if refused else ""
    if not waiting:
        return [turn.menu_reply(turn.texts("ask_queue_empty") + throttled)]
    choices = tuple(Choice(buttons.menu_data("kb_answer", q.id), q.text[:30]) for q in waiting)
    back = Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu"))
    return [Reply(turn.texts("ask_queue", n=len(waiting)) + throttled, (*choices, back))]


async def start_answer(turn: Turn) -> list[Reply]:
    question_id = turn.argument_id
    question = await questions.get_question(turn.session, question_id) if question_id is not None else None
    if question is None:
        return [turn.menu_reply(turn.texts("ask_question_unknown"))]
    if question.status != "open":
        return [turn.menu_reply(turn.texts("ask_already_answered"))]
    return await turn.runner.start(turn, "kb_answer", AnswerAnswers(question_id=question.id))


class AnswerAnswers(FlowState):
    question_id: int
    answer: str = ""  # the answer's text, or DISMISS


async def _answer_prompt(turn: Turn, answers: AnswerAnswers) -> Prompt:
    question = await questions.get_question(turn.session, answers.question_id)
    assert question is not None
    return Prompt(
        turn.texts("ask_answer_prompt", question=question.text), (Option(DISMISS, turn.texts("ask_dismiss_button")),)
    )


async def _parse_answer(turn: Turn, inbound: Inbound, prompt: Prompt, answers: AnswerAnswers) -> str:
    """The answer typed, or DISMISS when the official presses 忽略 (a greeting or a stray number is no question)."""
    if await pressed_or_typed(turn, inbound, prompt) == DISMISS:
        return DISMISS
    return await text_parser(4, 1000)(turn, inbound, prompt, answers)


async def _finish_answer(turn: Turn, answers: AnswerAnswers) -> list[Reply]:
    question = await questions.get_question(turn.session, answers.question_id)
    if question is None or question.status != "open":
        return [turn.menu_reply(turn.texts("ask_already_answered"))]
    if answers.answer == DISMISS:
        questions.dismiss(question, turn.user.id, turn.clock.now())
        return [turn.menu_reply(turn.texts("ask_dismissed"))]
    questions.answer(question, turn.user.id, answers.answer, turn.clock.now())
    asker = await get_user(turn.session, question.asker_id)
    if asker is not None:
        turn.notices.append(
            Reply(
                turn.texts("ask_answered_notice", question=question.text, answer=question.answer),
                chat_id=asker.channel_user_id,
            )
        )
    learn = Choice(buttons.menu_data("kb_learn", question.id), turn.texts("ask_learn_button"))
    return [Reply(turn.texts("ask_answer_sent"), (learn,))]


KB_ANSWER = Flow(
    "kb_answer",
    "答复问题",
    (Step("answer", _answer_prompt, _parse_answer, next=None),),
    _finish_answer,
    state=AnswerAnswers,
)


async def learn(turn: Turn) -> list[Reply]:
    question_id = turn.argument_id
    question = await questions.get_question(turn.session, question_id) if question_id is not None else None
    if question is None or question.status != "answered":
        return [turn.menu_reply(turn.texts("ask_question_unknown"))]
    if question.learned_id is not None:
        return [turn.menu_reply(turn.texts("ask_already_learned"))]
    today = turn.clock.now().date()
    source = turn.texts("ask_learned_source", date=cn_date(today))
    generated = _service(turn).paraphrases(question.text) if turn.ask is not None else []
    entry = await questions.learn(turn.session, question, turn.user.id, source, turn.clock.now(), generated)
    asked = entry.questions()
    more = Choice(buttons.menu_data("kb_paraphrase", entry.id), turn.texts("ask_paraphrase_button"))
    back = Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu"))
    listed = "\n".join(f"· {q}" for q in asked)
    return [Reply(turn.texts("ask_learned_with_questions", questions=listed), (more, back))]


async def start_paraphrase(turn: Turn) -> list[Reply]:
    """补充问法: the county office adds other ways to ask a learned entry."""
    entry_id = turn.argument_id
    entry = await questions.get_learned(turn.session, entry_id) if entry_id is not None else None
    if entry is None:
        return [turn.menu_reply(turn.texts("ask_question_unknown"))]
    return await turn.runner.start(turn, "kb_paraphrase", ParaphraseAnswers(entry_id=entry.id))


class ParaphraseAnswers(FlowState):
    entry_id: int
    paraphrases: list[str] = Field(default_factory=list)


async def _paraphrase_prompt(turn: Turn, answers: ParaphraseAnswers) -> Prompt:
    entry = await questions.get_learned(turn.session, answers.entry_id)
    assert entry is not None
    listed = "\n".join(f"· {q}" for q in entry.questions())
    return Prompt(turn.texts("ask_paraphrase_prompt", questions=listed, max=questions.MAX_PARAPHRASE))


_PARAPHRASE_BREAK = re.compile(r"[\n；;？?。|]+")


async def _parse_paraphrases(turn: Turn, inbound: Inbound, prompt: Prompt, answers: ParaphraseAnswers) -> list[str]:
    """One question per line (or separated by ？；。): each kept with its spaces collapsed."""
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    if len(inbound.text) > MAX_PARAPHRASE_TEXT:
        raise Invalid(turn.texts("text_too_long", max=MAX_PARAPHRASE_TEXT, got=len(inbound.text)))
    lines = [" ".join(line.split()).strip(" ·-、，,") for line in _PARAPHRASE_BREAK.split(inbound.text)]
    kept = [line for line in lines if sum(_is_han(ch) for ch in line) >= MIN_QUESTION]
    if not kept:
        raise Invalid(turn.texts("ask_paraphrase_none"))
    return kept


async def _finish_paraphrase(turn: Turn, answers: ParaphraseAnswers) -> list[Reply]:
    entry = await questions.get_learned(turn.session, answers.entry_id)
    if entry is None:
        return [turn.menu_reply(turn.texts("ask_question_unknown"))]
    added = questions.add_paraphrases(entry, answers.paraphrases)
    return [turn.menu_reply(turn.texts("ask_paraphrases_added", n=added, total=len(entry.questions())))]


KB_PARAPHRASE = Flow(
    "kb_paraphrase",
    "补充问法",
    (Step("paraphrases", _paraphrase_prompt, _parse_paraphrases),),
    _finish_paraphrase,
    state=ParaphraseAnswers,
)
