"""Fleet throughput: `aimo sync status` over N site entries (all pointing at the local WordPress) vs one site.

Goals (issues 6 and 9): 200 entries at --jobs 16 ≤ 3× one site; 500 entries at --jobs 32 finish without errors,
with bounded memory (peak RSS reported).

    .venv/bin/python benchmarks/fleet.py [--sites 200] [--jobs 16] [--runs 3] [--target wordpress|stub]

`--target wordpress` (default) points every entry at the one local WordPress (php -S, 4 workers, on the same 2
cores): the server is then the bottleneck, not aimo. `--target stub` points them at a tiny threaded stub that
answers the bridge's status route at once, which measures aimo's own fleet overhead.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import _wp  # noqa: E402


def timed(env, args) -> tuple[float, dict, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = _wp.aimo(env, *args)
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    errors = [s for s in data.get("sites", []) if s.get("error")]
    if errors or proc.returncode not in (0, 7):
        raise SystemExit(f"run failed (exit {proc.returncode}): {errors[:3] or proc.stderr[-500:]}")
    return elapsed, data, max(peak, before)


def start_stub(info: dict) -> str:
    """A stub 'site' answering the bridge's status route with a managed, empty status (no WordPress behind it): the
    tests' fleet stub (tests/fleetstub.py), left running until the benchmark exits."""
    sys.path.insert(0, str(_wp.REPO))
    from tests.fleetstub import StubSites

    return StubSites().url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--target", choices=("wordpress", "stub"), default="wordpress")
    a = ap.parse_args()
    if a.target == "stub":  # no WordPress needed: the stub takes any user and password
        info = {"admin_user": "admin", "admin_app_password": "stub stub stub stub stub stub"}
        info["url"] = start_stub(info)
    else:
        info = _wp.site()
    env = _wp.isolated_env()
    _wp.write_fleet(env, info, a.sites)
    one, many, rss = [], [], 0
    for _ in range(a.runs):  # interleaved, so both see the same machine state
        one.append(timed(env, ["sync", "status", "s000", "--json"])[0])
        t, data, peak = timed(env, ["sync", "status", "--all", "--jobs", str(a.jobs), "--json"])
        assert len(data["sites"]) == a.sites
        many.append(t)
        rss = max(rss, peak)
    m1, mn = statistics.median(one), statistics.median(many)
    print(f"target:              {a.target}")
    print(f"one site:            {m1:.3f} s (median of {a.runs})")
    print(f"{a.sites} sites, --jobs {a.jobs}: {mn:.3f} s (median of {a.runs})")
    print(f"ratio:               {mn / m1:.2f}x")
    print(f"peak RSS (children): {rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
