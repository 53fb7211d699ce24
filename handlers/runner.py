"""Runs declared flows: persists state after every step, re-asks on bad input, resumes after restarts.

The runner alone writes a flow's answers: it loads them from the conversation, stores what a step's parser
returned, asks the step's route where to go, and saves them back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers import buttons
from handlers.context import Turn
from handlers.events import Choice, Inbound, Kind, Reply
from handlers.flow import (
    MAX_FAILURES,
    SKIP_WORDS,
    Flow,
    Invalid,
    Prompt,
    Step,
    Unfit,
    parse_option,
    plain,
    render_prompt,
    text_parser,
)
from handlers.flow_state import FlowState, Outdated
from storage.conversations import end_conversation, save_step, start_conversation
from storage.models import Conversation


class Runner:
    def __init__(self, flows: dict[str, Flow[Any]]) -> None:
        self.flows = flows

    def title(self, conversation: Conversation) -> str:
        flow = self.flows.get(conversation.flow)
        return flow.title if flow else conversation.flow

    def resumable(self, conversation: Conversation) -> bool:
        """Whether a stored conversation can go on: its flow and step exist and its answers can be read."""
        flow = self.flows.get(conversation.flow)
        if flow is None or flow.step(conversation.step) is None:
            return False
        try:
            flow.state.load(conversation.data)
        except Outdated:
            return False
        return True

    def answered(self, conversation: Conversation) -> bool:
        """Whether anything was answered yet (a precious flow's answers are only discarded when confirmed)."""
        flow = self.flows.get(conversation.flow)
        return flow is not None and flow.state.load(conversation.data).answered(step.id for step in flow.steps)

    async def start(
        self, turn: Turn, name: str, data: FlowState | dict[str, Any] | None = None, at: str | None = None
    ) -> list[Reply]:
        """Begin a flow (at its first step, or at `at` when resuming a prepared report) with the answers it is
        given (a model of its own, or as stored)."""
        flow = self.flows[name]
        answers = data if isinstance(data, FlowState) else flow.state.load(data or {})
        now = turn.clock.now()
        # A nonce that differs between conversations, so buttons of an earlier one never match.
        nonce = int(now.timestamp() * 10) % 10_000_000
        first = flow.step(at) if at else flow.steps[0]
        assert first is not None, f"{name}: no step {at}"
        conversation = await start_conversation(turn.session, turn.user.id, name, first.id, answers.dump(), now, nonce)
        return [await self._prompt(turn, first, answers, conversation)]

    async def reprompt(self, turn: Turn, conversation: Conversation, lead: str | None = None) -> Reply:
        flow = self.flows[conversation.flow]
        step = flow.step(conversation.step)
        assert step is not None
        reply = await self._prompt(turn, step, flow.state.load(conversation.data), conversation)
        return _with_lead(reply, lead)

    async def advance(self, turn: Turn, conversation: Conversation, inbound: Inbound) -> tuple[list[Reply], bool]:
        """Apply one input to the current step. Returns the replies and whether a pressed button was taken."""
        flow = self.flows[conversation.flow]
        step = flow.step(conversation.step)
        assert step is not None
        answers = flow.state.load(conversation.data)  # a copy: nothing is kept unless the step is answered
        prompt = await step.prompt(turn, answers)
        if inbound.kind is Kind.PRESS:
            pressed = buttons.decode(inbound.data)
            if pressed is not None and pressed.nonce != conversation.nonce:
                return [_with_lead(render_prompt(prompt, conversation.nonce), turn.texts("button_stale"))], False
        parse = step.parse or (parse_option if prompt.options else text_parser())
        try:
            value = await parse(turn, inbound, prompt, answers)
            if isinstance(value, str) and plain(value) in SKIP_WORDS:
                # 跳过 is never an answer: a skippable step turns it into its skip option before this point.
                raise Invalid(turn.texts("cannot_skip"))
            _store(step, answers, value)
        except Invalid as problem:
            return [self._failed(turn, conversation, prompt, problem.message)], False
        except Unfit as unfit:
            return [self._failed(turn, conversation, prompt, turn.texts(unfit.key, **unfit.params))], False
        following = flow.route(step, answers)
        now = turn.clock.now()
        if following is None:
            await end_conversation(turn.session, turn.user.id)
            return await flow.finish(turn, answers), inbound.kind is Kind.PRESS
        next_step = flow.step(following)
        assert next_step is not None, f"{flow.name}: no step {following}"
        conversation.nonce += 1
        save_step(conversation, following, answers.dump(), now)
        return [await self._prompt(turn, next_step, answers, conversation)], inbound.kind is Kind.PRESS

    def _failed(self, turn: Turn, conversation: Conversation, prompt: Prompt, message: str) -> Reply:
        conversation.failures += 1
        conversation.updated_at = turn.clock.now()
        if conversation.failures >= MAX_FAILURES:
            extra = (Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")),)
            lead = f"{message}\n{turn.texts('too_many_failures')}"
            return _with_lead(render_prompt(prompt, conversation.nonce, extra), lead)
        return _with_lead(render_prompt(prompt, conversation.nonce), message)

    async def _prompt(self, turn: Turn, step: Step[Any], answers: FlowState, conversation: Conversation) -> Reply:
        return render_prompt(await step.prompt(turn, answers), conversation.nonce)


def _store(step: Step[Any], answers: FlowState, value: Any) -> None:
    """The parsed value into the answers: through the step's store (which may refuse it with Unfit), or as the
    answer of the step's name."""
    if step.store is not None:
        step.store(answers, value)
    else:
        setattr(answers, step.id, value)


def _with_lead(reply: Reply, lead: str | None) -> Reply:
    if not lead:
        return reply
    return replace(reply, text=f"{lead}\n\n{reply.text}")
