"""`python -m bot` and the `shixiao` command."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    # Start-up builds some 300,000 objects that live as long as the process; a collection in the middle of it
    # finds nothing to free and only walks them (several per start, 0.2-0.35 s on a small VM). `shixiao run` collects
    # once when the bot is up (bot/heap.settle_heap, which switches the collector back on); other commands
    # switch it back on as soon as the CLI is imported.
    gc.disable()
    try:
        from bot.cli import main as cli
    finally:
        if sys.argv[1:2] != ["run"]:
            gc.enable()
    cli()


if __name__ == "__main__":
    main()
