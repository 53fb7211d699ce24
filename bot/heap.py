"""Garbage-collector settings for a long-running bot process."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Take what start-up built (knowledge base, Telegram types, SQLAlchemy mappings: some 300,000 objects, all
    kept for the life of the process) out of the garbage collector's sight.

    Otherwise every full collection walks all of them: 0.3–0.5 s on a small VM, several times a minute when busy
    (the per-update work creates many short-lived objects), stalling the event loop meanwhile. Call once, when
    start-up is done; objects created later are collected as usual. bench/inbound_throughput.py measures it."""
    gc.freeze()
