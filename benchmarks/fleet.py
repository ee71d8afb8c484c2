"""Fleet throughput: `aimo sync status --all --json` over N site entries vs `aimo sync status ONE --json`.

Goals: issue 17, 1,000 sites at --jobs 32 against the stub ≤ 2.5x one site (`--target stub --sites 1000 --jobs 32`);
against the local WordPress (issues 6 and 9: 200 entries at --jobs 16, 500 at --jobs 32 without errors and with bounded
memory, peak RSS reported), 200 sites at --jobs 16 ≤ 1.3x the floor (below). Every figure is the median of --runs,
the runs interleaved so all see the same machine; the script says PASS or FAIL against its target's goal and exits 1
on FAIL.

    .venv/bin/python benchmarks/fleet.py [--sites 200] [--jobs 16] [--runs 5|3] [--target wordpress|stub] [--status minimal|real]

`--target wordpress` (default) points every entry at the one local WordPress (php -S, 4 workers, and MariaDB, on the
same 2 cores as aimo), with this tree's bridge installed and active (what a managed fleet runs: one GET of the bridge's
status route per site; without the bridge aimo reads two, the route's 404 and /wp/v2/settings, and the figure would
depend on what ran on the site before). The server is the bottleneck: each request costs WordPress's own bootstrap,
25-30 ms of server CPU, so 200 of them need >= 200 x 25 ms / 2 cores = 2.5 s whoever sends them, ~10-12x one
site's whole run: issues 6 and 9's goal, 3x one site, cannot be met by any client. That ratio is still printed, as
information, with the bound worked out from the server CPU measured in the same run (php -S's processes and MariaDB,
from /proc). The goal measures aimo instead: each run also times the FLOOR, the same 200 authenticated GETs of the
status route sent by a minimal client (stdlib http.client in --jobs threads, aimo's request headers, a NEW connection
per site as distinct hosts need, every body read in full and checked), and aimo's 200 sites must take ≤ 1.3x it
(the median of each run's ratio, the floor first every other run; 5 runs by default, 3 for the stub). On a quiet
machine aimo takes ~1.1-1.2x the floor: its start before the first request (~0.25 s, the server idle meanwhile) and
its own CPU (~0.5 s for 200 sites) on the cores PHP needs. Single runs' ratios spread up to ±0.3 even then, so the goal
leaves 0.1-0.2x for noise; a second request per site, or a stall of a second, fails it (the stub target measures aimo's
own cost per site finely; this one that nothing on its way to a real server adds to the server's time). Every site's
JSON row must say it was read through the bridge with one request, else the run stops (the floor would not be the
same work). The CPU of every other process on the machine meanwhile is printed, and a note when it is not near 0:
such a figure measures the neighbours too.

`--target stub` gives every site its own origin on a tiny
asyncio stub (tests/fleetstub.py: one loopback address per site, 127.77.x.y, so no connection can be shared between
two sites, as between real hosts) that answers the bridge's status route at once: it measures aimo's own fleet cost.
The stub runs in this process, on the same cores as aimo (real sites are other machines): its CPU per site is
reported apart, with aimo's (the fleet run's CPU, worker processes included, per site).

`--status minimal` (default; the issue's figure) has the stub answer its own small document (~1 KB, no key anywhere,
the same for every site). `--status real` has every site answer its own copy of a real bridge's status document (23 KB,
benchmarks/data/bridge-status.json) with its own keys, most in sync with the local store's nine, some drift: what a
managed fleet answers, to see how much of the figure the small document flatters.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _wp  # noqa: E402

GOALS = {"stub": 2.5, "wordpress": 1.3}  # stub: x one site; wordpress: x the floor (see the docstring)


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def timed(env, args) -> tuple[float, dict, int, float, float]:
    """(wall seconds, the JSON document, peak RSS of the children, aimo's CPU seconds, this process's CPU seconds
    meanwhile: the stub's, plus reading aimo's output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    c0, s0 = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
    t = time.perf_counter()
    proc = _wp.aimo(env, *args)
    elapsed = time.perf_counter() - t
    cpu, own = _cpu(resource.RUSAGE_CHILDREN) - c0, _cpu(resource.RUSAGE_SELF) - s0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    errors = [s for s in data.get("sites", []) if s.get("error")]
    if errors or proc.returncode not in (0, 7):
        raise SystemExit(f"run failed (exit {proc.returncode}): {errors[:3] or proc.stderr[-500:]}")
    return elapsed, data, max(peak, before), cpu, own


def server_pids(state_dir: str) -> list[int]:
    """The local site's server processes: php -S (its master and the workers it forked) and MariaDB."""
    run = Path(state_dir) / "run"
    master = int((run / "php.pid").read_text().split()[0])
    pids = [master, int((run / "mariadbd.pid").read_text().split()[0])]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return pids


def server_cpu(pids: list[int]) -> float:
    """CPU seconds the server processes have used so far (user + system, from /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: the stat file's fields 14 and 15
    return total / os.sysconf("SC_CLK_TCK")


def busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process: /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait (guest is in user)


def floor(info: dict, route: str, n: int, jobs: int) -> tuple[float, float]:
    """What the server alone needs for the fleet's requests: n authenticated GETs of `route` (the one request aimo's
    `sync status` makes per site), `jobs` at a time, each on a NEW connection (n sites are n hosts: no connection
    can be shared between two), every answer read in full and checked (200, a JSON object), by a minimal client
    (stdlib http.client in `jobs` threads, aimo's request headers). (wall seconds, this process's CPU seconds)."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    from aimo_cli.wordpress.client import _basic_auth
    from aimo_cli.wordpress.client import _version as aimo_version

    url = urlsplit(info["url"])
    path = url.path.rstrip("/") + "/wp-json/" + route
    headers = {"User-Agent": f"aimo/{aimo_version()}", "Accept": "application/json", "Accept-Encoding": "gzip, deflate",
               "Authorization": _basic_auth(info["admin_user"], info["admin_app_password"])}
    sites = iter(range(n))
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                if next(sites, None) is None:
                    return
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or not body.startswith(b"{"):
                    failures.append(f"{resp.status} {body[:200]!r}")
            except OSError as e:
                failures.append(repr(e))
            finally:
                conn.close()

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    s0 = _cpu(resource.RUSAGE_SELF)
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if failures:
        raise SystemExit(f"floor client: {len(failures)} of {n} requests failed: {failures[:3]}")
    return elapsed, _cpu(resource.RUSAGE_SELF) - s0


