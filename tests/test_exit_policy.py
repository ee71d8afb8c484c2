"""One exit-code policy (core/exits.py): every outcome type exposes an ExitStatus, one function maps them to ExitCode.

The fleet rule: an authentication or configuration failure on any site is never hidden behind another site's drift,
remote failure or refusal (before, a fleet with [4, 7] exited 7). Proven here on the pure function, on every outcome
type, and end to end with a real fleet run against the test site.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from aimo_cli.core import checks as C
from aimo_cli.core.exits import SEVERITY, ExitCode, ExitStatus, exit_code, worst
from aimo_cli.errors import AimoError, AuthError, ConfigError, RemoteError, SafetyError, UsageError

from .clihelper import run_cli
from .fleethelp import store_passwords, write_fleet

ROOT = Path(__file__).resolve().parent.parent / "aimo_cli"
S = ExitStatus


def test_every_status_has_one_code_and_one_rank():
    assert set(SEVERITY) == set(ExitStatus)
    assert len(SEVERITY) == len(set(SEVERITY))
    assert {exit_code(s) for s in ExitStatus} == set(ExitCode)
    assert exit_code([]) == ExitCode.OK


@pytest.mark.parametrize(
    "statuses, code",
    [
        ([S.AUTH, S.DRIFT], ExitCode.AUTH),  # the bug this rule fixes: [4, 7] exited 7
        ([S.DRIFT, S.AUTH], ExitCode.AUTH),
        ([S.CONFIG, S.DRIFT], ExitCode.CONFIG),
        ([S.CONFIG, S.REMOTE], ExitCode.CONFIG),
        ([S.AUTH, S.REMOTE, S.REFUSED, S.DRIFT], ExitCode.AUTH),
        ([S.CONFIG, S.AUTH], ExitCode.CONFIG),
        ([S.REFUSED, S.REMOTE], ExitCode.REFUSED),
        ([S.REMOTE, S.DRIFT, S.OK], ExitCode.REMOTE),
        ([S.UNEXPECTED, S.DRIFT], ExitCode.UNEXPECTED),  # a bug is never mistaken for "only differences found"
        ([S.OK, S.OK], ExitCode.OK),
        ([S.DRIFT], ExitCode.DRIFT),
    ],
)
def test_most_severe_status_wins(statuses, code):
    assert exit_code(statuses) == code
    assert exit_code(reversed(statuses)) == code
    assert worst(statuses) in statuses


def test_errors_expose_their_status_and_derive_their_code():
    for cls, status in ((UsageError, S.USAGE), (ConfigError, S.CONFIG), (AuthError, S.AUTH), (RemoteError, S.REMOTE), (SafetyError, S.REFUSED)):
        exc = cls("m")
        assert exc.exit_status is status
        assert exc.code == exit_code(status)
    assert AimoError("m").code == ExitCode.UNEXPECTED
    assert AimoError("m", status=S.REFUSED).code == ExitCode.REFUSED


def test_doctor_checks_expose_their_exit_class():
    """Each registration declares its exit class (services/doctor.py REGISTRY); a failing check exposes it."""
    from aimo_cli.services.doctor import REGISTRY

    declared = {spec.id: spec.exit_class for spec in REGISTRY}
    assert declared["local.settings"] is S.CONFIG
    assert declared["site.credentials"] is declared["site.manage_options"] is S.AUTH
    assert declared["site.https"] is S.REFUSED
    assert declared["site.reachable"] is S.REMOTE
    assert declared["site.mode"] is S.DRIFT
    assert C.check("site.credentials", C.FAIL, "m", exit_class=S.AUTH).exit_status() is S.AUTH
    assert C.check("site.credentials", C.OK, "m", exit_class=S.AUTH).exit_status() is S.OK
    warn = C.check("site.mode", C.WARN, "m")
    assert (warn.exit_status(), warn.exit_status(strict=True)) == (S.OK, S.DRIFT)
    # the doctor's fleet: one site's auth failure beats another site's failed check
    checks = [C.check("connector.groq.sync", C.FAIL, "m", site="a"), C.check("site.credentials", C.FAIL, "m", site="b", exit_class=S.AUTH)]
    assert C.exit_code(checks) == ExitCode.AUTH


def test_sync_results_expose_their_status():
    from aimo_cli.services.sync import ProviderResult, SiteSync

    def site(*outcomes, competitor=None):
        return SiteSync("s", True, [ProviderResult(f"p{i}", "", "", "", o) for i, o in enumerate(outcomes)], competitor=competitor)

    assert site("stored", "unchanged").exit_status is S.OK
    assert site("conflict", "stored").exit_status is S.DRIFT
    assert site("stored", competitor="Other").exit_status is S.DRIFT
    assert site("refused", "drift").exit_status is S.REFUSED
    assert site("drift", "wiped", "refused").exit_status is S.AUTH
    assert site("rejected").exit_code == ExitCode.AUTH


def test_fleet_outcomes_combine_by_the_fleet_rule():
    from aimo_cli.services.fleet import SiteOutcome, fleet_exit_code
    from aimo_cli.services.sync import ProviderResult, SiteSync

    drift = SiteOutcome("a", True, SiteSync("a", True, [ProviderResult("groq", "", "", "", "drift")]))
    auth = SiteOutcome("b", False, None, "refused the credentials", failure=S.AUTH)
    down = SiteOutcome("c", False, None, "cannot reach", failure=S.REMOTE)
    assert (drift.exit_status, auth.exit_status, down.exit_status) == (S.DRIFT, S.AUTH, S.REMOTE)
    assert fleet_exit_code([drift, auth]) == ExitCode.AUTH
    assert fleet_exit_code([down, drift]) == ExitCode.REMOTE
    assert fleet_exit_code([drift, down, auth]) == ExitCode.AUTH
    assert fleet_exit_code([]) == ExitCode.OK


def test_verify_and_refresh_outcomes_expose_their_status():
    from aimo_cli.services.models import RefreshOutcome
    from aimo_cli.services.verify import VerifyOutcome

    assert [VerifyOutcome("groq", s).exit_status for s in ("ok", "rejected", "missing", "unreachable")] == [S.OK, S.AUTH, S.AUTH, S.REMOTE]
    assert exit_code(VerifyOutcome("a", s).exit_status for s in ("unreachable", "rejected")) == ExitCode.AUTH
    assert [RefreshOutcome("groq", s).exit_status for s in ("updated", "failed", "kept")] == [S.OK, S.REMOTE, S.OK]


def _literal_exit_codes(tree: ast.AST) -> list[tuple[int, str]]:
    """`typer.Exit(N)` / `Exit(code=N)` / `SystemExit(N)` / `sys.exit(N)` / `os._exit(N)` with N a non-zero int literal,
    and `return N` for N in 2..7 or 130: an exit code written as a number instead of going through exits.exit_code.
    (141, the SIGPIPE status a closed pipe ends with, is the shell's number, not one aimo chooses: allowed.)"""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("Exit", "SystemExit", "exit", "_exit"):
                for arg in list(node.args) + [k.value for k in node.keywords]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, int) and arg.value not in (0, 141):
                        found.append((node.lineno, f"{name}({arg.value})"))
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
            v = node.value.value
            if isinstance(v, int) and not isinstance(v, bool) and (2 <= v <= 7 or v == 130):
                found.append((node.lineno, f"return {v}"))
    return found


