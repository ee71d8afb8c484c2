"""A fleet past one machine: 10,000 stub sites in 10 shards (`--shard K/10`), each shard as one CI machine would run
it, against one machine running a 1,000-site fleet. With one machine per shard the fleet is done when the slowest
shard is: goal, that shard ≈ the 1,000-site run (≤ 1.3×), although every shard reads the 10,000-entry settings file
and hashes every site name to find its share.

What the figure means on this 2-core machine: ten shards at once would share two cores (and the one stub), so they
would measure the cores, not aimo. The shards run one after another instead, each timed as the one job on its CI
machine, and the ratio is per shard: the slowest shard's time over one machine's 1,000 sites. The CPU time of each
(user + system, which the load of a shared machine does not inflate the way it inflates wall time) is reported too;
the CPU ratio is the steadier figure of what a shard costs more than a plain 1,000-site run. Each time is the median of
--runs runs (5 by default): the slowest of ten medians is pulled up by the machine's noise more than one median is, the
more so the fewer the runs.
Every site has its own origin (its own loopback address) on one stub that answers the bridge's status route at once
(tests/fleetstub.py), and its own application password, as in benchmarks/fleet.py; the one-machine run is the first
1,000 of the same sites.

    .venv/bin/python benchmarks/shards.py [--sites 10000] [--shards 10] [--jobs 32] [--runs 5]
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

sys.path.insert(0, str(_wp.REPO))
from tests.fleetstub import StubSites, fleet_toml  # noqa: E402

GOAL = 1.3


def fleet_env(url: str, names: list[str], origins: list[str], passwords: dict[str, str]) -> dict:
    env = _wp.isolated_env()
    cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(fleet_toml(url, names, origins=origins))
    secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets.parent.mkdir(parents=True)
    secrets.write_text(json.dumps({f"site/{n}": passwords[n] for n in names}))
    os.chmod(secrets, 0o600)
    return env


def timed(env: dict, *args: str) -> tuple[float, int, float]:
    """(wall seconds, sites reported, CPU seconds of the aimo process)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = _wp.aimo(env, *args)
    elapsed = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    if proc.returncode not in (0, 7) or any(s.get("error") for s in data.get("sites", [])):
        raise SystemExit(f"aimo {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed, len(data.get("sites", [])), r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--shards", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=32)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    names = [f"client-{i:05d}" for i in range(a.sites)]
    per = a.sites // a.shards
    rnd = random.Random(17)
    alphabet = string.ascii_letters + string.digits
    passwords = {n: " ".join("".join(rnd.choice(alphabet) for _ in range(4)) for _ in range(6)) for n in names}  # one each
    with StubSites(hosts=a.sites) as stub:  # every site on its own origin, as distinct hosts are
        one_env = fleet_env(stub.url, names[:per], stub.origins[:per], passwords)
        all_env = fleet_env(stub.url, names, stub.origins, passwords)
        one, one_cpu = [], []
        shard_times: dict[int, list[float]] = {k: [] for k in range(1, a.shards + 1)}
        shard_cpu: dict[int, list[float]] = {k: [] for k in range(1, a.shards + 1)}
        counts: dict[int, int] = {}
        for _ in range(a.runs):  # interleaved
            t, _n, c = timed(one_env, "sync", "status", "--all", "--jobs", str(a.jobs), "--json")
            one.append(t)
            one_cpu.append(c)
            for k in range(1, a.shards + 1):
                t, n, c = timed(all_env, "sync", "status", "--all", "--shard", f"{k}/{a.shards}", "--jobs", str(a.jobs), "--json")
                shard_times[k].append(t)
                shard_cpu[k].append(c)
                counts[k] = n
    assert sum(counts.values()) == a.sites, counts
    m_one, c_one = statistics.median(one), statistics.median(one_cpu)
    per_shard = {k: statistics.median(v) for k, v in shard_times.items()}
    per_cpu = {k: statistics.median(v) for k, v in shard_cpu.items()}
    slowest, slowest_cpu = max(per_shard.values()), max(per_cpu.values())
    worst = max(per_shard, key=per_shard.get)
    print(f"one machine, {per} sites:              {m_one:.2f} s, {c_one:.2f} s CPU (median of {a.runs})")
    print(f"{a.sites} sites in {a.shards} shards: sites per shard {min(counts.values())}-{max(counts.values())}; "
          f"shard times {min(per_shard.values()):.2f}-{slowest:.2f} s, CPU {min(per_cpu.values()):.2f}-{slowest_cpu:.2f} s")
    print(f"the slowest shard: {worst}/{a.shards}, {counts[worst]} sites, {per_shard[worst]:.2f} s, {per_cpu[worst]:.2f} s CPU")
    print(f"the fleet on {a.shards} machines is done in {slowest:.2f} s: {slowest / m_one:.2f}x one machine's {per} sites (goal <= {GOAL}x); "
          f"CPU of the costliest shard {slowest_cpu / c_one:.2f}x; one machine alone would take ~{sum(per_shard.values()):.1f} s")
    return 0 if slowest / m_one <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
