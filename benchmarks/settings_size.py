"""A one-site command in a big settings file: `aimo sync status s000 --json` with 1,000 site entries vs with one.

Goal (issue 17, item 4): ≤ 1.2× with 1,000 entries. Every entry points at a stub site that answers the bridge's
status route at once (tests/fleetstub.py), so the ratio shows what the size of the file costs, not WordPress.

    .venv/bin/python benchmarks/settings_size.py [--entries 1000] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _wp  # noqa: E402

sys.path.insert(0, str(_wp.REPO))
from tests.fleetstub import StubSites  # noqa: E402

GOAL = 1.2


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    stub = StubSites()  # left running until the benchmark exits
    info = {"url": stub.url, "admin_user": "admin", "admin_app_password": "bench bench bench bench bench bench"}
    small, big = _wp.isolated_env(), _wp.isolated_env()
    _wp.write_fleet(small, info, 1)
    _wp.write_fleet(big, info, a.entries)
    samples: dict[str, list[float]] = {"one": [], "many": []}
    for _ in range(a.runs):  # interleaved, so both see the same machine state
        for name, env in (("one", small), ("many", big)):
            t = time.perf_counter()
            proc = _wp.aimo(env, "sync", "status", "s000", "--json")
            samples[name].append(time.perf_counter() - t)
            if proc.returncode not in (0, 7):
                raise SystemExit(f"sync status failed ({proc.returncode}): {proc.stderr[-500:]}")
    one, many = statistics.median(samples["one"]), statistics.median(samples["many"])
    ratio = many / one
    print(f"one-site command, 1 entry:        {one * 1000:.0f} ms (median of {a.runs})")
    print(f"one-site command, {a.entries} entries: {many * 1000:.0f} ms (median of {a.runs})")
    print(f"ratio: {ratio:.2f}x (goal <= {GOAL}x)")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
