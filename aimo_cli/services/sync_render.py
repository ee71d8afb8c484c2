"""Rendering of sync results for one site or a fleet (tables on a TTY, plain when piped, json/yaml/csv on request)."""

from __future__ import annotations

from itertools import chain
from typing import Any

from ..core.exits import retry_can_help
from ..ui.output import Prerendered, item_json
from .fleet import Settled, SiteOutcome, fleet_exit_code

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


def prerender(outcomes: list[SiteOutcome]) -> list[SiteOutcome]:
    """`--json`: the sites' items of the document, written by the process that ran them (run_fleet's `finish`), so a
    fleet's JSON is encoded, redacted and made inert on every core, and only text comes back from a worker. The same
    text as the whole document gives (ui/output.Output.json): redact() and json_safe() over the share's texts at once,
    one line each (compact JSON has no line break, nor has a secret found in it).

    A site's item is its own fields, then its `providers` list, which a fleet's sites mostly share (the same keys,
    reported the same way): each distinct list is encoded, redacted and made inert once, and each item is its head
    (`..."providers": `), that list's text and `}`. Redacting the pieces apart is redacting the item: a secret could
    only span a piece's edge by holding the list's own `[` or `]` (then every item is redacted whole, as before), and
    json_safe works character by character."""
    from ..redact import held_by_secret, redact
    from ..ui.sanitize import json_safe
    from .sync import PROVIDER_FIELDS, SiteSync, provider_values

    def parts(o: SiteOutcome, status, whole: bool) -> tuple[str, tuple | None]:
        """(the item's text up to its providers list, the list's values) when the list is written apart; else (the
        whole item's text, None). `whole`: not apart (a secret may span an edge)."""
        value = o.value
        if whole or not o.ok or type(value) is not SiteSync or not value.results:
            return item_json(_item(o) if not o.ok else value.as_dict(exit_status=status)), None
        values = tuple(map(provider_values, value.results))
        try:  # only text: equal values are then written alike (True == 1, but not in JSON); join refuses the rest
            "".join(chain.from_iterable(values))
        except TypeError:
            return item_json(value.as_dict(exit_status=status)), None
        head = item_json(value.as_dict(exit_status=status, providers=False))
        return head[: -len("null}")], values

    whole = held_by_secret("[]")
    pieces: list[str] = []  # the texts to redact, in order: each item's head (or whole item), each distinct list once
    lists: dict = {}  # a providers list's values -> its text's index in pieces
    layout: list[tuple[int, int, Any]] = []  # per outcome: (its head's index, its list's index or -1, its status)
    for o in outcomes:
        status = o.exit_status
        head, values = parts(o, status, whole)
        if values is None:
            layout.append((len(pieces), -1, status))
            pieces.append(head)
            continue
        at = lists.get(values)
        if at is None:
            at = lists[values] = len(pieces)
            pieces.append(item_json([dict(zip(PROVIDER_FIELDS, v)) for v in values]))
        layout.append((len(pieces), at, status))
        pieces.append(head)
    texts = redact("\n".join(pieces)).split("\n")
    if len(texts) != len(pieces):  # cannot be (see above); each on its own then
        texts = [redact(t) for t in pieces]
    texts = [t if t.isascii() and "\x7f" not in t else json_safe(t) for t in texts]  # (only those can change)
    done = []
    for o, (head, at, status) in zip(outcomes, layout):
        o.row = texts[head] if at < 0 else texts[head] + texts[at] + "}"
        if o.ok:
            o.value = Settled(status)
        done.append(o)
    return done


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
