"""The DingTalk runtime: the same flows for the staff of a DingTalk (浙政钉) enterprise app robot, in Stream mode.

Stream mode connects out to DingTalk (no public address, which suits a county server) with the official
`dingtalk-stream` SDK (the optional extra `.[dingtalk]`). Each robot message is turned into the core's Inbound,
handled and committed, and only then acknowledged: the SDK sends the acknowledgement when our handler returns,
so a crash before the commit leaves the message unacknowledged and DingTalk delivers it again (its message id is
the update id, so a second delivery is a no-op). Replies go through the outbox and the sender like Telegram's.

People are known by their DingTalk staff id, numbered as a chat id (storage/channel_accounts.py); invites, roles
and every check are the core's. Choices are buttons of a built-in ActionCard that send the choice's number back as
the person's message, or numbered text (bot/dingtalk_transport.py says when); either way a number is read against
the last message delivered to the person. A card callback (a button press on a template-made interactive card) is
taken as a press, so a forged one is refused by the core like any forged button.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotMessage, Credential

from bot.app import App, RobotDelivery, build_jobs, photo_keeper, published_store
from bot.dingtalk_transport import CHANNEL, DingTalkApi, DingTalkPhotoSource, DingTalkTransport, numbered
from bot.log_redaction import redact_logs
from bot.polling import stop_on_signals
from bot.robots import published_links
from handlers.events import Inbound, Kind, Photo
from scheduler.sender import Limits, Sender
from storage import channel_accounts, outbox

log = logging.getLogger(__name__)

SINGLE_CHAT = "1"  # conversationType: "1" a one-to-one chat with the robot, "2" a group
CARD_CALLBACK_TOPIC = "/v1.0/card/instances/callback"
MAX_BUTTON_DIGITS = 4


def update_id(message_id: str) -> int:
    """A DingTalk message id (a string) as the core's update id: 63 bits of its hash."""
    return int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big") >> 1


