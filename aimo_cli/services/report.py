"""`aimo report merge`: one report out of the shards' reports (`--shard K/N` runs on several machines).

Inputs are what the fleet commands write: the JSON of `aimo sync status|push|pull --json`, `aimo keys rotate --json`,
`aimo connectors enable --json` and `aimo doctor --json`, and the JUnit XML of `aimo doctor --junit FILE`. Each file's
kind is read from its content. The merged JSON has the same shape as one run's, and its exit code is the one a single
run over all the sites would have had, decided by the one exit policy (core/exits.py: the most severe status wins):
  - sync-like reports: every site's result in shard order; the code is the most severe of the sites' and the shards'
    codes (a fleet run's rule, services/fleet.py);
  - doctor reports: every check (the local checks, which each shard ran on its own machine, once when they agree);
    the code is the most severe of the shards' codes (each is already its checks' most severe exit class) and of the
    merged checks' own outcome (so --strict in any shard fails a warning in every shard).
A shard whose command failed as a whole (its `--json` error document) is listed under `errors` and its exit code
counts. A JUnit merge keeps every testsuite (suites of the same name are joined, testcases identical but for their time kept
once) and recounts
the totals. A missing, empty or unreadable report, or fewer reports than --expect, is an error (exit 2): a shard that
died before writing its report must never look like a shard with nothing to report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..core.exits import ExitCode, ExitStatus, exit_code, status_of
from ..errors import UsageError


@dataclass
class Merged:
    kind: str  # "sync" | "doctor" | "" (JUnit only)
    data: dict[str, Any] | None
    junit: str | None
    exit_code: int
    inputs: dict[str, list[str]] = field(default_factory=dict)


def _bad(path: str, why: str) -> UsageError:
    return UsageError(f"report {path}: {why}", "Pass the files the shards wrote (--json output or --junit FILE); rerun the shard whose report is missing.")


def _load(path: str) -> tuple[str, Any]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise _bad(path, "no such file") from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror})") from None
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        raise _bad(path, "is empty (did that shard fail before writing it?)")
    if text.startswith("<"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise _bad(path, f"is not valid XML ({exc})") from None
        if root.tag not in ("testsuites", "testsuite"):
            raise _bad(path, f"is XML but not a JUnit report (root <{root.tag}>)")
        return "junit", root
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _bad(path, f"is neither JSON nor JUnit XML ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("error"), dict) and "exit_code" in data["error"]:
        return "error", data  # the shard's command failed as a whole (its --json error document): counted, never lost
    if isinstance(data, dict) and isinstance(data.get("checks"), list):
        return "doctor", data
    if isinstance(data, dict) and isinstance(data.get("sites"), list) and "exit_code" in data:
        return "sync", data
    raise _bad(path, "is JSON but not an aimo fleet report (no `sites` with `exit_code`, no doctor `checks`)")


def _code(value: Any) -> int:
    """A report's exit code; anything else (missing, not a number) counts as an aimo failure."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255 else int(ExitCode.UNEXPECTED)


def worst_code(codes: list[int]) -> int:
    """The most severe of exit codes, by the one exit policy (core/exits.py)."""
    return int(exit_code(status_of(c) for c in codes))


def merge_sync(reports: list[dict]) -> tuple[dict, int]:
    sites: list[Any] = []
    shard_codes: list[int] = []
    for rep in reports:
        sites += rep["sites"]
        shard_codes.append(_code(rep.get("exit_code")))
    site_codes = [_code(s.get("exit_code", 0)) if isinstance(s, dict) else _code(None) for s in sites]
    code = worst_code(site_codes + shard_codes)
    return {"sites": sites, "exit_code": code, "shards": len(reports)}, code


def merge_doctor(reports: list[dict]) -> tuple[dict, int]:
    from ..core import checks as C

    strict = any(bool(r.get("strict")) for r in reports)
    seen: set[tuple] = set()
    checks: list[C.Check] = []
    sites: list[str] = []
    requests: dict[str, Any] = {}
    notes: list[str] = []
    for rep in reports:
        for raw in rep["checks"]:
            if not isinstance(raw, dict):
                continue
            try:
                chk = C.Check(
                    id=str(raw["id"]), status=str(raw["status"]), message=str(raw.get("message", "")), hint=raw.get("hint"),
                    duration_ms=float(raw.get("duration_ms") or 0.0), group=str(raw.get("group") or "local"), site=raw.get("site"),
                )
            except (KeyError, ValueError, TypeError):
                continue
            ident = (chk.group, chk.site, chk.id, chk.status, chk.message)
            if chk.site is None and ident in seen:
                continue  # the same local check from another shard's machine
            seen.add(ident)
            checks.append(chk)
        sites += [s for s in rep.get("sites") or [] if isinstance(s, str)]
        requests.update(rep.get("requests") or {})
        notes += [n for n in rep.get("notes") or [] if isinstance(n, str) and n not in notes]
    # each shard's code carries its failing checks' exit classes (not in the JSON); the merged checks add --strict
    shard_codes = [_code(r.get("exit_code")) for r in reports]
    code = worst_code(shard_codes + [int(C.exit_code(checks, strict))])
    data = {
        "exit_code": code,
        "strict": strict,
        "summary": C.counts(checks),
        "sites": sites,
        "requests": requests,
        "notes": notes,
        "checks": [c.as_dict() for c in checks],
        "shards": len(reports),
    }
    return data, code