def stub_fleet(n: int, status: str = "minimal") -> dict:
    """n sites, each on its own origin of the stub (left running until the benchmark exits), each with its own
    application password (as real sites: aimo registers every one for redaction), in the file backend. No WordPress
    needed: the stub takes any user and password. `status`: minimal (the stub's own small document: no keys anywhere)
    or real (a real bridge document per site, and local keys: real_documents)."""
    sys.path.insert(0, str(_wp.REPO))
    from tests.fleetstub import StubSites, fleet_toml

    rnd = random.Random(17)
    alphabet = string.ascii_letters + string.digits
    keys = {p: f"bench-{p}-" + "".join(rnd.choice(alphabet) for _ in range(40)) for p in keyed()} if status == "real" else {}
    if keys:
        stub = StubSites(hosts=n, documents=real_documents(keys))
    else:
        stub = StubSites(hosts=n)
    env = _wp.isolated_env()
    names = [f"s{i:03d}" for i in range(n)]
    cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(fleet_toml(stub.url, names, origins=stub.origins))
    secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    passwords = {f"site/{name}": " ".join("".join(rnd.choice(alphabet) for _ in range(4)) for _ in range(6)) for name in names}
    secrets.write_text(json.dumps({**passwords, **{f"provider/{p}": key for p, key in keys.items()}}))
    os.chmod(secrets, 0o600)
    return env


DOCUMENT = Path(__file__).resolve().parent / "data" / "bridge-status.json"


def keyed() -> list[str]:
    """The providers whose credential is a key (Ollama's is its server URL: left empty on both sides here)."""
    from aimo_cli.core.providers import PROVIDER_IDS, PROVIDERS

    return [p for p in PROVIDER_IDS if PROVIDERS[p].credential != "url"]


