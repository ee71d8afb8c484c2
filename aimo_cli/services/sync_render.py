"""Rendering of sync results for one site or a fleet (tables on a TTY, plain when piped, json/yaml/csv on request)."""

from __future__ import annotations

from ..core.exits import retry_can_help
from ..ui.output import Prerendered
from .fleet import SiteOutcome, fleet_exit_code

_SHOW_ALWAYS = {"stored", "rejected", "unreachable", "restored", "wiped", "pulled", "refused", "conflict", "drift", "dry-run", "cleared"}


def document(outcomes: list[SiteOutcome], overall: int | None = None) -> dict:
    """The JSON payload of a fleet run (docs/json.md `sync`): one entry per site, a failed site as its error.
    `overall`: the fleet's exit code when the caller has it already (`fleet_exit_code`). An outcome whose process
    wrote its item already (`prerender`) gives that text (ui/output.Prerendered)."""
    return {
        "sites": [_item(o) if o.row is None else Prerendered(o.row) for o in outcomes],
        "exit_code": int(fleet_exit_code(outcomes)) if overall is None else overall,
    }


def _item(o: SiteOutcome) -> dict:
    return o.value.as_dict() if o.ok else {"site": o.site, "error": o.error, "hint": o.hint, "exit_code": int(o.code)}


class _Settled:
    """What is left of a site's value once its JSON item is written: its exit status (the fleet's exit code)."""

    __slots__ = ("exit_status",)

    def __init__(self, exit_status) -> None:
        self.exit_status = exit_status


def prerender(outcomes: list[SiteOutcome]) -> list[SiteOutcome]:
    """`--json`: the sites' items of the document, written by the process that ran them (run_fleet's `finish`), so a
    fleet's JSON is encoded, redacted and made inert on every core, and only text comes back from a worker. The same
    text as the whole document gives (ui/output.Output.json): redact() and json_safe() over the share's items at once,
    one line each (an item's compact JSON has no line break, nor has a secret found in it)."""
    from ..redact import redact
    from ..ui.sanitize import json_safe

    encoded: dict = {}
    texts = [_item_text(o, encoded) for o in outcomes]
    rows = redact("\n".join(texts)).split("\n")
    if len(rows) != len(texts):  # cannot be (see above); each on its own then
        rows = [redact(t) for t in texts]
    rows = [row if row.isascii() and "\x7f" not in row else json_safe(row) for row in rows]  # (only those can change)
    done = []
    for o, row in zip(outcomes, rows):
        o.row = row
        if o.ok:
            o.value = _Settled(o.exit_status)
        done.append(o)
    return done


def _item_text(o: SiteOutcome, encoded: dict) -> str:
    """item_json(_item(o)), its `providers` list (the end of a site's item) encoded once per distinct list in
    `encoded`: a fleet's sites mostly report the same providers the same way (the site's own fields come first)."""
    from ..ui.output import item_json

    item = _item(o)
    providers = item.get("providers")
    if not providers or next(reversed(item)) != "providers":
        return item_json(item)
    try:  # (only text values: equal only when written alike; join refuses anything else)
        key = tuple(tuple(p.items()) for p in providers if "".join(p.values()) is not None)
    except (TypeError, AttributeError):
        return item_json(item)
    text = encoded.get(key)
    if text is None:
        text = encoded[key] = item_json(providers)
    head = item_json({**item, "providers": None})
    return head[: -len("null}")] + text + "}"


def csv_rows(doc: dict) -> list[dict]:
    """One CSV row per site and provider (a failed site: one row with its error)."""
    rows = []
    for s in doc["sites"]:
        if "providers" not in s:
            rows.append({"site": s["site"], "provider": None, "status": None, "action": None, "outcome": "error", "reason": s["error"], "source": None, "exit_code": s["exit_code"]})
            continue
        for p in s["providers"]:
            rows.append({"site": s["site"], **p, "exit_code": s["exit_code"]})
    return rows


def render(actx, outcomes: list[SiteOutcome], *, fmt: str = "auto", title: str, extra: dict | None = None) -> int:
    """Show the results in `fmt` (ui/formats.py); return the fleet's exit code (`fleet_exit_code`: the most severe site
    wins). `extra` adds fields to the machine document (e.g. the rotated key)."""
    from ..ui.formats import emit

    out = actx.out
    overall = int(fleet_exit_code(outcomes))
    if fmt != "auto":
        doc = {**(extra or {}), **document(outcomes, overall)}
        emit(out, fmt, doc, rows=csv_rows(doc) if fmt == "csv" else None, columns=CSV_COLUMNS)  # the rows only for csv
        return overall
    _human(out, outcomes, title)
    return overall


CSV_COLUMNS = ["site", "provider", "status", "action", "outcome", "reason", "source", "exit_code"]


def _human(out, outcomes: list[SiteOutcome], title: str) -> None:
    codes = [int(o.code) for o in outcomes]
    for o in outcomes:
        if not o.ok:
            continue
        res = o.value
        rows = [[r.provider, r.status, r.outcome or "-", r.reason] for r in res.results if r.outcome in _SHOW_ALWAYS or r.status not in ("both empty",)]
        via = "aimo bridge" if res.via_bridge else "core settings (no bridge)"
        out.table(["provider", "state", "result", "detail"], rows, title=f"{title}: {res.site} (via {via})")
        if getattr(res, "mode_note", ""):
            out.info(f"Note ({res.site}): {res.mode_note}.")
        if res.competitor:
            out.info(
                f"Warning ({res.site}): {res.competitor} also manages the Connectors (both in managed mode); aimo does not fight it silently."
                f" Take over: aimo connectors takeover {res.site}, or hand over: aimo mode observe {res.site}"
            )
    if len(outcomes) > 1 or any(not o.ok for o in outcomes):
        out.table(
            ["site", "result", "detail"],
            [[o.site, "ok" if c == 0 else f"exit {c}", (o.error or "") if not o.ok else _summary(o.value)] for o, c in zip(outcomes, codes)],
            title=f"{title}: {len(outcomes)} site(s)",
        )
    for o in outcomes:
        if not o.ok and o.hint:
            out.info(f"Hint ({o.site}): {o.hint}")
    # only where running the same command again can succeed: a site that could not be reached, timed out or failed
    # on its side — not after drift (a read found differences), a refusal, or a local settings or usage error
    retry = [o.site for o in outcomes if retry_can_help(o.exit_status)]
    if retry:
        out.info("Retry: " + " ".join(retry))


def _summary(res) -> str:
    counts: dict[str, int] = {}
    for r in res.results:
        if r.outcome and r.outcome != "unchanged":
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
    parts = [f"{n} {k}" for k, n in sorted(counts.items())] + ([f"{res.competitor} also manages the Connectors"] if res.competitor else [])
    return ", ".join(parts) or "nothing to do"
