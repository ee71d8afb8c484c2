"""Entry point. Shell completion is answered here, before Typer is imported (see completion.py)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if "_AIMO_COMPLETE" in os.environ:  # a TAB: answer from the generated tree, nothing heavy (DESIGN §8)
        from .completion import main as complete

        sys.exit(complete())

    from .app import run

    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.exit(code)


if __name__ == "__main__":
    main()
