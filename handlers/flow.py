"""Flows declared as data: a flow is a list of steps; the runner owns what every step shares.

A flow's answers are a typed model (`handlers.flow_state.FlowState`). A step has an id, a prompt (text, choices,
or a request for a photo or location) written from the answers so far, a parser that turns an inbound event into
a value or raises `Invalid` with a Chinese reason, where the value goes, and the next step: a pure function of
the answers. Only the runner writes the answers (it stores the parsed value, through the step's `store` when
one value sets several answers), persists the conversation after every step, re-asks on invalid input and offers
the menu after three failures. Effects happen once, in the flow's `finish`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply
from handlers.flow_state import FlowState

MAX_FAILURES = 3


class Invalid(Exception):
    """Input that does not answer the step; the message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unfit(Exception):
    """A parsed value that does not fit the answers so far (an eleventh photo): raised by a step's store, shown
    like Invalid, as the text of `key`."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Prompt:
    text: str
    options: tuple[Option, ...] = ()
    columns: int = 1
    request: str | None = None


S = TypeVar("S", bound=FlowState)

# Step functions are given the answers so far.
PromptFn = Callable[[Turn, S], Awaitable[Prompt]]
# Turns an inbound event into a value; the answers so far are given to read.
ParseFn = Callable[[Turn, Inbound, Prompt, Any], Awaitable[Any]]
# Stores a parsed value in the answers; raises Unfit when the value does not fit them (an eleventh photo).
StoreFn = Callable[[S, Any], None]
# The next step's id (None: finish), from the answers alone: choosing a step never writes them.
NextFn = Callable[[S], "str | None"]
FinishFn = Callable[[Turn, S], Awaitable[list[Reply]]]
FOLLOWING = "__following__"


SKIP = "skip"  # the id of a step's skip option: typing 跳过 there does what pressing it does
SKIP_WORDS = ("跳过",)


class Ambiguous(Exception):
    def __init__(self, labels: list[str]) -> None:
        super().__init__(labels)
        self.labels = labels


def plain(label: str) -> str:
    """A label as people type it: letters and digits only (no ✓ ✗ 📍 ➕, spaces or punctuation), full width folded."""
    folded = unicodedata.normalize("NFKC", label)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN").casefold()


def typed_option(prompt: Prompt, typed: str, *, prefix: bool = True) -> Option | None:
    """The option a typed text names: its label exactly, or without its symbols (不符合 for ✗ 不符合), 跳过 for the
    skip option, or (with `prefix`) a unique beginning of one label (岩头 for 岩头镇). Raises Ambiguous when a
    beginning fits several labels; None when it names none."""
    typed = typed.strip()
    for option in prompt.options:
        if typed == option.label:
            return option
    wanted = plain(typed)
    if not wanted:
        return None
    same = [option for option in prompt.options if plain(option.label) == wanted]
    if len(same) == 1:
        return same[0]
    if wanted in SKIP_WORDS:
        skip = next((option for option in prompt.options if option.id == SKIP), None)
        if skip is not None:
            return skip
    if not prefix:
        return None
    fitting = same or [option for option in prompt.options if plain(option.label).startswith(wanted)]
    if len(fitting) > 1:
        raise Ambiguous([option.label for option in fitting])
    return fitting[0] if fitting else None


def _ambiguous(ctx: Turn, problem: Ambiguous) -> Invalid:
    return Invalid(ctx.texts("choose_ambiguous", candidates="、".join(f"“{label}”" for label in problem.labels)))


async def parse_option(ctx: Turn, inbound: Inbound, prompt: Prompt, answers: Any = None) -> str:
    """The chosen option's id, by button or by typing its label (see typed_option)."""
    if inbound.kind is Kind.PRESS:
        pressed = buttons.decode(inbound.data)
        if pressed is not None and any(option.id == pressed.value for option in prompt.options):
            return pressed.value
        raise Invalid(ctx.texts("button_invalid"))
    if inbound.kind is Kind.TEXT:
        try:
            option = typed_option(prompt, inbound.text)
        except Ambiguous as problem:
            raise _ambiguous(ctx, problem) from None
        if option is not None:
            return option.id
    raise Invalid(ctx.texts("choose_option"))


