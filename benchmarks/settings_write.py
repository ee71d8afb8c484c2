"""Writes to a big settings file: `aimo site add`, `site use` and `site rm` with 1,000 and 10,000 site entries in
aimo.toml vs the same command with one entry.

Goal (issue 17, a write costs about what a read costs): ≤ 1.3× with 1,000 entries and ≤ 2× with 10,000. Each entry
is its own WordPress (its own host, as in a real fleet; `site add` looks for other profiles of the same WordPress),
the file is what `site add` writes (url, user, group, rest_root, home). No site is contacted (`--no-verify`): the
figure is the settings file's cost, not a network's. Before every run the file (and the password store) is put back
as it was, outside the timing; the sizes are interleaved so each sees the same machine.

    .venv/bin/python benchmarks/settings_write.py [--sizes 1000,10000] [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _wp  # noqa: E402

GOALS = {1000: 1.3, 10000: 2.0}
PASSWORD = "bench bench bench bench bench bench"


def fleet(n: int) -> tuple[str, str]:
    """(aimo.toml, secrets.json) for n sites s0000…, each on its own host."""
    lines = ['default_site = "s0000"', ""]
    for i in range(n):
        name, url = f"s{i:04d}", f"https://s{i:04d}.clients.example"
        lines += [f"[sites.{name}]", f'url = "{url}"', 'user = "admin"', 'group = "fleet"', f'rest_root = "{url}/wp-json/"', f'home = "{url}"', ""]
    secrets = json.dumps({f"site/s{i:04d}": PASSWORD for i in range(n)})
    return "\n".join(lines), secrets


def commands(n: int) -> dict[str, tuple[list[str], str]]:
    """The commands timed in an n-entry file: `site use` and `site rm` name a site in the middle of the file (in the
    one-entry file, its only site), which is not the default site."""
    middle = [f"s{n // 2:04d}", f"s{n // 2 + 1:04d}"] if n > 1 else ["s0000", "s0000"]
    return {
        "site add": (["site", "add", "newsite", "https://newsite.example", "--user", "admin", "--no-verify", "--stdin"], "abcd efgh ijkl mnop"),
        "site use": (["site", "use", middle[0]], ""),
        "site rm": (["site", "rm", middle[1], "--yes"], ""),
    }


COMMANDS = list(commands(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    sizes = [1] + [int(s) for s in a.sizes.split(",")]
    envs = {}
    for n in sizes:
        env = _wp.isolated_env()
        cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
        secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
        cfg.parent.mkdir(parents=True)
        secrets.parent.mkdir(parents=True)
        envs[n] = (env, cfg, secrets, *fleet(n))
    samples: dict[tuple[str, int], list[float]] = {(c, n): [] for c in COMMANDS for n in sizes}
    for _ in range(a.runs):
        for command in COMMANDS:
            for n in sizes:
                argv, stdin = commands(n)[command]
                env, cfg, secrets, text, stored = envs[n]
                cfg.write_text(text)
                os.chmod(cfg, 0o600)
                secrets.write_text(stored)
                os.chmod(secrets, 0o600)
                t = time.perf_counter()
                proc = _wp.aimo(env, *argv, stdin=stdin)
                samples[(command, n)].append(time.perf_counter() - t)
                if proc.returncode != 0:
                    raise SystemExit(f"{' '.join(argv)} with {n} entries failed ({proc.returncode}): {proc.stderr[-500:]}")
    met = True
    print(f"median of {a.runs} runs each; ratio to the same command with 1 entry")
    for command in COMMANDS:
        one = statistics.median(samples[(command, 1)])
        row = [f"{command:9} 1: {one * 1000:4.0f} ms"]
        for n in sizes[1:]:
            many = statistics.median(samples[(command, n)])
            ratio = many / one
            goal = GOALS.get(n)
            met &= goal is None or ratio <= goal
            row.append(f"{n}: {many * 1000:4.0f} ms {ratio:.2f}x" + (f" (goal <= {goal}x)" if goal else ""))
        print("   ".join(row))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
