"""The README's sharded GitHub Actions workflow, run as written (issue 17 item 6): every `run:` step of the ten shard
jobs and of the merge job (all but installing aimo and the `uses:` actions, whose work is emulated: checkout = the
workspace with fleet/aimo.toml, upload/download = copying the shards' report files), against a fleet of stub sites.
The merged reports must hold every site once, and the merge steps must exit as one unsharded run of the same command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from .fleetstub import StubSites, fleet_toml

yaml = pytest.importorskip("yaml", reason="pyyaml is a test dependency (pip install -e '.[test]')")

REPO = Path(__file__).resolve().parent.parent
SITES = [f"client-{i:03d}" for i in range(36)]
BAD = ["gone-1", "gone-2"]  # nobody answers: those sites fail, and so must the merged run


def workflow() -> dict:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    mine = [b for b in blocks if "aimo-fleet.yml" in b]
    assert len(mine) == 1, "the README has one fleet workflow block"
    return yaml.safe_load(mine[0])


def expand(text: str, matrix: dict, secrets: dict) -> str:
    def sub(m):
        expr = m.group(1).strip()
        if expr.startswith("matrix."):
            return str(matrix[expr[7:]])
        if expr.startswith("secrets."):
            return secrets.get(expr[8:], "")
        raise AssertionError(f"unexpected expression in the README workflow: {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", sub, text)


def run_job(job: dict, workspace: Path, runner_temp: Path, matrix: dict, secrets: dict) -> dict[str, int]:
    """Run a job's run-steps like a runner (bash -e, $GITHUB_ENV, if: always()); step name → exit code."""
    bindir = str(Path(sys.executable).parent)
    env = {"PATH": bindir + os.pathsep + os.environ["PATH"], "HOME": str(runner_temp), "RUNNER_TEMP": str(runner_temp),
           "XDG_CONFIG_HOME": str(runner_temp / "c"), "XDG_DATA_HOME": str(runner_temp / "d"), "XDG_STATE_HOME": str(runner_temp / "s"),
           "XDG_CACHE_HOME": str(runner_temp / "k")}
    env.update({k: expand(str(v), matrix, secrets) for k, v in (job.get("env") or {}).items()})
    github_env = runner_temp / "github_env"
    github_env.touch()
    env["GITHUB_ENV"] = str(github_env)
    codes: dict[str, int] = {}
    failed = False
    for step in job["steps"]:
        if "uses" in step or step.get("name") == "Install aimo":
            continue
        cond = str(step.get("if", "success()"))
        if failed and "always()" not in cond:
            continue
        step_env = {**env, **{k: expand(str(v), matrix, secrets) for k, v in (step.get("env") or {}).items()}}
        proc = subprocess.run(["bash", "-e", "-c", expand(step["run"], matrix, secrets)], cwd=workspace, env=step_env,
                              capture_output=True, text=True, timeout=300)
        codes[step["name"]] = proc.returncode
        assert "Traceback" not in proc.stderr, proc.stderr
        failed = failed or proc.returncode != 0
        for line in github_env.read_text().splitlines():  # what a step appends to $GITHUB_ENV, later steps see
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return codes


def fresh_runner_temp(tmp_path: Path) -> Path:
    temp = tmp_path / "runner-temp"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    return temp


def test_the_readme_fleet_workflow_runs_and_merges_like_one_run(tmp_path):
    wf = workflow()
    shard_job, report_job = wf["jobs"]["shard"], wf["jobs"]["report"]
    shards = shard_job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, 11)) and shard_job["strategy"]["fail-fast"] is False
    assert report_job["needs"] == "shard" and report_job["if"] == "always()"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    with StubSites() as stub:
        secrets = {"AIMO_FLEET_PASSWORDS": json.dumps({f"site/{n}": "stub-app-password-0000" for n in SITES + BAD})}
        toml = fleet_toml(stub.url, SITES, BAD)
        per_shard = {}
        for k in shards:
            ws = tmp_path / f"shard-{k}"
            (ws / "fleet").mkdir(parents=True)
            (ws / "fleet" / "aimo.toml").write_text(toml)  # actions/checkout
            temp = fresh_runner_temp(tmp_path)  # the same path on every runner, as on GitHub's
            per_shard[k] = run_job(shard_job, ws, temp, {"shard": k}, secrets)
            assert oct((temp / "aimo-secrets.json").stat().st_mode & 0o777) == "0o600"
            for f in ws.glob(f"*-{k}.*"):  # actions/upload-artifact (path: "*-K.*"), then download with merge-multiple
                shutil.copy(f, artifacts / f.name)
        assert sorted(p.name for p in artifacts.iterdir()) == sorted(
            [f"sync-{k}.json" for k in shards] + [f"doctor-{k}.json" for k in shards] + [f"doctor-{k}.xml" for k in shards]
        )
        # the merge job, in a workspace holding every shard's reports
        merge_ws = tmp_path / "report"
        shutil.copytree(artifacts, merge_ws)
        temp = fresh_runner_temp(tmp_path)
        merged_codes = run_job(report_job, merge_ws, temp, {}, secrets)

        # one unsharded run of the same commands, for comparison
        ws = tmp_path / "single"
        (ws / "fleet").mkdir(parents=True)
        (ws / "fleet" / "aimo.toml").write_text(toml)
        single = {**shard_job, "steps": [dict(s, run=re.sub(r" --shard \$\{\{ matrix\.shard \}\}/\d+", "", s["run"])) if "run" in s else s for s in shard_job["steps"]]}
        temp = fresh_runner_temp(tmp_path)
        single_codes = run_job(single, ws, temp, {"shard": "all"}, secrets)

    sync = json.loads((merge_ws / "sync.json").read_text())
    doctor = json.loads((merge_ws / "doctor.json").read_text())
    one_sync = json.loads((ws / "sync-all.json").read_text())
    one_doctor = json.loads((ws / "doctor-all.json").read_text())
    assert sorted(s["site"] for s in sync["sites"]) == sorted(SITES + BAD)  # every site once, in some shard
    assert sorted(doctor["sites"]) == sorted(SITES + BAD)
    # the shards split the work: no shard ran everything
    assert max(len(json.loads((artifacts / f"sync-{k}.json").read_text())["sites"]) for k in shards) < len(SITES)
    # the same verdicts and exit codes as one run over the whole fleet
    assert {s["site"]: s.get("exit_code") for s in sync["sites"]} == {s["site"]: s.get("exit_code") for s in one_sync["sites"]}
    assert sync["exit_code"] == one_sync["exit_code"] != 0  # the unreachable sites fail the fleet
    assert merged_codes["Merge the sync reports (fails the run when any site failed)"] == single_codes["Push the keys to this shard's sites"]
    assert doctor["exit_code"] == one_doctor["exit_code"] == merged_codes["Merge the doctor reports"] == single_codes["Check this shard's sites"]
    local = sorted((c["id"], c["status"], c["message"]) for c in doctor["checks"] if c["site"] is None)
    one_local = sorted((c["id"], c["status"], c["message"]) for c in one_doctor["checks"] if c["site"] is None)
    assert local == one_local
    assert doctor["summary"] == one_doctor["summary"]
    junit = ET.parse(merge_ws / "doctor.xml").getroot()
    assert int(junit.get("tests")) == sum(doctor["summary"].values())
    # a failing shard never hid the others: every shard job ran both of its aimo steps
    assert all(set(c) == {"Site passwords (one JSON secret, written 0600 outside the workspace)", "Push the keys to this shard's sites",
                          "Check this shard's sites"} for c in per_shard.values())
