"""`aimo report merge` (issue 17 item 6): the shards' JSON and JUnit reports become one, with the exit code a single
run over all the sites would have had; a missing or broken shard report never passes."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from aimo_cli.core import checks as C
from aimo_cli.core.exits import ExitStatus, exit_code, status_of
from aimo_cli.errors import UsageError
from aimo_cli.services import report


def sync_report(*sites):
    """A `sync … --json` report: (name, exit_code) pairs."""
    rows = [{"site": n, "exit_code": c, **({"error": "boom"} if c else {})} for n, c in sites]
    return {"sites": rows, "exit_code": int(exit_code(status_of(c) for _, c in sites))}  # what a fleet run writes


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


@pytest.mark.parametrize(
    "shards, expected",
    [
        ([[("a", 0)], [("b", 0)], [("c", 0)]], 0),
        ([[("a", 0)], [("b", 7)], [("c", 0)]], 7),  # one drifting site anywhere → 7
        ([[("a", 5)], [("b", 5), ("c", 0)]], 5),  # all failures agree → their code
        ([[("a", 7)], [("b", 5)], [("c", 4)]], 4),  # they disagree → the most severe (core/exits.py): auth beats remote and drift
        ([[("a", 7)], [("b", 1)]], 1),  # an aimo bug is never mistaken for drift
        ([[("a", 3)], [("b", 6)]], 3),  # a site whose settings are invalid is never hidden behind a refusal
        ([[], [("b", 0)]], 0),  # an empty shard (no site hashed to it) is fine
    ],
)
def test_sync_reports_merge_with_the_fleet_exit_code(tmp_path, shards, expected):
    paths = [write(tmp_path, f"s{i}.json", sync_report(*s)) for i, s in enumerate(shards)]
    merged = report.merge(paths)
    assert merged.kind == "sync" and merged.exit_code == expected == merged.data["exit_code"]
    assert [s["site"] for s in merged.data["sites"]] == [n for s in shards for n, _ in s]


def doctor_report(checks, strict=False):
    return {"exit_code": C.exit_code(checks, strict), "strict": strict, "summary": C.counts(checks), "sites": sorted({c.site for c in checks if c.site}),
            "requests": {}, "notes": [], "checks": [c.as_dict() for c in checks]}


LOCAL = [C.check("local.settings", C.OK, "valid"), C.check("local.backend", C.OK, "file")]


def site_checks(name, status=C.OK, cid="site.reachable", exit_class=None):
    return [C.check(cid, status, f"{name}: {status}", group=f"site {name}", site=name, exit_class=exit_class)]


def test_doctor_reports_merge_checks_once_and_recompute_the_code(tmp_path):
    a = write(tmp_path, "a.json", doctor_report(LOCAL + site_checks("a")))
    b = write(tmp_path, "b.json", doctor_report(LOCAL + site_checks("b", C.FAIL, "site.credentials", ExitStatus.AUTH)))
    c = write(tmp_path, "c.json", doctor_report(LOCAL + site_checks("c", C.WARN)))
    merged = report.merge([a, b, c])
    ids = [(ch["group"], ch["id"]) for ch in merged.data["checks"]]
    assert ids.count(("local", "local.settings")) == 1  # each shard ran the local checks: kept once
    assert merged.data["sites"] == ["a", "b", "c"]
    assert merged.exit_code == 4  # credentials refused beats "a check failed", as in one run
    assert report.merge([a, c]).exit_code == 0
    strict_c = write(tmp_path, "cs.json", doctor_report(LOCAL + site_checks("c", C.WARN), strict=True))
    assert report.merge([a, strict_c]).exit_code == 7  # --strict in the shards: the warning fails


def test_a_local_check_that_differs_between_machines_is_kept(tmp_path):
    a = write(tmp_path, "a.json", doctor_report([C.check("local.backend", C.OK, "file")]))
    b = write(tmp_path, "b.json", doctor_report([C.check("local.backend", C.FAIL, "no backend")]))
    merged = report.merge([a, b])
    assert len(merged.data["checks"]) == 2 and merged.exit_code == 7


def test_junit_reports_merge_suites_and_totals(tmp_path):
    xa = C.to_junit(LOCAL + site_checks("a"))
    xb = C.to_junit(LOCAL + site_checks("b", C.FAIL))
    merged = report.merge([write(tmp_path, "a.xml", xa), write(tmp_path, "b.xml", xb)])
    root = ET.fromstring(merged.junit.split("\n", 1)[1])
    assert root.get("tests") == "4" and root.get("failures") == "1"  # local twice → once; a and b
    assert sorted(s.get("name") for s in root.findall("testsuite")) == ["local", "site a", "site b"]
    assert merged.exit_code == 7
    ok = report.merge([write(tmp_path, "c.xml", C.to_junit(LOCAL + site_checks("c")))])
    assert ok.exit_code == 0


@pytest.mark.parametrize(
    "content, why",
    [("", "empty"), ("{", "neither JSON"), ("<html/>", "not a JUnit"), ('{"hello": 1}', "not an aimo fleet report"), ("<testsuites", "not valid XML")],
)
def test_a_broken_report_is_an_error(tmp_path, content, why):
    good = write(tmp_path, "good.json", sync_report(("a", 0)))
    with pytest.raises(UsageError) as exc:
        report.merge([good, write(tmp_path, "bad", content)])
    assert why in exc.value.message and "bad" in exc.value.message


def test_missing_reports_and_mixed_commands_are_errors(tmp_path):
    good = write(tmp_path, "good.json", sync_report(("a", 0)))
    with pytest.raises(UsageError, match="no such file"):
        report.merge([good, str(tmp_path / "absent.json")])
    with pytest.raises(UsageError, match="expected 3 JSON reports"):
        report.merge([good, good], expect=3)
    with pytest.raises(UsageError, match="different commands"):
        report.merge([good, write(tmp_path, "d.json", doctor_report(LOCAL))])


def test_cli_merge_writes_json_and_junit_and_exits_with_the_overall_code(tmp_path):
    from .clihelper import run_cli

    a = write(tmp_path, "a.json", doctor_report(LOCAL + site_checks("a")))
    b = write(tmp_path, "b.json", doctor_report(LOCAL + site_checks("b", C.FAIL)))
    xa = write(tmp_path, "a.xml", C.to_junit(LOCAL + site_checks("a")))
    xb = write(tmp_path, "b.xml", C.to_junit(LOCAL + site_checks("b", C.FAIL)))
    out = tmp_path / "merged" / "doctor.json"
    r = run_cli(["report", "merge", a, b, xa, xb, "--expect", "2", "--junit", str(tmp_path / "merged.xml"), "-o", str(out)])
    assert r.code == 7, r.text
    assert json.loads(out.read_text())["summary"]["fail"] == 1
    assert ET.parse(tmp_path / "merged.xml").getroot().get("failures") == "1"
    # printed to stdout without -o
    r = run_cli(["report", "merge", a])
    assert r.code == 0 and json.loads(r.out)["exit_code"] == 0
    # JUnit given without --junit: a usage error that says what to add
    r = run_cli(["report", "merge", xa])
    assert r.code == 2 and "--junit" in r.err
    r = run_cli(["report", "merge", a, str(tmp_path / "missing.json")])
    assert r.code == 2 and "missing.json" in r.err and "Traceback" not in r.text


def test_cli_shard_option_on_fleet_commands_is_checked(tmp_path):
    from .clihelper import run_cli

    for args in (["sync", "status", "--all"], ["sync", "push", "--all"], ["sync", "pull", "--all"], ["doctor", "--all", "--offline"],
                 ["connectors", "clear", "openai", "--all", "--yes"], ["connectors", "enable", "--all"], ["log", "--all", "--local"]):
        r = run_cli([*args, "--shard", "4/3"])
        assert r.code == 2 and "--shard 4/3" in r.err, (args, r.text)


def test_a_shard_that_failed_as_a_whole_counts_with_its_error(tmp_path):
    """A shard whose command stopped (its --json error document) is named in the merge and its code counts."""
    good = write(tmp_path, "a.json", {"schema_version": 1, **sync_report(("a", 0))})
    failed = write(tmp_path, "b.json", {"schema_version": 1, "error": {"message": "the settings file is invalid", "hint": "fix it", "exit_code": 3, "kind": "config"}})
    merged = report.merge([good, failed])
    assert merged.exit_code == 3 == merged.data["exit_code"]
    assert list(merged.data)[0] == "schema_version" and merged.data["errors"][0]["report"] == failed
    only_failed = report.merge([failed])
    assert only_failed.exit_code == 3 and only_failed.data["sites"] == []


def test_log_shards_split_the_local_log_by_site(tmp_path):
    """`aimo log --local --shard K/N`: each site's local events in exactly one shard, and every site's in one."""
    import os
    from pathlib import Path

    from aimo_cli import paths
    from aimo_cli.services.shard import parse, select

    from .clihelper import run_cli

    names = [f"client-{i:02d}" for i in range(24)]
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text("".join(f'[sites."{n}"]\nurl = "http://127.0.0.1:9/{n}"\nuser = "admin"\n\n' for n in names))
    log = paths.state_dir() / "audit.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(json.dumps({"time": "2026-11-29T10:00:00Z", "site": n, "provider": "groq", "action": "push", "old_fingerprint": "",
                                       "new_fingerprint": "ab12", "result": "stored", "detail": ""}) + "\n" for n in names))
    seen = []
    for k in (1, 2, 3):
        r = run_cli(["log", "--all", "--local", "--limit", "0", "--shard", f"{k}/3", "--json"])
        assert r.code == 0, r.text
        got = [e["site"] for e in json.loads(r.out)["events"]]
        # the shard's own share, by the same stable hash as every other fleet command
        assert sorted(got) == sorted(select(names, parse(f"{k}/3"), name=str)), (k, got)
        seen += got
    assert sorted(seen) == sorted(names)
