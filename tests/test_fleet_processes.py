"""A read-only fleet over several processes (services/fleet.py, `processes=True`, used by `sync status`): the outcomes
come back complete and in the sites' order, with the same errors and exit codes as in one process; a worker that
dies costs its sites an "unexpected" outcome, never the fleet; Ctrl-C stops every process with exit 130."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from aimo_cli.context import AppContext, Options
from aimo_cli.errors import ExitStatus, RemoteError
from aimo_cli.services import fleet
from aimo_cli.stores.settings import SiteConfig

from .clihelper import run_aimo
from .fleetstub import StubSites, fleet_toml
from .secrets_registry import register

PASSWORD = "stub-app-password-0000"


def _sites(n: int) -> list[SiteConfig]:
    return [SiteConfig(name=f"s{i:03d}", url=f"https://s{i:03d}.example", user="admin") for i in range(n)]


def test_workers_one_per_core_and_per_hundred_sites(monkeypatch):
    ctx = AppContext(Options())
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert fleet.workers_for(ctx, 1000, 32) == 2
    assert fleet.workers_for(ctx, 150, 32) == 1  # fewer than 2 x PROCESS_SITES: one process
    assert fleet.workers_for(ctx, 1000, 1) == 1  # --jobs 1: one site at a time, one process
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert fleet.workers_for(ctx, 100_000, 256) == fleet.MAX_PROCESSES
    ctx.transport = object()  # an injected transport lives in this process: never forked
    assert fleet.workers_for(ctx, 1000, 32) == 1


def test_outcomes_in_order_with_errors_from_every_process(monkeypatch):
    monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs: 3)
    prepared = []

    def job(site):
        if site.name.endswith("7"):
            raise RemoteError(f"cannot reach {site.name}", "Check it.")
        if site.name == "s100":
            raise ValueError("a bug")
        return {"site": site.name, "pid": os.getpid()}

    sites = _sites(300)
    outcomes = fleet.run_fleet(AppContext(Options()), sites, job, jobs=9, processes=True, prepare=prepared.append)
    assert prepared == [sites]  # once, in this process, before the workers start
    assert [o.site for o in outcomes] == [s.name for s in sites]
    assert len({o.value["pid"] for o in outcomes if o.ok}) == 3  # this process and two workers
    for o in outcomes:
        if o.site == "s100":
            assert not o.ok and o.error == "unexpected ValueError: a bug" and o.exit_status is ExitStatus.UNEXPECTED
        elif o.site.endswith("7"):
            assert not o.ok and o.error == f"cannot reach {o.site}" and o.hint == "Check it." and o.exit_status is ExitStatus.REMOTE
        else:
            assert o.ok and o.value["site"] == o.site
    assert int(fleet.fleet_exit_code(outcomes)) == 5


def test_a_worker_that_dies_costs_its_sites_not_the_fleet(monkeypatch):
    monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs: 2)
    parent = os.getpid()

    def job(site):
        if os.getpid() != parent:
            os._exit(3)  # the worker dies at its first site
        return site.name

    outcomes = fleet.run_fleet(AppContext(Options()), _sites(200), job, jobs=4, processes=True)
    mine, lost = outcomes[0::2], outcomes[1::2]  # shares are interleaved: this process ran the even ones
    assert all(o.ok and o.value == o.site for o in mine)
    assert all(not o.ok and "worker process" in o.error and o.exit_status is ExitStatus.UNEXPECTED for o in lost)


def _fleet_env(tmp_path: Path, toml: str, names: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items()}
    for name, var in (("c", "XDG_CONFIG_HOME"), ("d", "XDG_DATA_HOME"), ("s", "XDG_STATE_HOME"), ("k", "XDG_CACHE_HOME")):
        (tmp_path / name).mkdir(exist_ok=True)
        env[var] = str(tmp_path / name)
    (tmp_path / "c" / "aimo").mkdir(exist_ok=True)
    (tmp_path / "c" / "aimo" / "aimo.toml").write_text(toml)
    (tmp_path / "d" / "aimo").mkdir(exist_ok=True)
    secrets = tmp_path / "d" / "aimo" / "secrets.json"
    secrets.write_text(json.dumps({f"site/{n}": register(PASSWORD) for n in names}))
    secrets.chmod(0o600)
    env["AIMO_KEYRING"] = "file"
    return env


def test_sync_status_of_a_big_fleet_is_the_same_in_workers_as_in_one_process(tmp_path):
    names = [f"site-{i:03d}" for i in range(240)]
    bad = ["down-1", "down-2"]
    with StubSites() as stub:
        env = _fleet_env(tmp_path, fleet_toml(stub.url, names, bad) + '\n[sites."nopass"]\nurl = "http://127.0.0.1:9"\nuser = "admin"\n', names + bad)
        split = run_aimo(["sync", "status", "--all", "--jobs", "8", "--json"], env=env)  # two workers or more on a multi-core machine
        single = run_aimo(["sync", "status", "--all", "--jobs", "1", "--json"], env=env)  # one process
    assert split.code == single.code == 4  # the site without a password (auth) outranks the unreachable ones
    assert json.loads(split.out) == json.loads(single.out)
    doc = json.loads(split.out)
    assert [s["site"] for s in doc["sites"]] == names + bad + ["nopass"]  # the settings' order
    assert next(s for s in doc["sites"] if s["site"] == "down-2")["error"].startswith("cannot reach http://127.0.0.1:9")


def test_ctrl_c_stops_every_process_with_exit_130(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)  # connections are accepted by the kernel, never answered: every site hangs
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    names = [f"hang-{i:03d}" for i in range(240)]
    env = _fleet_env(tmp_path, fleet_toml(url, names), names)
    proc = subprocess.Popen([sys.executable, "-m", "aimo_cli", "sync", "status", "--all", "--jobs", "16"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        processes = min(2, len(os.sched_getaffinity(0)))  # a worker per core (2 on the test machine)
        while len(_group(proc.pid)) < processes and time.monotonic() < deadline:  # the workers are up
            time.sleep(0.1)
        assert len(_group(proc.pid)) >= processes
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at the terminal does: the whole foreground group
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        silent.close()
    assert proc.returncode == 130 and "Interrupted." in err and "Traceback" not in err
    deadline = time.monotonic() + 5
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _group(proc.pid) == []  # no worker left behind


def _group(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _stepped(fn):
    """A job's steps (what sync status gives run_fleet): a generator that returns fn(site) without any request."""

    def steps(site):
        return fn(site)
        yield  # (never reached: makes this a generator)

    return steps


