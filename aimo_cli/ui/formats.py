"""Machine output: the one `--format table|json|yaml|csv` / `--json` option pair and the one renderer every command uses.

The envelope (docs/json.md): every JSON or YAML document aimo prints is an object whose first key is
`schema_version` (SCHEMA_VERSION); the rest is the command's payload, documented per command in `ui/shapes.py` (from
which docs/json.md is generated and against which tests/test_json_shapes.py checks every command). A command that
fails prints, in the same format, `{"schema_version": N, "error": {"message", "hint", "exit_code", "kind"}}` on
stdout (the human `Error:`/`Hint:` lines still go to stderr) and exits with its usual code. A payload never has a
top-level `error` key, so `error` in a document always means the command failed.

CSV is one row per item (a key, a site, a check, a connector…), a header of snake_case names, raw values: booleans
`true`/`false`, times in ISO 8601, fingerprints and key tails — never a display glyph (`••••`, `*`, `→`) or markup.
YAML (PyYAML, imported only when asked) carries exactly the JSON document.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence

SCHEMA_VERSION = 1
FORMATS = ("table", "json", "yaml", "csv")
MACHINE = ("json", "yaml")  # the formats that carry a whole document (and errors)
FORMAT_HELP = "Output format: table, json, yaml or csv (docs/json.md)."
JSON_HELP = "Print JSON (the same as --format json)."


def resolve(json_flag: bool, fmt: Optional[str]) -> str:
    """The format asked for: "auto" (a table on a terminal, aligned text in a pipe) unless --format or --json says.

    --json together with another --format is a usage error (exit 2), never silently one of the two."""
    from ..errors import UsageError

    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}", "Use --format table, json, yaml or csv (--json is --format json).")
        if json_flag and fmt != "json":
            raise UsageError(f"--json and --format {fmt} ask for two different formats", "Give one: --json (same as --format json) or --format " + fmt + ".")
    if json_flag:
        return "json"
    return "auto" if fmt in (None, "table") else fmt


def requested(args: Sequence[str]) -> Optional[str]:
    """The machine format a command line asks for ("json" / "yaml"), read from argv before parsing, so an error that
    happens before (or while) the command parses its options is still a document. None for anything else,
    including a conflict (that is a usage error, said on stderr)."""
    end = list(args).index("--") if "--" in args else len(args)
    fmts: set[str] = set()
    args = list(args[:end])
    for i, a in enumerate(args):
        if a == "--json":
            fmts.add("json")
        elif a == "--format" and i + 1 < len(args):
            fmts.add(args[i + 1].strip().lower())
        elif a.startswith("--format="):
            fmts.add(a.split("=", 1)[1].strip().lower())
    if len(fmts) == 1 and next(iter(fmts)) in MACHINE:
        return next(iter(fmts))
    return None


def document(data: dict) -> dict:
    """The envelope: schema_version first, then the payload."""
    return {"schema_version": SCHEMA_VERSION, **data}


def error_document(message: str, hint: Optional[str], exit_code: int, kind: str) -> dict:
    return document({"error": {"message": message, "hint": hint or None, "exit_code": int(exit_code), "kind": kind}})


def dump_yaml(doc: Any) -> str:
    """YAML text of a JSON-able document: readable Unicode unless a character would act on a terminal, then every
    non-ASCII character escaped (still the same value)."""
    import yaml  # PyYAML, only when YAML is asked for (start-up time: tests/test_startup_imports.py)

    from .sanitize import is_inert

    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 16)
    if not is_inert(text):
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, default_flow_style=False, width=1 << 16)
    return text


def csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ";".join(csv_value(x) for x in v)
    if isinstance(v, dict):
        import json

        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


def write_csv(out, rows: Iterable[dict], columns: Optional[Sequence[str]] = None) -> None:
    """One row per dict; the header is `columns` or the first row's keys (then every later key, in order)."""
    import csv

    from ..redact import redact
    from .sanitize import plain

    rows = list(rows)
    if columns is None:
        seen: dict[str, None] = {}
        for r in rows:
            seen.update(dict.fromkeys(r))
        columns = list(seen)
    writer = csv.writer(out.stdout, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([plain(redact(csv_value(r.get(c)))) for c in columns])


def emit(
    out,
    fmt: str,
    data: dict,
    *,
    table: Optional[Callable[[], None]] = None,
    rows: Optional[Iterable[dict]] = None,
    columns: Optional[Sequence[str]] = None,
) -> None:
    """Print one command's result in `fmt`: the document (json, yaml), its rows (csv: `rows`, else the payload's
    scalar fields as one row) or the human rendering `table()` (auto, table)."""
    if fmt == "json":
        out.json(document(data))
    elif fmt == "yaml":
        out.yaml(document(data))
    elif fmt == "csv":
        write_csv(out, rows if rows is not None else [{k: v for k, v in data.items() if not isinstance(v, (list, dict))}], columns)
    elif table is not None:
        table()


def key_fields(display: Optional[str], prefix: str = "") -> dict:
    """A credential's raw identification from its display form: `{prefix}last4` (the clear tail of a masked key) and
    `{prefix}url` (an Ollama server URL, user info already removed); the other one is null."""
    from ..core.secrets import BULLET

    if not display:
        return {f"{prefix}last4": None, f"{prefix}url": None}
    if display.startswith(BULLET):
        return {f"{prefix}last4": display.replace(BULLET, "") or None, f"{prefix}url": None}
    return {f"{prefix}last4": None, f"{prefix}url": display}


def iso_time(ts: Optional[float]) -> Optional[str]:
    """A Unix time as ISO 8601 UTC (`2026-11-29T10:41:00Z`), None stays None."""
    if ts is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(float(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
