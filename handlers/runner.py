"""Runs declared flows: persists state after every step, re-asks on bad input, resumes after restarts."""

from __future__ import annotations

import copy
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
    parse_option,
    plain,
    render_prompt,
    text_parser,
)
from storage.conversations import end_conversation, save_step, start_conversation
from storage.models import Conversation


class Runner:
    def __init__(self, flows: dict[str, Flow]) -> None:
        self.flows = flows

    def title(self, conversation: Conversation) -> str:
        flow = self.flows.get(conversation.flow)
        return flow.title if flow else conversation.flow

    async def start(self, turn: Turn, name: str, data: dict[str, Any] | None = None, at: str | None = None
                    ) -> list[Reply]:
        """Begin a flow (at its first step, or at `at` when resuming a prepared report)."""
        flow = self.flows[name]
        turn.data = dict(data or {})
        now = turn.clock.now()
        # A nonce that differs between conversations, so buttons of an earlier one never match.
        nonce = int(now.timestamp() * 10) % 10_000_000
        first = flow.step(at) if at else flow.steps[0]
        assert first is not None, f"{name}: no step {at}"
        conversation = await start_conversation(turn.session, turn.user.id, name, first.id, turn.data, now, nonce)
        return [await self._prompt(turn, flow, first, conversation)]

    async def reprompt(self, turn: Turn, conversation: Conversation, lead: str | None = None) -> Reply:
        flow = self.flows[conversation.flow]
        step = flow.step(conversation.step)
        assert step is not None
        turn.data = copy.deepcopy(conversation.data)
        reply = await self._prompt(turn, flow, step, conversation)
        return _with_lead(reply, lead)

    async def advance(self, turn: Turn, conversation: Conversation, inbound: Inbound) -> tuple[list[Reply], bool]:
        """Apply one input to the current step. Returns the replies and whether a pressed button was taken."""
        flow = self.flows[conversation.flow]
        step = flow.step(conversation.step)
        assert step is not None
        turn.data = copy.deepcopy(conversation.data)
        prompt = await step.prompt(turn)
        if inbound.kind is Kind.PRESS:
            pressed = buttons.decode(inbound.data)
            if pressed is not None and pressed.nonce != conversation.nonce:
                return [_with_lead(render_prompt(prompt, conversation.nonce), turn.texts("button_stale"))], False
        parse = step.parse or (parse_option if prompt.options else text_parser())
        try:
            value = await parse(turn, inbound, prompt)
        except Invalid as problem:
            return [self._failed(turn, conversation, prompt, problem.message)], False
        if isinstance(value, str) and plain(value) in SKIP_WORDS:
            # 跳过 is never an answer: a skippable step turns it into its skip option before this point.
            return [self._failed(turn, conversation, prompt, turn.texts("cannot_skip"))], False
        turn.data[step.id] = value
        if step.store is not None:
            step.store(turn, value)
        following = await flow.next_step(turn, step)
        now = turn.clock.now()
        if following is None:
            await end_conversation(turn.session, turn.user.id)
            return await flow.finish(turn), inbound.kind is Kind.PRESS
        next_step = flow.step(following)
        assert next_step is not None, f"{flow.name}: no step {following}"
        conversation.nonce += 1
        save_step(conversation, following, turn.data, now)
        return [await self._prompt(turn, flow, next_step, conversation)], inbound.kind is Kind.PRESS

    def _failed(self, turn: Turn, conversation: Conversation, prompt: Prompt, message: str) -> Reply:
        conversation.failures += 1
        conversation.updated_at = turn.clock.now()
        if conversation.failures >= MAX_FAILURES:
            extra = (Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")),)
            lead = f"{message}\n{turn.texts('too_many_failures')}"
            return _with_lead(render_prompt(prompt, conversation.nonce, extra), lead)
        return _with_lead(render_prompt(prompt, conversation.nonce), message)

    async def _prompt(self, turn: Turn, flow: Flow, step: Step, conversation: Conversation) -> Reply:
        prompt = await step.prompt(turn)
        return render_prompt(prompt, conversation.nonce)


def _with_lead(reply: Reply, lead: str | None) -> Reply:
    if not lead:
        return reply
    return replace(reply, text=f"{lead}\n\n{reply.text}")