def test_sites_handed_out_to_whichever_process_asks(monkeypatch):
    """With the event loop (a job with steps), a process takes the next site when it has room: a worker that gets
    less of the machine runs fewer sites; the outcomes still come back complete and in order."""
    monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs: 2)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    parent = os.getpid()

    def value(site):
        time.sleep(0.005 if os.getpid() != parent else 0.001)  # the worker is slow
        return {"site": site.name, "pid": os.getpid()}

    sites = _sites(300)
    outcomes = fleet.run_fleet(AppContext(Options()), sites, lambda s: None, jobs=2, processes=True, steps=_stepped(value))
    assert [o.value["site"] for o in outcomes] == [s.name for s in sites]
    mine = sum(o.value["pid"] == parent for o in outcomes)
    assert 150 < mine < 300  # this process took more than half, the slow worker some


def test_sites_handed_out_by_a_thread_when_they_do_not_fit_in_the_pipe(monkeypatch):
    """Site numbers that fit in the queue's pipe are written at once, before the loops start; more than it holds are
    written by a thread as the processes take them. Either way every site runs once, in the sites' order back."""
    monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs: 2)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    threads = []
    start = fleet._SiteQueue.start

    def spy(queue):
        start(queue)
        threads.append(queue.thread)

    monkeypatch.setattr(fleet._SiteQueue, "start", spy)
    for room in (1 << 16, 4096):  # 300 numbers are 1,200 bytes: they fit; then a pipe of 4,096 bytes and 3,000 sites
        monkeypatch.setattr(fleet, "_widen", lambda fd, room=room: room)
        sites = _sites(300 if room > 4096 else 3000)
        outcomes = fleet.run_fleet(AppContext(Options()), sites, lambda s: None, jobs=4, processes=True, steps=_stepped(lambda site: site.name))
        assert [o.value for o in outcomes] == [s.name for s in sites]
    assert threads[0] is None and threads[1] is not None


def test_a_progress_bar_counts_the_sites_of_every_process(monkeypatch):
    """On a terminal, a thread per worker reads its pipe as it goes (a byte per finished site): the bar advances
    once per site, whichever process ran it, and the outcomes come back as without a bar."""
    from rich.progress import Progress

    from aimo_cli.ui.output import Output

    monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs: 2)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.setattr(Output, "rich_ok", property(lambda self: True))
    advanced = []
    monkeypatch.setattr(Progress, "advance", lambda self, task, n=1: advanced.append(n))
    sites = _sites(300)
    parent = os.getpid()

    def value(site):
        time.sleep(0.002)  # (both processes take sites)
        return site.name, os.getpid()

    outcomes = fleet.run_fleet(AppContext(Options()), sites, lambda s: None, jobs=4, processes=True, steps=_stepped(value))
    assert [o.value[0] for o in outcomes] == [s.name for s in sites]
    assert len({o.value[1] for o in outcomes}) == 2 and any(o.value[1] != parent for o in outcomes)
    assert len(advanced) == 300


