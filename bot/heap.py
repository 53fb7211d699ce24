"""Garbage-collector settings for a long-running bot process."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def settle_heap() -> None:
    """Take what start-up built (knowledge base, Telegram types, SQLAlchemy mappings: some 300,000 objects, all
    kept for the life of the process) out of the garbage collector's sight.

    Otherwise every full collection walks all of them: 0.3–0.5 s on a small VM, several times a minute when busy
    (the per-update work creates many short-lived objects), stalling the event loop meanwhile. Call once, when
    start-up is done; objects created later are collected as usual. bench/inbound_throughput.py measures it.

    Start-up's garbage is collected first (frozen, it would stay for good), and the memory it held is given back
    to the system: the first start seeds the database, and what that built is garbage by now. The collector is
    switched on again if the launch (bot/__main__.py) had paused it for the start-up."""
    gc.collect()
    gc.freeze()
    gc.enable()
    _trim_malloc()


def _trim_malloc() -> None:
    """glibc keeps freed memory for reuse; malloc_trim returns what it can to the system (Linux only)."""
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)
