"""Delivers the outbox within Telegram's limits: ~30 messages/s overall, ~1/s per chat with short bursts, 429
honoured.

One sender per process. It is woken right after a commit so replies feel instant, and it keeps each chat's
messages in order, replies first: only a chat's next pending message (its oldest reply, else its oldest notice)
is ever in flight.

Per chat, a token bucket (storage/pacing.py, Allowance): Telegram tolerates short bursts in one chat, so the
answer to a tap and the ✅ mark on the pressed button need not be a second apart. Notices never take a chat's
last token: the next reply to the person finds one waiting.

Several instances can share one outbox (PostgreSQL): each claims the messages it sends (SKIP LOCKED, with a
lease that a crashed instance's claims outlive by at most LEASE), each chat's allowance is written to the
database (table chat_pacing), and instances seen in the last few seconds split the global rate between them.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.rectification_pdf import ensure_sheet
from storage import instances, outbox, pacing
from storage.db import Database
from storage.models import OutboxMessage
from storage.pacing import Allowance

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    pass


class RetryAfter(DeliveryError):
    """The API asked us to wait (HTTP 429). `chat_only`: the limit is the chat's own (a group robot's 20 a minute),
    so the other chats of the channel go on."""

    def __init__(self, seconds: float, *, chat_only: bool = False) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds
        self.chat_only = chat_only


class TemporaryFailure(DeliveryError):
    """5xx, timeouts, network errors: worth retrying with backoff."""


class PermanentFailure(DeliveryError):
    """The message can never be delivered (blocked by the user, bad request)."""


class Transport(Protocol):
    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        """Send one outbox message; return the channel's message id. Raise a DeliveryError on failure."""
        ...


@dataclass(frozen=True)
class Limits:
    global_per_second: float = 30.0
    per_chat_interval: float = 1.0
    # Messages a chat may get at once before the per-chat interval applies. Telegram publishes no figure; the
    # emulator models three (tests/emulator/faults.py), and one less leaves room for arrival jitter.
    per_chat_burst: int = 2
    max_attempts: int = 10
    max_backoff: float = 300.0
    concurrency: int = 8
    batch: int = 500


SAFETY = 0.95
LEASE = timedelta(seconds=120)  # longer than any round: a claim outlives its instance by at most this
HEARTBEAT_EVERY = 2.0
LIVE_WITHIN = timedelta(seconds=10)


def default_instance_name() -> str:
    """Stable across restarts on one host, so a restarted instance takes back at once what it had claimed."""
    return socket.gethostname() or "shixiao"


class _Pacer:
    """A token bucket: at most `per_second` sends a second, with bursts of at most `burst`.

    Each waiter looks again when it wakes: slots handed out in advance would all fall due together after the event
    loop stalled (a long commit, a garbage collection) and go out as one burst over Telegram's one-second window.
    The small burst lets a send that woke late be made up for, so lateness does not add up to a lower rate."""

    def __init__(self, per_second: float, burst: int = 1) -> None:
        self.rate = per_second
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.paused_until = 0.0

    @property
    def interval(self) -> float:
        return 1.0 / self.rate if self.rate > 0 else 0.0

    async def wait(self) -> None:
        if self.rate <= 0:
            return
        while True:
            now = time.monotonic()
            if now < self.paused_until:
                self.tokens, self.stamp = 0.0, self.paused_until
                await asyncio.sleep(self.paused_until - now)
                continue
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self.tokens) / self.rate)


def pacer(global_per_second: float, sharing: int = 1) -> _Pacer:
    """Paced at 95% of this instance's share of the limit; the bursts use half of the remaining 5%, so no one-second
    window can exceed the limit."""
    share = global_per_second / sharing
    return _Pacer(share * SAFETY, int(share * (1 - SAFETY) / 2))


