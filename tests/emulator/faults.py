"""Fault injection and optional flood-limit enforcement."""

from __future__ import annotations

import math
import random as _random
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, retry_after

# "timeout": hold the request, then drop the connection without answering.
# "reset": drop the connection at once. "garbage": an nginx-style HTML 502 page (not JSON).
# "redirect": 302 back to the same URL (a misconfigured proxy); a client that follows loops until it gives up.
FAULT_KINDS = ("429", "5xx", "timeout", "reset", "garbage", "redirect", "400", "403", "409")
NETWORK_KINDS = ("timeout", "reset", "garbage")


@dataclass
class Fault:
    kind: str
    method: str | None = None  # None or "*" matches every method
    count: int | None = 1  # how many calls to fail; None = forever
    skip: int = 0  # let this many matching calls through first
    retry_after: int = 1
    hold: float = 1.0
    status: int | None = None
    description: str | None = None
    chat_id: int | str | None = None
    apply: bool = False  # run the side effect, then fail: "the request worked but the answer was lost"
    seen: int = 0
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.method not in (None, "*") and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)

    def error(self) -> ApiError:
        """The Telegram error body for status-code kinds."""
        if self.kind == "429":
            return retry_after(self.retry_after)
        if self.kind == "5xx":
            status = self.status or 502
            return ApiError(status, self.description or _REASONS.get(status, "Internal Server Error"))
        if self.kind == "400":
            return ApiError(400, self.description or "Bad Request: injected fault")
        if self.kind == "403":
            return ApiError(403, self.description or "Forbidden: bot was blocked by the user")
        if self.kind == "409":
            return ApiError(
                409,
                self.description
                or "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            )
        raise ValueError(f"fault kind {self.kind!r} has no JSON error")


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _normalize_kind(kind: str | int) -> tuple[str, int | None]:
    kind = str(kind).lower()
    if kind.isdigit() and kind.startswith("5"):
        return "5xx", int(kind)
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    return kind, None


@dataclass
class _RandomMode:
    rate: float
    kinds: tuple[str, ...]
    rng: _random.Random
    methods: frozenset[str] | None
    exclude: frozenset[str]
    retry_after: int
    hold: float


class FaultInjector:
    """`emu.faults`: scripted faults (`add`) and a seeded random mode (`random`)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._random: _RandomMode | None = None
        self.triggered: list[tuple[str, str]] = []  # (method, kind) of every injected fault

    def add(
        self,
        method: str | None = None,
        kind: str | int = "5xx",
        *,
        count: int | None = 1,
        skip: int = 0,
        retry_after: int = 1,
        hold: float = 1.0,
        status: int | None = None,
        description: str | None = None,
        chat_id: int | str | None = None,
        apply: bool = False,
    ) -> Fault:
        """Fail the next `count` calls of `method` (after `skip` successful ones) with `kind`."""
        norm, default_status = _normalize_kind(kind)
        fault = Fault(
            kind=norm,
            method=method,
            count=count,
            skip=skip,
            retry_after=retry_after,
            hold=hold,
            status=status or default_status,
            description=description,
            chat_id=chat_id,
            apply=apply,
        )
        self._faults.append(fault)
        return fault

    def random(
        self,
        rate: float = 0.1,
        kinds: Iterable[str | int] = ("5xx", "429", "timeout"),
        *,
        seed: int | None = None,
        methods: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        retry_after: int = 1,
        hold: float = 0.5,
    ) -> None:
        """Fail each matching call with probability `rate`, kind chosen uniformly from `kinds`."""
        self._random = _RandomMode(
            rate=rate,
            kinds=tuple(_normalize_kind(k)[0] for k in kinds),
            rng=_random.Random(seed),
            methods=frozenset(m.lower() for m in methods) if methods is not None else None,
            exclude=frozenset(m.lower() for m in exclude),
            retry_after=retry_after,
            hold=hold,
        )

    def clear(self) -> None:
        self._faults.clear()
        self._random = None

    @property
    def pending(self) -> list[Fault]:
        return [f for f in self._faults if not f.exhausted]

    def pick(self, method: str, params: dict[str, Any]) -> Fault | None:
        """Return (and account for) the fault to apply to this call, if any."""
        for fault in self._faults:
            if fault.exhausted or not fault.matches(method, params):
                continue
            fault.seen += 1
            if fault.seen <= fault.skip:
                continue
            fault.hits += 1
            self.triggered.append((method, fault.kind))
            return fault
        mode = self._random
        if mode is None or method.lower() in mode.exclude:
            return None
        if mode.methods is not None and method.lower() not in mode.methods:
            return None
        if mode.rng.random() >= mode.rate:
            return None
        kind = mode.rng.choice(mode.kinds)
        self.triggered.append((method, kind))
        return Fault(kind=kind, method=method, retry_after=mode.retry_after, hold=mode.hold, hits=1)


# Telegram asks for about one message a second per chat but tolerates short bursts, and publishes no burst size:
# the emulator lets a chat take this many messages at once, then one per 1/per_chat_per_sec seconds.
TELEGRAM_CHAT_BURST = 3


class RateLimiter:
    """Telegram's flood control: a sliding one-second window overall, and per chat a token bucket (a burst of
    `per_chat_burst` messages at once, refilled at `per_chat_per_sec`), so a bot pacing every message to one a
    second and a bot sending three at once both pass, while a fourth at once, or a steady two a second, get 429."""

    def __init__(self, global_per_sec: int, per_chat_per_sec: int, per_chat_burst: int = TELEGRAM_CHAT_BURST) -> None:
        self.global_per_sec = global_per_sec
        self.per_chat_per_sec = per_chat_per_sec
        self.per_chat_burst = max(1, per_chat_burst)
        self._global: deque[float] = deque()
        self._per_chat: dict[str, tuple[float, float]] = {}  # chat -> (tokens, when counted)

    def check(self, chat_id: Any) -> int | None:
        """Record a send; return the retry_after seconds instead if it would exceed a limit."""
        now = time.monotonic()
        while self._global and now - self._global[0] >= 1.0:
            self._global.popleft()
        if len(self._global) >= self.global_per_sec:
            return max(1, math.ceil(self._global[0] + 1.0 - now))
        tokens, stamp = self._per_chat.get(str(chat_id), (float(self.per_chat_burst), now))
        tokens = min(float(self.per_chat_burst), tokens + (now - stamp) * self.per_chat_per_sec)
        if tokens < 1.0:
            self._per_chat[str(chat_id)] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.per_chat_per_sec))
        self._global.append(now)
        self._per_chat[str(chat_id)] = (tokens - 1.0, now)
        return None
