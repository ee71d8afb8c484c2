"""Output helpers. Every line aimo prints goes through `redact` first, then the output sanitiser (`ui.sanitize`).

On a terminal, tables are drawn with Rich (imported only then) from `Text` objects, so data is never read as Rich
markup; piped output is plain, tab-free aligned text that scripts can read, and `--format json|yaml|csv` (ui/formats.py) is
there for machines (lossless: JSON escapes what a terminal would act on). No string from a site, a provider or another plugin
reaches the terminal with its control characters or escape sequences active (docs/security.md).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable, Iterator, Sequence, TextIO

from ..redact import redact
from .sanitize import json_safe, plain


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Output:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self.quiet = quiet

    @property
    def stdout(self) -> TextIO:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self._stderr or sys.stderr

    @property
    def rich_ok(self) -> bool:
        return _isatty(self.stdout) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    def line(self, text: str = "") -> None:
        self.stdout.write(_safe(text) + "\n")

    def info(self, text: str) -> None:
        """Progress and notes: stderr, so stdout stays clean for pipes."""
        if not self.quiet:
            self.stderr.write(_safe(text) + "\n")

    def warn(self, text: str) -> None:
        self.stderr.write("Warning: " + _safe(text) + "\n")

    def error(self, message: str, hint: str | None = None) -> None:
        self.stderr.write("Error: " + _safe(message) + "\n")
        if hint:
            self.stderr.write("Hint: " + _safe(hint) + "\n")

    def binary(self, write, *, what: str) -> None:
        """Let `write(file)` put binary data on stdout, never onto a terminal (it would garble it)."""
        from ..errors import UsageError

        if _isatty(self.stdout):
            raise UsageError(f"refusing to write {what} to a terminal", "Redirect it: … -o - > FILE, or pipe it on.")
        import io

        buf = io.BytesIO()
        write(buf)
        self.stdout.flush()
        target = getattr(self.stdout, "buffer", None)
        if target is None:  # a text-only stream (tests): nothing binary can go there
            raise UsageError(f"standard output cannot take {what}", "Give a file name with -o FILE.")
        target.write(buf.getvalue())
        target.flush()

    def json(self, data: Any) -> None:
        for chunk in json_chunks(data, end="\n"):
            self.stdout.write(chunk)

    def yaml(self, data: Any) -> None:
        from .formats import dump_yaml

        self.stdout.write(redact(dump_yaml(data)))

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
        """Human output (machine formats: ui/formats.py): a Rich table on a terminal, aligned plain text otherwise."""
        rows = [[plain(redact("" if c is None else str(c))) for c in row] for row in rows]
        title = plain(redact(title)) if title else title
        if self.rich_ok:
            from rich.console import Console
            from rich.table import Table
            from rich.text import Text

            console = Console(file=self.stdout)
            keep, widths = fit_columns(columns, rows, console.width)
            table = Table(title=Text(title) if title else None, header_style="bold", show_lines=False)
            for i in keep:
                if i == 0:  # the id column: never cut, never wrapped
                    table.add_column(Text(columns[i]), no_wrap=True, min_width=widths[0])
                else:
                    table.add_column(Text(columns[i]), overflow="fold")
            for row in rows:
                table.add_row(*[Text(row[i]) for i in keep])
            console.print(table)
            hidden = [columns[i] for i in range(len(columns)) if i not in keep]
            if hidden:
                self.info(f"(not shown at this width: {', '.join(hidden)}; widen the terminal or use --format csv or --json)")
            return
        widths = [len(c) for c in columns]
        for row in rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        if title:
            self.line(title)
        self.line("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
        for row in rows:
            self.line("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # no indent: the C encoder


def dump_json(data: Any) -> str:
    """The text of a JSON document (docs/json.md): the envelope's fields one per line, and each item of a list in it
    (a site, a key, a check) on a line of its own, written compactly.

    Readable and line-oriented (grep finds one item per line), and fast: every piece is written by the json module's
    C encoder (it does not indent), where a fully indented 1,000-site fleet document took the pure-Python encoder
    ~10x as long."""
    encode = _ENCODER.encode
    if not isinstance(data, dict) or not data:
        return encode(data)
    fields = []
    for key, value in data.items():
        name = encode({key: None})[1:-5]  # the key as json writes it (a non-string key too), with its ": "
        if isinstance(value, (list, tuple)) and value:
            fields.append(f"  {name}[\n" + ",\n".join("    " + encode(item) for item in value) + "\n  ]")
        else:
            fields.append(f"  {name}{encode(value)}")
    return "{\n" + ",\n".join(fields) + "\n}"


class Prerendered:
    """A list item's JSON text (`text`), already redacted and made inert (json_safe) by the fleet process that ran
    its site (services/sync_render.prerender): a document's `json_text` writes it as it is. (A holder, not a str
    subclass: a fleet's megabyte of items is not copied into new strings to be marked.)"""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def item_json(item: Any) -> str:
    """A list item's text as dump_json writes it."""
    return _ENCODER.encode(item)


