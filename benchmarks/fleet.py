"""Fleet throughput: `aimo sync status --all --json` over N site entries vs `aimo sync status ONE --json`.

Goals: issue 17, 1,000 sites at --jobs 32 against the stub ≤ 2.5x one site (`--target stub --sites 1000 --jobs 32`);
earlier, issues 6 and 9: 200 entries at --jobs 16 ≤ 3x one site against the local WordPress, 500 at --jobs 32
without errors and with bounded memory (peak RSS reported). The figure is the median of --runs, the fleet run and
the one-site run interleaved so both see the same machine; the script says PASS or FAIL against its target's goal
and exits 1 on FAIL.

    .venv/bin/python benchmarks/fleet.py [--sites 200] [--jobs 16] [--runs 3] [--target wordpress|stub]

`--target wordpress` (default) points every entry at the one local WordPress (php -S, 4 workers, on the same 2
cores): the server is then the bottleneck, not aimo. `--target stub` gives every site its own origin on a tiny
asyncio stub (tests/fleetstub.py: one loopback address per site, 127.77.x.y, so no connection can be shared between
two sites, as between real hosts) that answers the bridge's status route at once: it measures aimo's own fleet cost.
The stub runs in this process, on the same cores as aimo (real sites are other machines): its CPU per site is
reported apart, with aimo's (the fleet run's CPU, worker processes included, per site).
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

GOALS = {"stub": 2.5, "wordpress": 3.0}


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


def stub_fleet(n: int) -> dict:
    """n sites, each on its own origin of the stub (left running until the benchmark exits), each with its own
    application password (as real sites: aimo registers every one for redaction), in the file backend. No WordPress
    needed: the stub takes any user and password."""
    sys.path.insert(0, str(_wp.REPO))
    from tests.fleetstub import StubSites, fleet_toml

    stub = StubSites(hosts=n)
    env = _wp.isolated_env()
    names = [f"s{i:03d}" for i in range(n)]
    cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(fleet_toml(stub.url, names, origins=stub.origins))
    secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(17)
    alphabet = string.ascii_letters + string.digits
    passwords = {f"site/{name}": " ".join("".join(rnd.choice(alphabet) for _ in range(4)) for _ in range(6)) for name in names}
    secrets.write_text(json.dumps(passwords))
    os.chmod(secrets, 0o600)
    return env


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--target", choices=("wordpress", "stub"), default="wordpress")
    a = ap.parse_args()
    if a.target == "stub":
        env = stub_fleet(a.sites)
    else:
        env = _wp.isolated_env()
        _wp.write_fleet(env, _wp.site(), a.sites)
    one, many, one_cpu, many_cpu, stub_cpu, rss = [], [], [], [], [], 0
    for _ in range(a.runs):  # interleaved, so both see the same machine state
        t, _data, _peak, cpu, _own = timed(env, ["sync", "status", "s000", "--json"])
        one.append(t)
        one_cpu.append(cpu)
        t, data, peak, cpu, own = timed(env, ["sync", "status", "--all", "--jobs", str(a.jobs), "--json"])
        assert len(data["sites"]) == a.sites
        many.append(t)
        many_cpu.append(cpu)
        stub_cpu.append(own)
        rss = max(rss, peak)
    m1, mn = statistics.median(one), statistics.median(many)
    c1, cn = statistics.median(one_cpu), statistics.median(many_cpu)
    ratio, goal = mn / m1, GOALS[a.target]
    print(f"target:              {a.target}")
    print(f"one site:            {m1:.3f} s (median of {a.runs}; runs {', '.join(f'{x:.3f}' for x in one)}), {c1:.3f} s CPU")
    print(f"{a.sites} sites, --jobs {a.jobs}: {mn:.3f} s (median of {a.runs}; runs {', '.join(f'{x:.3f}' for x in many)}), {cn:.3f} s CPU")
    print(f"aimo CPU per site:   {cn / a.sites * 1000:.2f} ms ({(cn - c1) / (a.sites - 1) * 1000:.2f} ms beyond the one-site run), worker processes included")
    if a.target == "stub":
        print(f"stub CPU per site:   {statistics.median(stub_cpu) / a.sites * 1000:.2f} ms (this process while the fleet ran: the stub, and reading aimo's output)")
    print(f"peak RSS (children): {rss / 1024:.1f} MiB")
    print(f"ratio:               {ratio:.2f}x")
    ok = ratio <= goal
    print(f"{'PASS' if ok else 'FAIL'}: {a.sites} sites at --jobs {a.jobs} take {ratio:.2f}x one site (goal <= {goal}x against the {a.target})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