def real_documents(keys: dict[str, str]):
    """Host i's status document: the real bridge's answer in benchmarks/data/bridge-status.json (23 KB: every field,
    a full change log; captured from the test site in managed mode with nine keys set, bridge 0.1.0 on WordPress
    7.1.4; its keys blanked), with each site's own address (home, site_id), WordPress version and keys: most in sync
    with the local ones, a site here and there holding another key (drift) or none (to push), as in a fleet aimo has
    been managing."""
    from aimo_cli.core.secrets import fingerprint

    base = json.loads(DOCUMENT.read_text())
    ids = keyed()

    def document(i: int) -> dict:
        doc = json.loads(json.dumps(base))
        doc["home"] = doc["site_id"] = f"http://127.77.{i // 250 + 1}.{i % 250 + 1}"  # the stub's address for host i
        doc["wordpress_version"] = ("7.1.4", "7.1.3", "7.0.2")[i % 3]
        if doc.get("change_log"):
            doc["change_log"][0]["time"] = f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
        for c in doc["connectors"]:
            j = ids.index(c["id"]) if c["id"] in ids else -1
            if j < 0 or (2 * i + j) % 17 == 0:
                continue  # none on the site
            value = keys[c["id"]] if (i + 3 * j) % 13 else f"another-{c['id']}-key-{i:05d}"
            c.update(key_source="database", fingerprint=fingerprint(value), mask_tail=value[-4:])
        return doc

    return document


ROUTE = "aimo/v1/status"  # what `sync status` reads per site with the bridge (services/sync.py read_remote)


