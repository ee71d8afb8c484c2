"""`aimo models refresh` of every provider in the manifest, each answering after 300 ms, as a ratio to refreshing one.

Concurrent fetching should keep the ratio near 1 (goal <= 1.5x). Run: .venv/bin/python benchmarks/models_refresh.py
"""

from __future__ import annotations

import sys

from _fakeenv import PROVIDERS, FakeProviders, aimo_env, medians

RUNS = 7
GOAL = 1.5


def main() -> int:
    with FakeProviders() as fake:
        for p in PROVIDERS:
            fake.delay(p, 0.3)
        env = aimo_env(fake)
        aimo = [sys.executable, "-m", "aimo_cli", "--quiet", "models", "refresh"]
        m = medians({"one": aimo + ["groq"], "all": aimo}, env, RUNS)
    ratio = m["all"] / m["one"]
    print(f"models refresh: 1 provider {m['one'] * 1000:.0f} ms, {len(PROVIDERS)} providers {m['all'] * 1000:.0f} ms (medians of {RUNS}); ratio {ratio:.2f}x (goal <= {GOAL}x)")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
