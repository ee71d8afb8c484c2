"""Warm `aimo models list` (cache filled, providers verified) as a ratio to a bare `python -c pass`.

Medians of >= 20 runs, interleaved side by side (goal <= 15x). Run: .venv/bin/python benchmarks/models_list.py
"""

from __future__ import annotations

import subprocess
import sys

from _fakeenv import FakeProviders, aimo_env, medians

RUNS = 21
GOAL = 15.0


def main() -> int:
    with FakeProviders() as fake:
        env = aimo_env(fake)
        aimo = [sys.executable, "-m", "aimo_cli"]
        subprocess.run(aimo + ["keys", "verify"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(aimo + ["models", "refresh"], env=env, check=True, stdout=subprocess.DEVNULL)
        fake.clear()
        m = medians({"bare": [sys.executable, "-c", "pass"], "list": aimo + ["models", "list"]}, env, RUNS)
        assert not fake.requests, "a warm list must not touch the network"
    ratio = m["list"] / m["bare"]
    print(f"models list (warm): {m['list'] * 1000:.1f} ms vs bare python {m['bare'] * 1000:.1f} ms (medians of {RUNS}); ratio {ratio:.1f}x (goal <= {GOAL:.0f}x)")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