class Sender:
    def __init__(
        self,
        db: Database,
        transport: Transport,
        channel: str = "telegram",
        limits: Limits | None = None,
        instance: str | None = None,
        only_chat: int | None = None,
    ):
        self.db = db
        self.only_chat = only_chat  # a terminal session: deliver to its own user only
        self.transport = transport
        self.channel = channel
        self.limits = limits or Limits()
        self.instance = instance or default_instance_name()
        # A 5% margin: starts are paced, but arrivals jitter, and one 429 pauses every chat for a second or more.
        self._pacer = pacer(self.limits.global_per_second)
        self.sharing = 1  # live instances splitting the global rate
        self._next_beat = 0.0
        # The same 5% margin per chat: sends one interval apart arrive jittered, and a 429 pauses everyone.
        self._chat_allowance = Allowance(self.limits.per_chat_interval / SAFETY, self.limits.per_chat_burst)
        self._chat_full_at: dict[int, float] = {}  # monotonic time each chat's allowance is full again
        self._wake = asyncio.Event()
        self._stopped = False
        self.delivered = 0
        self._sent: list[tuple[int, int | None, int]] = []
        self._flushing = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        async with self.db.transaction() as session:
            released = await outbox.release_claims(session, self.instance)
        if released:
            log.info("took back %s messages this instance had claimed before a restart", released)
        try:
            await self._loop()
        finally:
            await self._leave()

    async def _leave(self) -> None:
        try:
            async with self.db.transaction() as session:
                await outbox.release_claims(session, self.instance)
                await instances.leave(session, self.instance)
        except Exception as error:  # shutting down: the claims expire by themselves
            log.warning("could not release outbox claims on stop: %s", type(error).__name__)

    async def _loop(self) -> None:
        while not self._stopped:
            try:
                attempted, wait_hint = await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox round failed; retrying shortly")
                attempted, wait_hint = 0, 1.0
            if attempted == 0 and not self._stopped:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=min(wait_hint, 1.0))
                except TimeoutError:
                    pass

    async def drain(self, within: float = 30.0) -> bool:
        """Deliver until nothing deliverable is pending (for the terminal and tests). False on timeout."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            attempted, wait_hint = await self.round()
            if attempted == 0:
                if wait_hint == float("inf"):
                    return True
                await asyncio.sleep(min(wait_hint, max(deadline - time.monotonic(), 0)))
        return False

    async def round(self) -> tuple[int, float]:
        """Deliver what is ready now. Returns (messages attempted, seconds until more may be ready)."""
        now_mono, now_wall = time.monotonic(), datetime.now(UTC)
        async with self.db.transaction() as session:
            await self._heartbeat(session, now_mono, now_wall)
            heads = await outbox.pending_heads(
                session, self.channel, self.limits.batch, self.instance, now_wall, self.only_chat
            )
            if self._shared_pacing:
                await self._load_allowances(session, {row.chat_id for row in heads}, now_mono, now_wall)
            ready, wait_hint = self._ready(heads, now_mono, now_wall)
            # About a second of sends per round: a reply committed meanwhile waits for the next round, not for
            # a whole backlog (heads come replies first, so it goes out next).
            ready = ready[: self._round_size()]
            claimed = await outbox.claim(session, [row.id for row in ready], self.instance, now_wall, now_wall + LEASE)
        ready = [row for row in ready if row.id in claimed]
        if not ready:
            if heads and wait_hint == float("inf"):
                wait_hint = 0.1  # another instance claimed these first: look again soon, for other chats
            return 0, wait_hint
        gate = asyncio.Semaphore(self.limits.concurrency)

        async def one(row: OutboxMessage) -> None:
            async with gate:
                await self._pacer.wait()
                await self._deliver(row)

        try:
            await asyncio.gather(*(one(row) for row in ready))
        finally:
            await self._flush_sent()
        return len(ready), 0.0

    def _round_size(self) -> int:
        return max(self.limits.concurrency, math.ceil(self.limits.global_per_second / self.sharing))

    def _ready(
        self,
        heads: list[OutboxMessage],
        now_mono: float,
        now_wall: datetime,
    ) -> tuple[list[OutboxMessage], float]:
        ready: list[OutboxMessage] = []
        wait_hint = float("inf")
        for row in heads:
            if not outbox.claimable(row, self.instance, now_wall):
                wait_hint = min(wait_hint, 1.0)  # another instance is on it
                continue
            keep = 0 if row.priority == outbox.REPLY else 1  # a notice leaves the chat's last token for a reply
            chat_wait = self._chat_allowance.wait(self._chat_full_at.get(row.chat_id, 0.0), now_mono, keep)
            retry_wait = (row.next_attempt_at - now_wall).total_seconds() if row.next_attempt_at else 0.0
            wait = max(chat_wait, retry_wait)
            if wait > 0:
                wait_hint = min(wait_hint, wait)
            else:
                ready.append(row)
        return ready, wait_hint

    @property
    def _shared_pacing(self) -> bool:
        """Alone, this instance's own pacing suffices; shared (PostgreSQL, or another process on this SQLite file)
        each chat's allowance must be where the others see it."""
        return self.limits.per_chat_interval > 0 and (self.sharing > 1 or not self.db.is_sqlite)

    async def _load_allowances(
        self, session: AsyncSession, chat_ids: set[int], now_mono: float, now_wall: datetime
    ) -> None:
        for chat_id, full_at in (await pacing.chat_allowances(session, self.channel, chat_ids)).items():
            shared = now_mono + (full_at - now_wall).total_seconds()
            self._chat_full_at[chat_id] = max(self._chat_full_at.get(chat_id, 0.0), shared)

    async def _heartbeat(self, session: AsyncSession, now_mono: float, now_wall: datetime) -> None:
        if now_mono < self._next_beat:
            return
        self._next_beat = now_mono + HEARTBEAT_EVERY
        await instances.beat(session, self.instance, now_wall)
        sharing = max(1, await instances.live_count(session, now_wall, LIVE_WITHIN))
        if sharing != self.sharing:
            log.info(
                "%s instances share delivery: this one sends at most %.1f messages/s",
                sharing,
                self.limits.global_per_second / sharing,
            )
            self.sharing = sharing
            self._pacer = pacer(self.limits.global_per_second, sharing)

    async def _flush_sent(self) -> None:
        """Record deliveries at once, each commit taking whatever was delivered meanwhile (a group commit).

        A crash between a send and its record re-sends that message on restart, so the record must follow the
        send as closely as possible; grouping keeps SQLite's single writer from becoming the limit."""
        if self._flushing:
            return  # the running flush picks these up before it returns
        self._flushing = True
        try:
            while self._sent:
                batch, self._sent = self._sent, []
                now, now_mono = datetime.now(UTC), time.monotonic()
                try:
                    async with self.db.transaction() as session:
                        await outbox.mark_sent_many(session, [(i, external) for i, external, _ in batch], now)
                        if self._shared_pacing:
                            await pacing.record_chat_allowances(
                                session,
                                self.channel,
                                {
                                    chat: now + timedelta(seconds=self._chat_full_at.get(chat, now_mono) - now_mono)
                                    for _, _, chat in batch
                                },
                            )
                except BaseException:
                    self._sent[:0] = batch  # not recorded: keep them for the next flush
                    raise
        finally:
            self._flushing = False

    async def _deliver(self, row: OutboxMessage) -> None:
        self._chat_full_at[row.chat_id] = self._chat_allowance.use(
            self._chat_full_at.get(row.chat_id, 0.0), time.monotonic()
        )
        try:
            if row.kind == "document" and "sheet" in row.payload:
                # A 整改告知单 is rendered here, off the event loop and outside any transaction.
                await asyncio.to_thread(ensure_sheet, row.payload)
            external_id = await self.transport.deliver(row.chat_id, row.kind, row.payload)
        except RetryAfter as error:
            log.warning("429 for outbox %s: waiting %ss", row.id, error.seconds)
            # Honour it for this chat and pause everyone: a flood limit is usually global.
            until = time.monotonic() + error.seconds
            self._chat_full_at[row.chat_id] = self._chat_allowance.full_at_after_pause(until)
            if not error.chat_only:
                self._pacer.paused_until = max(self._pacer.paused_until, until)
            await self._retry(row, error.seconds, str(error))
        except TemporaryFailure as error:
            backoff = min(2.0 ** max(row.attempts, 0), self.limits.max_backoff)
            log.warning("temporary failure for outbox %s (attempt %s): %s", row.id, row.attempts + 1, error)
            await self._retry(row, backoff, str(error))
        except PermanentFailure as error:
            log.error("outbox %s cannot be delivered: %s", row.id, error)
            async with self.db.transaction() as session:
                await outbox.mark_failed(session, row.id, str(error))
                await outbox.fail_over(session, row.payload, datetime.now(UTC))
        except Exception as error:  # a bug or an unexpected answer: retried with backoff, given up eventually
            log.exception("unexpected error delivering outbox %s", row.id)
            backoff = min(2.0 ** max(row.attempts, 0), self.limits.max_backoff)
            await self._retry(row, backoff, f"{type(error).__name__}: {error}")
        else:
            self._sent.append((row.id, external_id, row.chat_id))
            self.delivered += 1
            await self._flush_sent()

    async def _retry(self, row: OutboxMessage, seconds: float, error: str) -> None:
        async with self.db.transaction() as session:
            if row.attempts + 1 >= self.limits.max_attempts:
                await outbox.mark_failed(session, row.id, f"gave up after {row.attempts + 1} attempts: {error}")
                await outbox.fail_over(session, row.payload, datetime.now(UTC))
                return
            await outbox.mark_retry(session, row.id, datetime.now(UTC) + timedelta(seconds=seconds), error)