def test_no_exit_code_is_written_as_a_number():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "exits.py":
            continue
        for line, what in _literal_exit_codes(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT.parent)}:{line}: {what}")
    assert not offenders, "exit codes must come from core.exits.exit_code(status):\n" + "\n".join(offenders)


def test_the_literal_scan_sees_a_planted_violation():
    planted = "import typer\ndef f():\n    raise typer.Exit(4)\ndef g():\n    return 7\ndef h():\n    return 1\n"
    assert sorted(_literal_exit_codes(ast.parse(planted))) == [(3, "Exit(4)"), (5, "return 7")]


def test_help_and_docs_state_the_fleet_rule():
    from aimo_cli import app

    assert "most severe" in app.HELP
    doc = (ROOT / "core" / "exits.py").read_text()
    assert "never" in doc and "hidden behind" in doc


@pytest.mark.wordpress
def test_fleet_auth_failure_is_not_hidden_behind_drift(wp_site, bridge, isolated):
    """A real fleet: s000/s001 drift (a local Groq key the site lacks), zz-auth's application password is refused,
    zz-down cannot be reached. Before the rule this exited 7 (max of [4, 5, 7]); now the auth failure decides."""
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    names = write_fleet(config, wp_site, 2, bad=["zz-down"])
    with config.open("a") as f:
        f.write(f'\n[sites.zz-auth]\nurl = "{wp_site.url}"\nuser = "{wp_site.admin_user}"\ngroup = "fleet"\nrest_root = "{wp_site.url}/wp-json/"\n')
    store_passwords(names, wp_site.admin_app_password)
    store_passwords(["zz-auth"], "aaaa bbbb cccc dddd eeee ffff")
    assert run_cli(["keys", "set", "groq", "--stdin"], stdin=bridge.fake.make_valid_key("groq") + "\n").code == 0
    r = run_cli(["sync", "status", "--all", "--json"])
    data = json.loads(r.out)
    codes = {s["site"]: s["exit_code"] for s in data["sites"]}
    assert codes == {"s000": 7, "s001": 7, "zz-down": 5, "zz-auth": 4}, r.out
    assert r.code == data["exit_code"] == ExitCode.AUTH
    # without the auth failure, the remote failure beats drift; without both, drift is what is left
    r = run_cli(["sync", "status", "s000", "s001", "zz-down", "--json"])
    assert r.code == ExitCode.REMOTE
    assert run_cli(["sync", "status", "s000", "s001"]).code == ExitCode.DRIFT
