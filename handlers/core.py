"""The conversation core: one inbound event in, replies out, all in one transaction.

Record the update id (a redelivery becomes a no-op), load the user and their conversation, run one step,
write the new state and append the replies to the outbox, commit. Only then does the sender deliver, so a
crash before the commit means Telegram redelivers, and a crash after it means the sender finds the replies.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons, pacing, registration
from handlers.context import CoreConfig, Turn
from handlers.events import Choice, Inbound, Kind, Outcome, Reply
from handlers.formatting import cn_duration
from handlers.menus import Menus
from handlers.runner import Runner
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from storage import outbox, users
from storage.clock import Clock
from storage.conversations import end_conversation, load_conversation
from storage.db import Database
from storage.models import Conversation, User
from storage.updates import claim_update, claim_updates

log = logging.getLogger(__name__)

Action = Callable[[Turn], Awaitable[list[Reply]]]
# Answers free text typed outside any flow (the knowledge base plugs in here); None: not understood.
FreeTextHandler = Callable[[Turn, str], Awaitable[list[Reply] | None]]

DISCARD = "discard"  # g.discard.<nonce>: confirms discarding the conversation at that very step
MAX_MERGED = 4000  # Telegram's limit is 4096 characters; keep a margin for the choice mark


@dataclass
class CoreParts:
    texts: Texts
    menus: Menus
    runner: Runner
    actions: dict[str, Action]
    # Slash commands beyond /start /menu /help /cancel, mapped to action ids (role checks as for menus).
    commands: dict[str, str] = field(default_factory=dict)
    free_text: FreeTextHandler | None = None
    knowledge: KnowledgeBase | None = None
    ask: Any = None  # handlers.ask.AskService (typed loosely: ask imports the core's Turn)


class Core:
    def __init__(self, db: Database, clock: Clock, config: CoreConfig, parts: CoreParts) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.parts = parts
        self.texts = parts.texts

    async def handle(self, inbound: Inbound) -> Outcome:
        inbound = inbound.storable()
        try:
            async with self.db.transaction() as session:
                return await self._handle(session, inbound)
        except Exception:
            # The log gets the trace (ids only, no personal data); the user gets a plain apology.
            log.exception("failed to handle update %s (%s)", inbound.update_id, inbound.kind)
            async with self.db.transaction() as session:
                if inbound.update_id is not None:
                    await claim_update(session, inbound.channel, inbound.update_id, self.clock.now())
                reply = Reply(self.texts("internal_error"))
                await outbox.enqueue(
                    session, inbound.chat_id, reply.kind, reply.payload(), self.clock.now(), inbound.channel, reply=True
                )
            return Outcome(replies=[reply])

    async def handle_batch(self, inbounds: Sequence[Inbound]) -> list[Outcome]:
        """Several inbound events in one transaction (a group commit), in order: what long polling fetched in one
        getUpdates. Each is handled exactly as handle() would, but the transaction's fixed cost is paid once and
        what one update read (areas, the user) is still in the session for the next; the update ids are recorded
        and the replies written in one statement each: per update, half the CPU on SQLite and half the time on
        PostgreSQL (bench/README.md).

        All or nothing: if any of them fails, the whole transaction is rolled back and each is handled again on
        its own, so a failing update gets its apology and the others their answers, as without batching."""
        if len(inbounds) <= 1:
            return [await self.handle(inbound) for inbound in inbounds]
        stored = [inbound.storable() for inbound in inbounds]
        try:
            async with self.db.transaction() as session, outbox.collected(session):
                return await self._handle_all(session, stored)
        except Exception:
            log.warning("a batch of %d updates failed; handling them one at a time", len(stored), exc_info=True)
        return [await self.handle(inbound) for inbound in stored]

    async def _handle_all(self, session: AsyncSession, inbounds: list[Inbound]) -> list[Outcome]:
        # Every update id recorded in one statement; an id recorded before, or met twice here, is a redelivery.
        fresh: set[tuple[str, int]] = set()
        for channel in {inbound.channel for inbound in inbounds if inbound.update_id is not None}:
            ids = [
                inbound.update_id
                for inbound in inbounds
                if inbound.channel == channel and inbound.update_id is not None
            ]
            fresh |= {
                (channel, update_id) for update_id in await claim_updates(session, channel, ids, self.clock.now())
            }
        await users.prefetch(session, [inbound.user_id for inbound in inbounds])  # their users in one query
        outcomes = []
        for inbound in inbounds:
            if inbound.update_id is not None:
                if (inbound.channel, inbound.update_id) not in fresh:
                    log.info("update %s already handled; skipped", inbound.update_id)
                    outcomes.append(Outcome(duplicate=True))
                    continue
                fresh.discard((inbound.channel, inbound.update_id))
            outcomes.append(await self._handle(session, inbound, claimed=True))
        return outcomes

    async def _handle(self, session: AsyncSession, inbound: Inbound, *, claimed: bool = False) -> Outcome:
        now = self.clock.now()
        if (
            not claimed
            and inbound.update_id is not None
            and not await claim_update(session, inbound.channel, inbound.update_id, now)
        ):
            log.info("update %s already handled; skipped", inbound.update_id)
            return Outcome(duplicate=True)
        outcome = Outcome()
        user = await users.get_by_channel_id(session, inbound.user_id, lock=True)
        if user is None:
            user, outcome.replies = await registration.admit_unknown(session, inbound, self.texts, now)
            if user is None:
                # A stranger's message creates nothing; they are told how to begin.
                await self._write(session, inbound, outcome, [])
                return outcome
            user.channel = inbound.channel
            turn = self._turn(session, user, inbound)
            outcome.replies.extend(await registration.after_registration(turn))
        else:
            users.touch(user, now)
            if user.channel != inbound.channel:  # notices to them go where they chat
                user.channel = inbound.channel
            screened = await pacing.screen(session, user, inbound, self.clock, self.texts, self.config)
            if screened is not None:  # a double tap, or too many too fast: not handled
                await self._write(session, inbound, screened, [])
                return screened
            turn = self._turn(session, user, inbound)
            outcome.replies, outcome.press_accepted = await self._dispatch(turn)
            pacing.taken(user, inbound, outcome, self.clock)
        await self._write(session, inbound, outcome, turn.notices)
        return outcome

    def _turn(self, session: AsyncSession, user: User, inbound: Inbound) -> Turn:
        return Turn(
            session,
            user,
            self.clock,
            self.texts,
            self.parts.menus,
            self.config,
            inbound,
            self.parts.runner,
            knowledge=self.parts.knowledge,
            ask=self.parts.ask,
        )

    async def _write(self, session: AsyncSession, inbound: Inbound, outcome: Outcome, notices: list[Reply]) -> None:
        messages: list[tuple[int, str, dict[str, Any]]] = []
        outcome.replies = compact(outcome.replies)
        for reply in [*outcome.replies, *notices]:
            chat_id = reply.chat_id if reply.chat_id is not None else inbound.chat_id
            messages.append((chat_id, reply.kind, reply.payload()))
        now = self.clock.now()
        # A notice goes to the channel its recipient chats on (a DingTalk cadre's report reaches a Telegram
        # township official): looked up only when there are notices to others.
        others = {chat_id for chat_id, _, _ in messages if chat_id != inbound.chat_id}
        channels = await users.channels_of(session, others) if others else None
        await outbox.enqueue_many(session, messages, now, inbound.channel, reply_to=inbound.chat_id, channels=channels)
        if outcome.press_accepted and inbound.message_id is not None and inbound.message_text is not None:
            # The choice marked on the pressed message (its buttons removed) goes after the answer, as a notice:
            # the person waits for the next prompt, not for the mark (scheduler/sender.py paces it behind).
            label = _pressed_label(inbound)
            text = f"{inbound.message_text}\n\n✅ {label}" if label else inbound.message_text
            await outbox.enqueue_many(
                session,
                [(inbound.chat_id, "edit", {"message_id": inbound.message_id, "text": text[:4096]})],
                now,
                inbound.channel,
            )

    async def _dispatch(self, turn: Turn) -> tuple[list[Reply], bool]:
        runner = self.parts.runner
        conversation = await load_conversation(turn.session, turn.user.id)
        lead: list[str] = []
        if conversation is not None and turn.clock.now() - conversation.updated_at > self.config.conversation_timeout:
            lead.append(
                self.texts(
                    "conversation_expired",
                    title=runner.title(conversation),
                    keep=cn_duration(self.config.conversation_timeout),
                )
            )
            await end_conversation(turn.session, turn.user.id)
            conversation = None
        elif conversation is not None and not runner.resumable(conversation):
            # Saved by an earlier version whose steps or answers this one cannot read.
            lead.append(self.texts("conversation_outdated", title=runner.title(conversation)))
            await end_conversation(turn.session, turn.user.id)
            conversation = None
        replies, accepted = await self._route(turn, conversation)
        if lead and replies:
            first = replies[0]
            replies[0] = replace(first, text="\n\n".join([*lead, first.text]))
        elif lead:
            replies = [turn.menu_reply("\n\n".join(lead))]
        return replies, accepted

    async def _route(self, turn: Turn, conversation: Conversation | None) -> tuple[list[Reply], bool]:
        inbound = turn.inbound
        if inbound.kind is Kind.COMMAND:
            return await self._command(turn, conversation), False
        if inbound.kind is Kind.PRESS:
            return await self._press(turn, conversation)
        if inbound.kind is Kind.EDITED:
            return [await self._elsewhere(turn, conversation, self.texts("edited_ignored"))], False
        if conversation is not None:
            return await self.parts.runner.advance(turn, conversation, inbound)
        if inbound.kind is Kind.TEXT:
            if registration.looks_like_invite(inbound.text):
                return await registration.redeem(turn, inbound.text), False
            if self.parts.free_text is not None:
                answered = await self.parts.free_text(turn, inbound.text)
                if answered is not None:
                    return answered, False
            return [turn.menu_reply(self.texts("not_understood"))], False
        return [turn.menu_reply(self.texts("unexpected_input"))], False

    async def _command(self, turn: Turn, conversation: Conversation | None) -> list[Reply]:
        command, argument = turn.inbound.command, turn.inbound.text.strip()
        if command == "start" and argument:
            return await registration.redeem(turn, argument)
        if command in ("start", "menu"):
            if conversation is not None:
                return [self._resume_or_abandon(turn, conversation)]
            return [turn.menu_reply()]
        if command == "cancel":
            if conversation is None:
                return [turn.menu_reply(self.texts("nothing_to_cancel"))]
            return [await self._leave(turn, conversation)]
        if command == "help":
            help_text = self.texts(f"help_{turn.user.role}")
            if conversation is not None:
                return [await self.parts.runner.reprompt(turn, conversation, help_text)]
            return [turn.menu_reply(help_text)]
        if command in self.parts.commands:
            if conversation is not None:
                return [self._resume_or_abandon(turn, conversation)]
            turn.argument = argument
            replies, _ = await self._action(turn, self.parts.commands[command])
            return replies
        unknown = self.texts("unknown_command", command=(command or "")[:32])
        if conversation is not None:
            return [await self.parts.runner.reprompt(turn, conversation, unknown)]
        return [turn.menu_reply(unknown)]

    async def _press(self, turn: Turn, conversation: Conversation | None) -> tuple[list[Reply], bool]:
        pressed = buttons.decode(turn.inbound.data)
        runner = self.parts.runner
        if pressed is None:
            log.warning("unrecognised button data from update %s", turn.inbound.update_id)
            return [await self._elsewhere(turn, conversation, self.texts("button_invalid"))], False
        if pressed.kind == buttons.GLOBAL:
            if pressed.value == "resume" and conversation is not None:
                return [await runner.reprompt(turn, conversation)], True
            if pressed.value in ("menu", "cancel"):
                if conversation is None:
                    return [turn.menu_reply()], True
                return [await self._leave(turn, conversation)], True
            if conversation is not None and pressed.value == f"{DISCARD}.{conversation.nonce}":
                title = runner.title(conversation)
                await end_conversation(turn.session, turn.user.id)
                return [turn.menu_reply(self.texts("discarded", title=title))], True
            return [await self._elsewhere(turn, conversation, self.texts("button_stale"))], False
        if pressed.kind == buttons.MENU:
            if conversation is not None:
                return [self._resume_or_abandon(turn, conversation)], False
            action_id, _, turn.argument = pressed.value.partition(".")
            return await self._action(turn, action_id)
        if conversation is None:
            return [turn.menu_reply(self.texts("button_stale"))], False
        return await runner.advance(turn, conversation, turn.inbound)

    async def _action(self, turn: Turn, action_id: str) -> tuple[list[Reply], bool]:
        menus = self.parts.menus
        if action_id not in menus.actions or action_id not in self.parts.actions:
            return [turn.menu_reply(self.texts("button_invalid"))], False
        if not menus.allows(turn.user.role, action_id):
            log.info("user %s refused action %s (role %s)", turn.user.id, action_id, turn.user.role)
            label = menus.actions[action_id].label
            return [turn.menu_reply(self.texts("action_refused", action=label, role=turn.role_title))], False
        return await self.parts.actions[action_id](turn), True

    async def _elsewhere(self, turn: Turn, conversation: Conversation | None, lead: str) -> Reply:
        if conversation is not None:
            return await self.parts.runner.reprompt(turn, conversation, lead)
        return turn.menu_reply(lead)

    async def _leave(self, turn: Turn, conversation: Conversation) -> Reply:
        """/cancel or 返回主菜单 in a flow: a flow whose answers took real work asks first, with a button that
        discards only this very step of it (an old confirmation must not discard a later report)."""
        runner = self.parts.runner
        title = runner.title(conversation)
        flow = runner.flows.get(conversation.flow)
        if flow is not None and flow.precious and runner.answered(conversation):
            return Reply(
                self.texts("discard_confirm", title=title),
                choices=(
                    Choice(buttons.global_data("resume"), self.texts("button_resume", title=title)),
                    Choice(buttons.global_data(f"{DISCARD}.{conversation.nonce}"), self.texts("button_discard")),
                ),
            )
        await end_conversation(turn.session, turn.user.id)
        return turn.menu_reply(self.texts("cancelled", title=title))

    def _resume_or_abandon(self, turn: Turn, conversation: Conversation) -> Reply:
        title = self.parts.runner.title(conversation)
        return Reply(
            self.texts("unfinished", title=title, keep=cn_duration(self.config.conversation_timeout)),
            choices=(
                Choice(buttons.global_data("resume"), self.texts("button_resume", title=title)),
                Choice(buttons.global_data("menu"), self.texts("button_abandon")),
            ),
        )


def _pressed_label(inbound: Inbound) -> str | None:
    return inbound.pressed_label if inbound.kind is Kind.PRESS else None


def compact(replies: list[Reply]) -> list[Reply]:
    """Fold plain texts into the message that follows, so one step sends one message (1 message/s/chat)."""
    merged: list[Reply] = []
    pending: list[str] = []
    for reply in replies:
        plain = (
            not (reply.choices or reply.request or reply.photo or reply.document or reply.album)
            and reply.chat_id is None
        )
        if plain:
            pending.append(reply.text)
            continue
        if pending and reply.chat_id is None and not (reply.photo or reply.document or reply.album):
            text = "\n\n".join([*pending, reply.text])
            if len(text) <= MAX_MERGED:
                reply = Reply(text, reply.choices, reply.columns, reply.request, None, None, None)
                pending = []
        merged.extend(Reply(text) for text in _join_plain(pending))
        pending = []
        merged.append(reply)
    merged.extend(Reply(text) for text in _join_plain(pending))
    return merged


def _join_plain(texts: list[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        if out and len(out[-1]) + 2 + len(text) <= MAX_MERGED:
            out[-1] = f"{out[-1]}\n\n{text}"
        else:
            out.append(text)
    return out
