"""`python -m bot` and the `shixiao` command."""

from __future__ import annotations


def main() -> None:
    from bot.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
