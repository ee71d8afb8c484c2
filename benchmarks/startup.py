#!/usr/bin/env python3
"""Start-up benchmark (docs/design.md §8): a TAB, `aimo --help` and `aimo keys list` as ratios to a bare `python -c pass`.

Every case runs as a fresh process through the installed console script (as a user's shell runs it), with
AIMO_KEYRING=file and temporary XDG folders. The cases are interleaved (bare, TAB, --help, keys list, bare, …) so that
noise from the machine hits them all alike, and the median of each is compared with the bare interpreter's median.

Usage: python benchmarks/startup.py [--runs N] [--json]     exit 1 when a case is over its budget.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUDGETS = {"TAB": 2.5, "--help": 12.0, "keys list": 15.0}


def _aimo() -> list[str]:
    """The console script next to this interpreter (a venv's bin/), else `python -m aimo_cli`."""
    script = os.path.join(os.path.dirname(sys.executable), "aimo")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "aimo_cli"]


def cases(aimo: list[str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    tab = {"_AIMO_COMPLETE": "bash", "_AIMO_COMP_LINE": "aimo keys set ", "_AIMO_COMP_WORDBREAKS": " \t\n\"'><=;|&(:"}
    return {
        "bare": ([sys.executable, "-c", "pass"], {}),
        "TAB": (aimo, tab),
        "--help": ([*aimo, "--help"], {}),
        "keys list": ([*aimo, "keys", "list"], {}),
    }


def measure(runs: int) -> dict[str, list[float]]:
    tmp = tempfile.mkdtemp(prefix="aimo-bench-")
    try:
        # PYTHONDONTWRITEBYTECODE is dropped: an installed aimo has its .pyc files, and compiling every module on every
        # run would measure the compiler, not the start-up (the warm-up run writes them).
        dropped = ("OLLAMA_HOST", "AIMO_CONFIG", "AIMO_DEBUG", "PYTHONDONTWRITEBYTECODE")
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k not in dropped}
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[var] = os.path.join(tmp, var.lower())
            os.makedirs(env[var])
        env["AIMO_KEYRING"] = "file"
        todo = cases(_aimo())
        times: dict[str, list[float]] = {name: [] for name in todo}
        for name, (argv, extra) in todo.items():  # warm the OS caches and .pyc files; check every case works
            proc = subprocess.run(argv, env={**env, **extra}, capture_output=True)
            if proc.returncode != 0:
                raise SystemExit(f"{name}: {' '.join(argv)} exited {proc.returncode}:\n{proc.stderr.decode()}")
        for _ in range(runs):
            for name, (argv, extra) in todo.items():
                full = {**env, **extra}
                start = time.perf_counter()
                subprocess.run(argv, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times[name].append(time.perf_counter() - start)
        return times
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(times: dict[str, list[float]]) -> tuple[list[dict], bool]:
    bare = statistics.median(times["bare"])
    rows, ok = [], True
    for name, samples in times.items():
        med = statistics.median(samples)
        ratio = med / bare
        budget = BUDGETS.get(name)
        within = budget is None or ratio <= budget
        ok &= within
        rows.append({"case": name, "median_ms": round(med * 1000, 1), "ratio": round(ratio, 2), "budget": budget, "ok": within})
    return rows, ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=25, help="runs of each case (at least 20 for the budget check)")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = ap.parse_args(argv)
    rows, ok = report(measure(args.runs))
    if args.json:
        print(json.dumps({"runs": args.runs, "rows": rows, "ok": ok}, indent=1))
    else:
        print(f"{'case':<10} {'median ms':>10} {'× bare':>8} {'budget':>8}   ({args.runs} interleaved runs each)")
        for r in rows:
            budget = f"≤ {r['budget']:g}×" if r["budget"] else ""
            print(f"{r['case']:<10} {r['median_ms']:>10.1f} {r['ratio']:>8.2f} {budget:>8}   {'' if r['ok'] else 'OVER BUDGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
