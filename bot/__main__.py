"""`python -m bot` and the `shixiao` command."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["run"]:
        # Before anything is imported: the bot's start-up runs with the collector paused (bot/collector.py).
        from bot import collector

        collector.pause_for_start_up()
    from bot.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
