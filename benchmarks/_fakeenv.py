"""Shared set-up for the benchmarks: the fake providers and an isolated aimo environment (temporary XDG dirs)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakeprovider import MANIFEST, PROVIDERS, FakeProviders  # noqa: E402


def aimo_env(fake: FakeProviders) -> dict[str, str]:
    root = Path(tempfile.mkdtemp(prefix="aimo-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # an installed aimo has its .pyc files
    for name, var in (("config", "XDG_CONFIG_HOME"), ("data", "XDG_DATA_HOME"), ("state", "XDG_STATE_HOME"), ("cache", "XDG_CACHE_HOME")):
        (root / name).mkdir()
        env[var] = str(root / name)
    (root / "config" / "aimo").mkdir()
    (root / "config" / "aimo" / "aimo.toml").write_text(fake.settings_toml())
    env["AIMO_KEYRING"] = "file"
    env["AIMO_BACKGROUND_REFRESH"] = "0"
    for p in PROVIDERS:
        info = MANIFEST[p]
        env[info.env_var] = fake.base_url(p) if info.credential == "url" else fake.make_valid_key(p)
    return env


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed


def medians(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    """Run the commands side by side (interleaved), `runs` times each; return the median seconds of each."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, env))
    return {name: statistics.median(vals) for name, vals in samples.items()}