def json_text(data: Any, end: str = "") -> str:
    """The document as Output.json prints it (then `end`): dump_json's text, redacted and inert. Items given as
    Prerendered are that already: the rest is redacted and made inert around them, the layout is dump_json's."""
    return "".join(_json_parts(data, end))


_CHUNK = 1 << 16  # what Output.json writes at a time: below malloc's threshold for fresh memory (128 KiB)


def json_chunks(data: Any, end: str = "") -> Iterator[str]:
    """json_text's text in pieces of about _CHUNK characters. A fleet's document is a megabyte: written whole, it
    and its encoded bytes would each be fresh memory (~2-5 ms of page faults here); in pieces, the same memory
    serves every piece."""
    held: list[str] = []
    size = 0
    for part in _json_parts(data, end):
        held.append(part)
        size += len(part)
        if size >= _CHUNK:
            yield "".join(held)
            held, size = [], 0
    if held:
        yield "".join(held)


def _json_parts(data: Any, end: str) -> list[str]:
    if not (isinstance(data, dict) and any(isinstance(v, list) and v and isinstance(v[0], Prerendered) for v in data.values())):
        return [json_safe(redact(dump_json(data))) + end]
    encode = _ENCODER.encode
    parts = ["{\n"]
    for key, value in data.items():
        if len(parts) > 1:
            parts.append(",\n")
        name = encode({key: None})[1:-5]
        if isinstance(value, list) and value and isinstance(value[0], Prerendered):
            parts.append(json_safe(redact(f"  {name}[")))
            parts.append("\n    ")
            for i, item in enumerate(value):
                if i:
                    parts.append(",\n    ")
                parts.append(item.text if isinstance(item, Prerendered) else json_safe(redact(encode(item))))
            parts.append("\n  ]")
        elif isinstance(value, (list, tuple)) and value:
            parts.append(json_safe(redact(f"  {name}[\n" + ",\n".join("    " + encode(item) for item in value) + "\n  ]")))
        else:
            parts.append(json_safe(redact(f"  {name}{encode(value)}")))
    parts.append("\n}" + end)
    return parts


def fit_columns(columns: Sequence[str], rows: list[list[str]], width: int) -> tuple[list[int], list[int]]:
    """Which columns a boxed table of `width` cells can show, and each column's natural width.

    The first column (the id) always stays and is never cut; the others may wrap down to their header's width (at
    least 10 cells), and when even that does not fit, columns are dropped from the right (lowest priority first).
    """
    from rich.cells import cell_len

    natural = [cell_len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            natural[i] = max(natural[i], cell_len(cell))

    def least(i: int) -> int:
        return natural[0] if i == 0 else min(natural[i], max(cell_len(columns[i]), 10))

    keep = list(range(len(columns)))
    while len(keep) > 1 and 3 * len(keep) + 1 + sum(least(i) for i in keep) > width:
        keep.pop()
    return keep, natural


def _safe(text: str) -> str:
    """Redacted, then inert: line breaks kept, every other terminal-active character escaped."""
    return plain(redact(text), keep_newlines=True)
