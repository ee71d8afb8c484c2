"""CI always gets its report (issue 16): `aimo doctor --junit FILE` and `--json` / `--format yaml` write their report in
every case — a broken secrets file, an unknown site, an unreachable site, invalid settings, a bad option value — with
the failure that stopped the doctor as a failed check in it, and the exit code the failure has without the reports."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from aimo_cli.core.exits import ExitCode
from aimo_cli.ui import shapes

from .clihelper import run_cli
from .schemacheck import errors


def _config(text: str) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _broken_secrets(monkeypatch, tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    path.chmod(0o600)
    monkeypatch.setenv("AIMO_KEYRING", "file")
    monkeypatch.setenv("AIMO_SECRETS_FILE", str(path))


def _unreachable_site(monkeypatch, tmp_path):
    r = run_cli(["site", "add", "down", "http://127.0.0.1:9", "--user", "admin", "--stdin", "--no-verify"], stdin="abcd efgh ijkl mnop")
    assert r.code == 0, r.text


def _failed(junit: Path) -> dict[str, str]:
    """The JUnit report's failed testcases: name → failure message."""
    root = ET.parse(junit).getroot()
    return {tc.get("name"): tc.find("failure").get("message") for tc in root.iter("testcase") if tc.find("failure") is not None}


CASES = {
    # case: (setup, extra args, exit code, failed check id, words of its message)
    "broken secrets file": (_broken_secrets, [], ExitCode.CONFIG, "local.secret_backend", "not valid JSON"),
    "--jobs out of range": (None, ["--jobs", "0"], ExitCode.USAGE, "doctor.run", "--jobs '0' is not a number from 1 to 256"),
    "--jobs not a number": (None, ["--jobs", "many"], ExitCode.USAGE, "doctor.run", "--jobs 'many'"),
    "unknown site": (None, ["nosuch"], ExitCode.USAGE, "doctor.run", "no site named 'nosuch'"),
    "unreachable site": (_unreachable_site, ["down"], ExitCode.REMOTE, "site.reachable", "127.0.0.1:9"),
    "invalid settings": (lambda m, t: _config("[sites.blog\nurl = 1\n"), [], ExitCode.CONFIG, "local.settings", "not valid TOML"),
    "unknown group": (None, ["--group", "nope"], ExitCode.USAGE, "doctor.run", "nope"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_reports_are_written_whatever_stops_the_doctor(case, monkeypatch, tmp_path):
    setup, extra, code, check_id, words = CASES[case]
    if setup:
        setup(monkeypatch, tmp_path)
    junit = tmp_path / "report.xml"
    r = run_cli(["doctor", "--offline", "--junit", junit, "--json", *extra])
    assert r.code == code, r.text
    report = json.loads(r.out)
    assert not errors(report, shapes.schema("doctor")), errors(report, shapes.schema("doctor"))
    failed = {c["id"]: c for c in report["checks"] if c["status"] == "fail"}
    assert check_id in failed and words in failed[check_id]["message"], report["checks"]
    assert report["exit_code"] == code
    assert junit.is_file(), "the JUnit report was not written"
    junit_failed = _failed(junit)
    assert check_id in junit_failed and words in junit_failed[check_id]
    # the same with YAML on stdout, and without any stdout format (the CI recipe: --strict --junit report.xml)
    junit.unlink()
    r = run_cli(["doctor", "--offline", "--strict", "--junit", junit, "--format", "yaml", *extra])
    assert r.code == code and yaml.safe_load(r.out)["exit_code"] == code and check_id in _failed(junit)
    junit.unlink()
    r = run_cli(["doctor", "--offline", "--strict", "--junit", junit, *extra])
    assert r.code == code and check_id in _failed(junit) and check_id in r.out


def test_a_bad_format_still_writes_the_junit_report(tmp_path):
    junit = tmp_path / "report.xml"
    r = run_cli(["doctor", "--offline", "--junit", junit, "--json", "--format", "csv"])
    assert r.code == ExitCode.USAGE
    assert "two different formats" in _failed(junit)["doctor.run"] and "Error: --json and --format csv" in r.err


def test_an_unwritable_junit_path_is_a_clear_config_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    r = run_cli(["doctor", "--offline", "--junit", tmp_path / "a-file" / "report.xml"])
    assert r.code == ExitCode.CONFIG and "cannot write the JUnit report" in r.err and "Traceback" not in r.text


def test_an_unexpected_failure_is_reported_as_a_check_too(monkeypatch, tmp_path):
    """A bug in a check (exit 1) must not cost CI its report either."""
    from aimo_cli.services import doctor

    def boom(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(doctor, "gather_local", boom)
    junit = tmp_path / "report.xml"
    r = run_cli(["doctor", "--offline", "--junit", junit, "--json"])
    assert r.code == ExitCode.UNEXPECTED, r.text
    assert "unexpected RuntimeError: a bug" in _failed(junit)["doctor.run"]
    assert json.loads(r.out)["exit_code"] == ExitCode.UNEXPECTED and "Traceback" not in r.text


def test_a_broken_secret_file_is_the_secret_backend_check_and_the_rest_still_runs(monkeypatch, tmp_path):
    """The secret file turned unreadable after a site was added: the doctor does not stop at its first read. The
    settings check passes, the secret store's check fails with the file's error (exit 3, the error's own), the site
    says why it could not be asked, and the report names what was not checked."""
    _unreachable_site(monkeypatch, tmp_path)
    _broken_secrets(monkeypatch, tmp_path)
    junit = tmp_path / "report.xml"
    r = run_cli(["doctor", "--offline", "--json", "--junit", junit])
    assert r.code == ExitCode.CONFIG, r.text
    report = json.loads(r.out)
    by_id = {(c["site"], c["id"]): c for c in report["checks"]}
    assert by_id[(None, "local.settings")]["status"] == "ok"
    assert by_id[(None, "local.secret_backend")]["status"] == "fail" and "not valid JSON" in by_id[(None, "local.secret_backend")]["message"]
    assert by_id[("down", "site.error")]["status"] == "fail" and "not valid JSON" in by_id[("down", "site.error")]["message"]
    assert not any(c["id"] == "doctor.run" for c in report["checks"])
    assert any("provider keys were not checked" in n for n in report["notes"])
    assert set(_failed(junit)) == {"local.secret_backend", "site.error"}
    # --strict does not change the class: still the broken file's 3, not drift's 7
    assert run_cli(["doctor", "--offline", "--strict"]).code == ExitCode.CONFIG


def test_a_warning_keeps_its_registered_exit_class_under_strict(monkeypatch):
    """The registry stamps a check's exit class unless the check names its own: the in-memory store's warning (the
    test suite's backend) fails --strict as drift (7), as the README says."""
    r = run_cli(["doctor", "--offline", "--strict", "--json"])
    report = json.loads(r.out)
    backend = next(c for c in report["checks"] if c["id"] == "local.secret_backend")
    assert backend["status"] == "warn" and r.code == ExitCode.DRIFT, r.text