async def pressed_or_typed(ctx: Turn, inbound: Inbound, prompt: Prompt) -> str | None:
    """For a text step with buttons beside it (跳过, 重新选择…): the option's id when one was pressed, or its label
    (or 跳过, for a skip option) typed in full; None when the text is the step's own answer."""
    if inbound.kind is Kind.PRESS:
        return await parse_option(ctx, inbound, prompt)
    if inbound.kind is Kind.TEXT:
        option = typed_option(prompt, inbound.text, prefix=False)
        return option.id if option is not None else None
    return None


def optional_text(min_len: int, max_len: int) -> ParseFn:
    """A text that may be skipped (its prompt has a SKIP option): '' when skipped, never the word 跳过."""

    async def parse(ctx: Turn, inbound: Inbound, prompt: Prompt, answers: Any = None) -> str:
        if await pressed_or_typed(ctx, inbound, prompt) == SKIP:
            return ""
        return await text_parser(min_len, max_len)(ctx, inbound, prompt, answers)

    return parse


def text_parser(min_len: int = 1, max_len: int = 200) -> ParseFn:
    async def parse(ctx: Turn, inbound: Inbound, prompt: Prompt, answers: Any = None) -> str:
        if inbound.kind is not Kind.TEXT:
            raise Invalid(ctx.texts("expect_text"))
        value = " ".join(inbound.text.split())
        if value and not any(unicodedata.category(ch)[0] in "LN" for ch in value):
            # "😡😡😡" or "？？？" as a shop's name or a complaint's description says nothing anyone can act on
            raise Invalid(ctx.texts("text_without_words"))
        if len(value) < min_len:
            raise Invalid(ctx.texts("text_too_short", min=min_len))
        if len(value) > max_len:
            raise Invalid(ctx.texts("text_too_long", max=max_len, got=len(value)))
        return value

    return parse


@dataclass(frozen=True)
class Step(Generic[S]):
    id: str
    prompt: PromptFn[S]
    parse: ParseFn | None = None  # default: an option when the prompt has options, else text
    next: str | NextFn[S] | None = FOLLOWING
    # Default: the value is the answer of the same name as the step; `store` sets what one value decides.
    store: StoreFn[S] | None = None


@dataclass(frozen=True)
class Flow(Generic[S]):
    name: str
    title: str
    steps: tuple[Step[S], ...]
    finish: FinishFn[S]
    # The answers' model.
    state: type[S]
    # Its answers take real work (an inspection, a complaint): discarding them is confirmed first.
    precious: bool = False

    def __post_init__(self) -> None:
        ids = [step.id for step in self.steps]
        if len(ids) != len(set(ids)):
            raise ValueError(f"flow {self.name}: duplicate step ids")
        for step in self.steps:
            if isinstance(step.next, str) and step.next != FOLLOWING and step.next not in ids:
                raise ValueError(f"flow {self.name}: step {step.id} goes to unknown step {step.next}")
            if step.store is None and step.id not in self.state.model_fields:
                raise ValueError(f"flow {self.name}: step {step.id} has no answer of its name and no store")

    def step(self, step_id: str) -> Step[S] | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def route(self, step: Step[S], answers: S) -> str | None:
        """The step after `step` (None: finish), from the answers alone."""
        if step.next == FOLLOWING:
            index = self.steps.index(step)
            return self.steps[index + 1].id if index + 1 < len(self.steps) else None
        return step.next(answers) if callable(step.next) else step.next


def render_prompt(prompt: Prompt, nonce: int, extra: Sequence[Choice] = ()) -> Reply:
    choices = tuple(Choice(buttons.step_data(nonce, option.id), option.label) for option in prompt.options)
    return Reply(prompt.text, choices=choices + tuple(extra), columns=prompt.columns, request=prompt.request)