def low_run(info: dict, pids: list[int], a, low: list, low_cpu: list, server_low: list, others: list) -> None:
    """One run of the floor: its wall and CPU seconds, the server's CPU seconds meanwhile and everything else's,
    appended."""
    s0, b0 = server_cpu(pids), busy()
    t, cpu = floor(info, ROUTE, a.sites, a.jobs)
    server = server_cpu(pids) - s0
    others.append(busy() - b0 - server - cpu)
    server_low.append(server)
    low.append(t)
    low_cpu.append(cpu)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--runs", type=int, help="runs to take the medians of (default 3; 5 against the wordpress, whose runs vary more)")
    ap.add_argument("--target", choices=("wordpress", "stub"), default="wordpress")
    ap.add_argument("--status", choices=("minimal", "real"), default="minimal", help="the stub's answers (see stub_fleet)")
    a = ap.parse_args()
    wp = a.target == "wordpress"
    a.runs = a.runs or (5 if wp else 3)
    if wp:
        env, info = _wp.isolated_env(), _wp.site()
        _wp.bridge_active(info)
        _wp.write_fleet(env, info, a.sites)
        pids = server_pids(info["state_dir"])
    else:
        env = stub_fleet(a.sites, a.status)
    one, many, one_cpu, many_cpu, stub_cpu, rss = [], [], [], [], [], 0
    low, low_cpu, server_many, server_low = [], [], [], []  # the floor (wordpress target), the server's CPU in both
    others_many, others_low = [], []  # the CPU of every other process on the machine meanwhile (wordpress target)
    for run in range(a.runs):  # interleaved, so all see the same machine state
        t, _data, _peak, cpu, _own = timed(env, ["sync", "status", "s000", "--json"])
        one.append(t)
        one_cpu.append(cpu)
        if wp and run % 2:  # the floor first every other run: neither always follows the other
            low_run(info, pids, a, low, low_cpu, server_low, others_low)
        s0, b0 = (server_cpu(pids), busy()) if wp else (0.0, 0.0)
        t, data, peak, cpu, own = timed(env, ["sync", "status", "--all", "--jobs", str(a.jobs), "--json"])
        assert len(data["sites"]) == a.sites
        many.append(t)
        many_cpu.append(cpu)
        stub_cpu.append(own)
        rss = max(rss, peak)
        if wp:
            server_many.append(server_cpu(pids) - s0)
            others_many.append(busy() - b0 - server_many[-1] - cpu - own)
            odd = [s for s in data["sites"] if not s.get("via_bridge") or s.get("requests") != 1]
            if odd:  # the floor sends one GET of the status route per site: it must be what aimo sent
                raise SystemExit(f"{len(odd)} sites were not read with one request of the bridge's status route: {odd[0]['site']}: "
                                 f"via_bridge {odd[0].get('via_bridge')}, {odd[0].get('requests')} requests")
            if not run % 2:
                low_run(info, pids, a, low, low_cpu, server_low, others_low)
    m1, mn = statistics.median(one), statistics.median(many)
    c1, cn = statistics.median(one_cpu), statistics.median(many_cpu)
    ratio = mn / m1
    runs = lambda xs: f"median of {a.runs}; runs {', '.join(f'{x:.3f}' for x in xs)}"  # noqa: E731
    if wp:
        print(f"target:              wordpress (the one local site, php -S with {len(pids) - 2} workers, and MariaDB, on the same "
              f"{os.cpu_count()} cores as aimo; the bridge active: one GET of /wp-json/{ROUTE} per site)")
    else:
        print(f"target:              {a.target} ({a.status} status documents)")
    print(f"one site:            {m1:.3f} s ({runs(one)}), {c1:.3f} s CPU")
    print(f"{a.sites} sites, --jobs {a.jobs}: {mn:.3f} s ({runs(many)}), {cn:.3f} s CPU")
    if wp:
        ml = statistics.median(low)
        print(f"floor, {a.sites} sites:    {ml:.3f} s ({runs(low)}), {statistics.median(low_cpu):.3f} s CPU: the same {a.sites} GETs, "
              f"{a.jobs} at a time, a new connection each, by a minimal client (stdlib http.client in threads)")
    print(f"aimo CPU per site:   {cn / a.sites * 1000:.2f} ms ({(cn - c1) / (a.sites - 1) * 1000:.2f} ms beyond the one-site run), worker processes included")
    if not wp:
        print(f"stub CPU per site:   {statistics.median(stub_cpu) / a.sites * 1000:.2f} ms (this process while the fleet ran: the stub, and reading aimo's output)")
    print(f"peak RSS (children): {rss / 1024:.1f} MiB")
    if not wp:
        ok = ratio <= GOALS["stub"]
        print(f"ratio:               {ratio:.2f}x")
        print(f"{'PASS' if ok else 'FAIL'}: {a.sites} sites at --jobs {a.jobs} take {ratio:.2f}x one site (goal <= {GOALS['stub']}x against the stub)")
        return 0 if ok else 1
    per = statistics.median(server_low) / a.sites
    cores = os.cpu_count() or 1
    bound = a.sites * per / cores
    pairs = [x / y for x, y in zip(many, low)]  # each run's fleet over the same run's floor: a slow spell of the
    over, goal = statistics.median(pairs), GOALS["wordpress"]  # machine slows both, so pairs vary less than medians
    print(f"server CPU/request:  {per * 1000:.1f} ms (php -S workers and MariaDB, over the floor's runs; over aimo's: "
          f"{statistics.median(server_many) / a.sites * 1000:.1f} ms)")
    print(f"other processes:     {statistics.median(others_many):.2f} s CPU while aimo's fleet ran, {statistics.median(others_low):.2f} s while "
          f"the floor ran (medians; anything else on the machine: near 0 when it is quiet)")
    if statistics.median(others_many + others_low) > 0.2:  # ~0.01 s on a quiet machine
        print("note:                the machine was busy with other work meanwhile: these figures are slower and noisier than aimo and "
              "the site alone give; not ones to quote")
    print(f"ratio to the floor:  {over:.2f}x (median of each run's ratio: {', '.join(f'{x:.2f}' for x in pairs)}; of the medians "
          f"{mn / ml:.2f}x): aimo's cost over the server's own work")
    print(f"ratio to one site:   {ratio:.2f}x (information; issues 6 and 9 asked 3x: server-bound, see the next line)")
    print(f"server-bound:        {a.sites} requests x {per * 1000:.1f} ms of server CPU / {cores} cores >= {bound:.2f} s, "
          f"{bound / m1:.1f}x one site for any client")
    ok = over <= goal
    print(f"{'PASS' if ok else 'FAIL'}: {a.sites} sites at --jobs {a.jobs} take {over:.2f}x the floor (goal <= {goal}x against the wordpress)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