def test_a_worker_that_dies_costs_only_the_sites_it_took(monkeypatch):
    monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs: 2)
    parent = os.getpid()

    def value(site):
        if os.getpid() != parent:
            os._exit(3)  # the worker dies at its first site
        time.sleep(0.002)  # (this process leaves the worker time to take one)
        return site.name

    outcomes = fleet.run_fleet(AppContext(Options()), _sites(200), lambda s: None, jobs=2, processes=True, steps=_stepped(value))
    lost = [o for o in outcomes if not o.ok]
    assert len(lost) == 1  # the one site the worker took (one at a time: its share of --jobs 2), not half the fleet
    assert all("worker process" in o.error and o.exit_status is ExitStatus.UNEXPECTED for o in lost)
    assert all(o.value == o.site for o in outcomes if o.ok) and len(outcomes) == 200


def _settle(outcomes):
    """A --json fleet's `finish` (as sync_render.prerender): each outcome's row written, its value only its status."""
    for o in outcomes:
        o.row = json.dumps({"site": o.site, "ok": o.ok, "error": o.error})
        if o.ok:
            o.value = fleet.Settled(ExitStatus.DRIFT if o.site.endswith("3") else ExitStatus.OK)
    return outcomes


def test_settled_outcomes_come_back_from_the_workers_as_from_one_process(monkeypatch):
    """Rows and settled values travel as plain tuples (fleet._pack's marshal format): every field comes back as it
    left, in the sites' order, the same as when one process ran them all."""

    def job(site):
        if site.name.endswith("7"):
            raise RemoteError(f"cannot reach {site.name} \u202e", "Check it.")
        return site.name

    sites = _sites(300)
    runs = []
    for workers in (1, 3):
        monkeypatch.setattr(fleet, "workers_for", lambda ctx, n, jobs, w=workers: w)
        outcomes = fleet.run_fleet(AppContext(Options()), sites, job, jobs=9, processes=True, prepare=lambda s: None, finish=_settle)
        runs.append([(o.site, o.ok, o.error, o.hint, o.failure, o.row, type(o.value).__name__, getattr(o.value, "exit_status", None), o.exit_status) for o in outcomes])
    assert runs[0] == runs[1]
    assert [r[0] for r in runs[1]] == [s.name for s in sites]
    assert {r[-1] for r in runs[1]} == {ExitStatus.OK, ExitStatus.DRIFT, ExitStatus.REMOTE}
    assert all(type(r[-1]) is ExitStatus and type(r[4]) is ExitStatus for r in runs[1])


class Text(str):
    """A text marshal refuses (not exactly a str)."""


def test_outcomes_travel_plain_when_settled_else_pickled():
    """_pack: settled outcomes as marshal's tuples; anything else (a value of its own, an `extra`, a text that is a
    str subclass) pickled whole; _unpack gives back the same outcomes either way."""

    def fields(outcomes):
        return [(o.site, o.ok, o.error, o.hint, o.failure, o.row, o.extra, type(o.value).__name__, getattr(o.value, "exit_status", o.value)) for o in outcomes]

    settled = [fleet.SiteOutcome("a", True, fleet.Settled(ExitStatus.DRIFT), row='{"site": "a"}'), fleet.SiteOutcome("b", False, None, "down", None, ExitStatus.REMOTE, row='{"site": "b"}')]
    cases = [
        (settled, b"m"),
        (settled + [fleet.SiteOutcome("c", True, {"a": 1}, row="{}")], b"p"),
        (settled + [fleet.SiteOutcome("c", True, None, extra={"x": 1}, row="{}")], b"p"),
        (settled + [fleet.SiteOutcome("c", True, None, row=Text("{}"))], b"p"),
        (settled + [fleet.SiteOutcome("c", False, None, Text("down"), row="{}", failure=ExitStatus.REMOTE)], b"p"),
    ]
    for outcomes, kind in cases:
        data = fleet._pack([4, 2, 7][: len(outcomes)] + list(range(10, 10 + len(outcomes) - 3)), outcomes)
        assert data[:1] == kind
        taken, back = fleet._unpack(data)
        assert taken == [4, 2, 7][: len(outcomes)] + list(range(10, 10 + len(outcomes) - 3))
        assert fields(back) == fields(outcomes)
