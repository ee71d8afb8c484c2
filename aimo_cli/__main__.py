"""Entry point. Shell completion is answered here, before Typer is imported (see completion.py)."""

from __future__ import annotations

import sys


def main() -> None:
    from .app import run

    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.exit(code)


if __name__ == "__main__":
    main()
