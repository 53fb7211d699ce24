"""Flows declared as data: a flow is a list of steps; the runner owns what every step shares.

A step has an id, a prompt (text, choices, or a request for a photo or location), a parser that turns an
inbound event into a value or raises `Invalid` with a Chinese reason, and the next step. The runner stores
the value, persists the conversation after every step, re-asks on invalid input and offers the menu after
three failures.
"""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply

MAX_FAILURES = 3


class Invalid(Exception):
    """Input that does not answer the step; the message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


PromptFn = Callable[[Turn], Awaitable[Prompt]]
ParseFn = Callable[[Turn, Inbound, Prompt], Awaitable[Any]]
# The next step's id (None: finish); may be async when deciding needs the database.
NextFn = Callable[[Turn], "str | Awaitable[str | None] | None"]
FinishFn = Callable[[Turn], Awaitable[list[Reply]]]


async def parse_option(ctx: Turn, inbound: Inbound, prompt: Prompt) -> str:
    """The chosen option's id, by button or by typing its label."""
    if inbound.kind is Kind.PRESS:
        pressed = buttons.decode(inbound.data)
        if pressed is not None and any(option.id == pressed.value for option in prompt.options):
            return pressed.value
        raise Invalid(ctx.texts("button_invalid"))
    if inbound.kind is Kind.TEXT:
        typed = inbound.text.strip()
        for option in prompt.options:
            if typed == option.label:
                return option.id
    raise Invalid(ctx.texts("choose_option"))


def text_parser(min_len: int = 1, max_len: int = 200) -> ParseFn:
    async def parse(ctx: Turn, inbound: Inbound, prompt: Prompt) -> str:
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
class Step:
    id: str
    prompt: PromptFn
    parse: ParseFn | None = None  # default: an option when the prompt has options, else text
    next: str | NextFn | None = "__following__"
    # The value is always kept as data[<step id>]; `store` may derive more from it.
    store: Callable[[Turn, Any], None] | None = None


def fixed_prompt(
    text_key: str, options: Sequence[tuple[str, str]] = (), *, request: str | None = None, columns: int = 1
) -> PromptFn:
    """A prompt whose text comes from the texts files and whose options are (id, label) pairs."""

    async def prompt(ctx: Turn) -> Prompt:
        return Prompt(
            ctx.texts(text_key, **ctx.data),
            tuple(Option(i, label) for i, label in options),
            columns=columns,
            request=request,
        )

    return prompt


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    steps: tuple[Step, ...]
    finish: FinishFn
    # Its answers take real work (an inspection, a complaint): discarding them is confirmed first.
    precious: bool = False

    def __post_init__(self) -> None:
        ids = [step.id for step in self.steps]
        if len(ids) != len(set(ids)):
            raise ValueError(f"flow {self.name}: duplicate step ids")
        for step in self.steps:
            if isinstance(step.next, str) and step.next != "__following__" and step.next not in ids:
                raise ValueError(f"flow {self.name}: step {step.id} goes to unknown step {step.next}")

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps if step.id == step_id), None)

    async def next_step(self, ctx: Turn, step: Step) -> str | None:
        if step.next == "__following__":
            index = self.steps.index(step)
            return self.steps[index + 1].id if index + 1 < len(self.steps) else None
        if callable(step.next):
            chosen = step.next(ctx)
            return await chosen if inspect.isawaitable(chosen) else chosen
        return step.next


def render_prompt(prompt: Prompt, nonce: int, extra: Sequence[Choice] = ()) -> Reply:
    choices = tuple(Choice(buttons.step_data(nonce, option.id), option.label) for option in prompt.options)
    return Reply(prompt.text, choices=choices + tuple(extra), columns=prompt.columns, request=prompt.request)