class DingTalkRuntime:
    def __init__(self, app: App) -> None:
        redact_logs(app.settings)
        settings = app.settings
        secret = settings.dingtalk_client_secret.get_secret_value() if settings.dingtalk_client_secret else ""
        self.app = app
        self.client = dingtalk_stream.DingTalkStreamClient(
            Credential(settings.dingtalk_client_id, secret), logger=logging.getLogger("dingtalk_stream")
        )
        self.client.register_callback_handler(ChatbotMessage.TOPIC, _Messages(self))
        self.client.register_callback_handler(CARD_CALLBACK_TOPIC, _CardPresses(self))
        self.api = DingTalkApi(self.client, settings.dingtalk_client_id)
        publish = published_links(published_store(settings), settings.public_media_url)
        limits = Limits(
            global_per_second=settings.dingtalk_send_per_second, per_chat_interval=settings.dingtalk_per_chat_interval
        )
        transport = DingTalkTransport(self.api, app.db, publish, cards=settings.dingtalk_cards)
        self.sender = Sender(app.db, transport, CHANNEL, limits, settings.instance_name or None)
        self.keeper = photo_keeper(app, DingTalkPhotoSource(self.api), CHANNEL)
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self, *, handle_signals: bool = True) -> None:
        sender_task = asyncio.create_task(self.sender.run(), name="outbox-dingtalk")
        keeper_task = asyncio.create_task(self.keeper.run(), name="photo-keeper-dingtalk")
        robots = RobotDelivery(self.app)
        robots.start()
        jobs = build_jobs(self.app)
        stream = asyncio.create_task(self.client.start(), name="dingtalk-stream")
        try:
            await jobs.start()
            log.info("DingTalk robot %s ready (Stream mode)", self.app.settings.dingtalk_client_id)
            self.ready.set()
            self.sender.wake()  # whatever a previous run left in the outbox
            with stop_on_signals(self._stopping.set, enabled=handle_signals):
                await self._stopping.wait()
        finally:
            await _cancel(stream)
            await jobs.stop()
            self.sender.stop()
            self.keeper.stop()
            await sender_task
            await keeper_task
            await robots.stop()
            await self.api.close()

    async def stop(self) -> None:
        self._stopping.set()

    async def handle(self, inbound: Inbound) -> None:
        await self.app.core.handle(inbound)  # one transaction: handled and committed before the acknowledgement
        self.sender.wake()

    async def inbound(self, message: ChatbotMessage) -> Inbound | None:
        """A robot message as the core's Inbound; None for what the bot does not take (group chats, no staff id)."""
        staff_id = message.sender_staff_id
        if message.conversation_type != SINGLE_CHAT or not staff_id or not message.message_id:
            log.info("DingTalk message ignored (not a one-to-one chat with a staff member)")
            return None
        now = self.app.clock.now()
        async with self.app.db.transaction() as session:
            chat_id = await channel_accounts.chat_id_for(session, CHANNEL, staff_id, now)
            last = await outbox.latest_sent(session, CHANNEL, chat_id)
            choices, prompt_id = (numbered(last.payload), last.id) if last is not None else ([], None)
        base: dict[str, Any] = {
            "user_id": chat_id,
            "chat_id": chat_id,
            "channel": CHANNEL,
            "update_id": update_id(message.message_id),
            "display_name": (message.sender_nick or "")[:64] or None,
        }
        images = message.get_image_list() or []
        if images:
            return Inbound(kind=Kind.PHOTO, photo=Photo(file_id=images[0]), **base)
        texts = message.get_text_list()
        if not texts:
            return Inbound(kind=Kind.OTHER, **base)
        text = "\n".join(part for part in texts if part).strip()
        if text.isdecimal() and len(text) <= MAX_BUTTON_DIGITS and 1 <= int(text) <= len(choices):
            label, data = choices[int(text) - 1]
            return Inbound(kind=Kind.PRESS, data=data, pressed_label=label, message_id=prompt_id, **base)
        if text.startswith("/") and len(text) > 1:
            head, _, rest = text[1:].partition(" ")
            return Inbound(kind=Kind.COMMAND, command=head.lower(), text=rest.strip(), **base)
        return Inbound(kind=Kind.TEXT, text=text, **base)

    async def card_press(self, callback: CallbackMessage) -> Inbound | None:
        """A press on an interactive card: its data as a button press of the staff member who pressed it."""
        data = callback.data if isinstance(callback.data, dict) else {}
        staff_id = str(data.get("userId") or "")
        if not staff_id or not callback.headers.message_id:
            return None
        content = data.get("content")
        params: dict[str, Any] = {}
        if isinstance(content, str):
            import json

            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = {}
            private = parsed.get("cardPrivateData") if isinstance(parsed, dict) else None
            params = private.get("params", {}) if isinstance(private, dict) else {}
        async with self.app.db.transaction() as session:
            chat_id = await channel_accounts.chat_id_for(session, CHANNEL, staff_id[:128], self.app.clock.now())
        pressed = str(params.get("data", "")) if isinstance(params, dict) else ""
        return Inbound(
            user_id=chat_id,
            chat_id=chat_id,
            kind=Kind.PRESS,
            channel=CHANNEL,
            data=pressed[:64] or "?",
            update_id=update_id(callback.headers.message_id),
        )


class _Messages(CallbackHandler):
    """Robot messages: handled and committed, then acknowledged (the SDK acknowledges when this returns)."""

    def __init__(self, runtime: DingTalkRuntime) -> None:
        super().__init__()
        self.runtime = runtime

    async def process(self, callback: CallbackMessage) -> tuple[int, Any]:
        try:
            inbound = await self.runtime.inbound(ChatbotMessage.from_dict(callback.data))
            if inbound is not None:
                await self.runtime.handle(inbound)
        except Exception:
            log.exception("DingTalk message not handled; DingTalk will deliver it again")
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
        return AckMessage.STATUS_OK, "OK"


class _CardPresses(CallbackHandler):
    def __init__(self, runtime: DingTalkRuntime) -> None:
        super().__init__()
        self.runtime = runtime

    async def process(self, callback: CallbackMessage) -> tuple[int, Any]:
        try:
            inbound = await self.runtime.card_press(callback)
            if inbound is not None:
                await self.runtime.handle(inbound)
        except Exception:
            log.exception("DingTalk card callback not handled")
            return AckMessage.STATUS_SYSTEM_EXCEPTION, {}
        return AckMessage.STATUS_OK, {}


async def _cancel(stream: asyncio.Task[Any]) -> None:
    """Stop the SDK's connection loop: it catches one cancellation (to reconnect), so cancel until it ends."""
    while not stream.done():
        stream.cancel()
        await asyncio.wait([stream], timeout=0.5)
