"""Long polling for both Telegram runtimes: each getUpdates batch is handled in one transaction and confirmed only
after the commit.

Both libraries' own pollers hand updates over one at a time (aiogram's Dispatcher) or confirm a batch as soon as it
is fetched (PTB's Updater, whose next getUpdates confirms updates still waiting to be handled), so neither is used
for long polling. Here the batch Telegram returned (up to 100 updates) goes to the core at once
(Core.handle_batch, a group commit, which halves the cost per update: bench/README.md), and only then does the
offset move past it, which the next getUpdates confirms. A crash therefore means redelivery, and the recorded
update ids make that harmless. Webhook mode (aiogram only) keeps the Dispatcher: there, each request is one
update. What differs between the libraries (how to fetch, parse, answer a press, read flood control) is an
`UpdateSource`: bot/aiogram_polling.py and bot/ptb_polling.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from handlers.core import Core
from handlers.events import Inbound
from scheduler.sender import Sender

log = logging.getLogger(__name__)

# After a failed getUpdates: 1 s, growing 1.3x to at most 5 s, ±10 % (aiogram's polling default).
BACKOFF_MIN, BACKOFF_MAX, BACKOFF_FACTOR, BACKOFF_JITTER = 1.0, 5.0, 1.3, 0.1
CONFIRM_TIMEOUT = 5.0


@dataclass(frozen=True)
class Fetched:
    """One update as the loop needs it."""

    update_id: int
    inbound: Inbound | None  # None: nothing for the core (groups and channels: the bot works in private chats)
    # A button press: stops its spinner, with a toast when the core gave one (not a message).
    answer_press: Callable[[str | None], Awaitable[object]] | None = None


class UpdateSource(Protocol):
    """getUpdates through one Telegram library."""

    # Errors of Telegram or the network: logged without a traceback. Fatal ones (a revoked token) stop the bot.
    expected_errors: tuple[type[Exception], ...]
    fatal_errors: tuple[type[Exception], ...]

    async def fetch(self, offset: int | None) -> Sequence[Fetched]:
        """One long poll from `offset` on (which confirms everything before it); raises what the call raised."""
        ...

    def retry_after(self, error: Exception) -> float | None:
        """Seconds flood control asks to wait, when `error` is Telegram's 429."""
        ...

    async def confirm(self, offset: int) -> None:
        """Confirm everything before `offset` without waiting for new updates (getUpdates, timeout 0)."""
        ...


class Backoff:
    def __init__(self) -> None:
        self.attempt = 0

    def next_delay(self) -> float:
        delay = min(BACKOFF_MIN * BACKOFF_FACTOR**self.attempt, BACKOFF_MAX)
        self.attempt += 1
        return delay * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)

    def reset(self) -> None:
        self.attempt = 0


class BatchPolling:
    def __init__(self, source: UpdateSource, core: Core, sender: Sender) -> None:
        self.source = source
        self.core = core
        self.sender = sender
        self.offset: int | None = None  # the first update id not yet handled
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop after the batch in hand (a long poll under way is abandoned: nothing it fetched was confirmed)."""
        self._stopping.set()

    async def run(self, ready: Callable[[], None]) -> None:
        backoff = Backoff()
        ready()
        while not self._stopping.is_set():
            try:
                batch = await self._fetch()
            except self.source.fatal_errors:
                raise
            except Exception as error:
                if (seconds := self.source.retry_after(error)) is not None:
                    log.warning("getUpdates: flood control, waiting %s s", seconds)
                    await self._wait(seconds)
                else:
                    delay = backoff.next_delay()
                    log.warning(
                        "getUpdates failed (%s: %s); polling again in %.1f s (attempt %d)",
                        type(error).__name__,
                        error,
                        delay,
                        backoff.attempt,
                        exc_info=not isinstance(error, self.source.expected_errors),
                    )
                    await self._wait(delay)
                continue
            if batch is None:  # stopping
                break
            if batch:
                try:
                    await self._handle(batch)
                except Exception:
                    # Not confirmed: the next getUpdates returns the same updates, once the database is back.
                    delay = backoff.next_delay()
                    log.exception(
                        "could not handle %d updates; they stay unconfirmed; again in %.1f s", len(batch), delay
                    )
                    await self._wait(delay)
                    continue
                self.offset = batch[-1].update_id + 1
            backoff.reset()
        await self._confirm_handled()

    async def _fetch(self) -> Sequence[Fetched] | None:
        """One long poll, cut short by stop() (None then)."""
        fetch = asyncio.ensure_future(self.source.fetch(self.offset))
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return None
        return fetch.result()

    async def _handle(self, batch: Sequence[Fetched]) -> None:
        # The batch is handled, then its presses are answered side by side (with the core's toast, e.g. for a
        # double tap) while the sender delivers the replies. Until it commits, none of it is confirmed; a batch
        # that fails still has its spinners stopped.
        inbounds = [item.inbound for item in batch if item.inbound is not None]
        toasts: dict[int, str | None] = {}
        try:
            if inbounds:
                outcomes = await self.core.handle_batch(inbounds)
                self.sender.wake()
                toasts = {id(inbound): outcome.toast for inbound, outcome in zip(inbounds, outcomes, strict=True)}
        finally:
            await asyncio.gather(
                *(
                    self._answer(item.answer_press, toasts.get(id(item.inbound)))
                    for item in batch
                    if item.answer_press is not None
                )
            )

    async def _answer(self, answer_press: Callable[[str | None], Awaitable[object]], toast: str | None) -> None:
        try:
            await answer_press(toast)
        except self.source.expected_errors as error:
            log.info("could not answer callback query: %s", error)

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _confirm_handled(self) -> None:
        """On a clean stop, tell Telegram what was handled, so that a restart does not fetch it again. Updates this
        call returns stay unconfirmed; a failure only means a harmless redelivery."""
        if self.offset is None:
            return
        expected: tuple[type[Exception], ...] = (*self.source.expected_errors, TimeoutError)
        try:
            await asyncio.wait_for(self.source.confirm(self.offset), CONFIRM_TIMEOUT)
        except expected as error:
            log.info("could not confirm the last handled updates on stop: %s", error)


@contextmanager
def stop_on_signals(stop: Callable[[], None], *, enabled: bool) -> Iterator[None]:
    """SIGINT and SIGTERM stop the bot gracefully (the batch in hand is finished), as aiogram's polling does."""
    signals = (signal.SIGINT, signal.SIGTERM) if enabled else ()
    loop = asyncio.get_running_loop()
    for number in signals:
        loop.add_signal_handler(number, stop)
    try:
        yield
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
