"""Button data: short ASCII ids, never labels (Telegram allows 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

STEP = "s"  # an answer to the current step: s<nonce>.<choice>
MENU = "m"  # a menu action: m.<action>
GLOBAL = "g"  # menu / cancel / resume, valid at any time: g.<name>


@dataclass(frozen=True)
class Pressed:
    kind: str
    value: str
    nonce: int | None = None


def step_data(nonce: int, choice: str) -> str:
    return f"{STEP}{nonce}.{choice}"


def menu_data(action: str, argument: str | int | None = None) -> str:
    """m.<action> or m.<action>.<argument> (an id such as an inspection number)."""
    return f"{MENU}.{action}" if argument is None else f"{MENU}.{action}.{argument}"


def global_data(name: str) -> str:
    return f"{GLOBAL}.{name}"


def decode(data: str | None) -> Pressed | None:
    """None for anything we did not make (forged or garbled data)."""
    if not data or len(data.encode()) > 64 or "." not in data:
        return None
    head, _, value = data.partition(".")
    if not value or not value.isascii():
        return None
    if head == MENU:
        return Pressed(MENU, value)
    if head == GLOBAL:
        return Pressed(GLOBAL, value)
    if head.startswith(STEP) and head[1:].isascii() and head[1:].isdigit():
        return Pressed(STEP, value, int(head[1:]))
    return None
