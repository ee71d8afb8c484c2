"""A per-provider progress bar on a terminal (Rich, imported only then); nothing at all when stderr is not a TTY."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator


@contextlib.contextmanager
def provider_progress(out, total: int, label: str) -> Iterator[Callable[[str], None] | None]:
    """Yield an `advance(provider_id)` callback, or None when there is nothing to draw on."""
    stream = out.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty or out.quiet or total <= 1:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .sanitize import plain

    # markup off: the description carries ids that may come from outside (docs/security.md)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(file=stream), transient=True) as progress:
        task = progress.add_task(plain(label), total=total)

        def advance(provider_id: str) -> None:
            progress.update(task, advance=1, description=plain(f"{label} ({provider_id} done)"))

        yield advance