def _case_identity(case: ET.Element) -> str:
    """A testcase as text without its duration (the same local check takes another time on each shard's machine)."""
    attrs = {k: v for k, v in case.attrib.items() if k != "time"}
    return repr((sorted(attrs.items()), [(c.tag, sorted(c.attrib.items()), c.text) for c in case]))


def merge_junit(roots: list[ET.Element]) -> tuple[str, int]:
    suites: dict[str, ET.Element] = {}
    seen: dict[str, set[str]] = {}
    name = "aimo"
    for root in roots:
        name = root.get("name") or name
        for suite in [root] if root.tag == "testsuite" else root.findall("testsuite"):
            sname = suite.get("name") or ""
            target = suites.get(sname)
            if target is None:
                target = suites[sname] = ET.Element("testsuite", name=sname)
                seen[sname] = set()
            for case in suite.findall("testcase"):
                ident = _case_identity(case)
                if ident in seen[sname]:
                    continue
                seen[sname].add(ident)
                target.append(case)
    out = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for suite in suites.values():
        cases = suite.findall("testcase")
        n = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
            "time": sum(float(c.get("time") or 0) for c in cases),
        }
        for k in ("tests", "failures", "errors", "skipped"):
            suite.set(k, str(n[k]))
            totals[k] += n[k]
        suite.set("time", f"{n['time']:.3f}")
        totals["time"] += n["time"]
        out.append(suite)
    for k in ("tests", "failures", "errors", "skipped"):
        out.set(k, str(totals[k]))
    out.set("time", f"{totals['time']:.3f}")
    # JUnit alone cannot tell a check's exit class: a failure is "a check failed" (the JSON reports say more)
    code = int(exit_code(ExitStatus.DRIFT if totals["failures"] or totals["errors"] else ExitStatus.OK))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(out, encoding="unicode") + "\n", code


def merge(paths: list[str], *, expect: int | None = None) -> Merged:
    if not paths:
        raise UsageError("no report to merge", "e.g. aimo report merge shard-*.json --junit merged.xml shard-*.xml")
    loaded: dict[str, list[tuple[str, Any]]] = {"sync": [], "doctor": [], "junit": [], "error": []}
    for path in paths:
        kind, data = _load(path)
        loaded[kind].append((path, data))
    if loaded["sync"] and loaded["doctor"]:
        raise UsageError(
            "these reports come from different commands (doctor and sync-like)", "Merge the reports of one command at a time."
        )
    kind = "doctor" if loaded["doctor"] else ("sync" if loaded["sync"] else "")
    json_reports = [d for _, d in loaded[kind]] if kind else []
    errors = [(p, d["error"]) for p, d in loaded["error"]]
    if errors and not kind:
        kind = "sync"  # only failed shards: a fleet report with no site, their errors and their exit code
    for what, items in (("JSON", json_reports + [d for _, d in loaded["error"]]), ("JUnit", loaded["junit"])):
        if expect is not None and items and len(items) != expect:
            raise UsageError(
                f"expected {expect} {what} reports (one per shard), got {len(items)}",
                "A shard did not write its report: rerun it (or lower --expect if the matrix is smaller).",
            )
    data, code = (merge_doctor(json_reports) if kind == "doctor" else merge_sync(json_reports)) if kind else (None, 0)
    if errors and data is not None:
        data["errors"] = [{"report": p, **e} for p, e in errors]
        code = worst_code([code] + [_code(e.get("exit_code")) for _, e in errors])
        data["exit_code"] = code
    if data is not None:
        versions = {d.get("schema_version") for d in json_reports + [d for _, d in loaded["error"]]} - {None}
        if len(versions) == 1:  # the shards' documents' version (ui/formats.py), first as in theirs
            data = {"schema_version": versions.pop(), **data}
    junit, junit_code = merge_junit([r for _, r in loaded["junit"]]) if loaded["junit"] else (None, 0)
    if not kind:
        code = junit_code
    return Merged(kind, data, junit, code, {k: [p for p, _ in v] for k, v in loaded.items() if v})


def write(merged: Merged, *, junit: str | None, output: str | None) -> None:
    """Write the merged JUnit XML to `junit` and the merged JSON to `output` (when given), where the user asked: no
    private directory, atomically, redacted."""
    from ..redact import redact
    from ..stores.fileio import atomic_write

    if merged.junit is not None:
        if not junit:
            raise UsageError("JUnit reports were given but no --junit FILE to write their merge to", "e.g. aimo report merge *.json *.xml --junit merged.xml")
        atomic_write(Path(junit), redact(merged.junit), private_dir=False)
    if merged.data is not None and output:
        atomic_write(Path(output), redact(json.dumps(merged.data, indent=2)) + "\n", private_dir=False)
