"""Shared set-up for benchmarks that use the local WordPress test site (scripts/wordpress-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def site() -> dict:
    state = Path(os.environ.get("AIMO_WP_DIR") or REPO / ".wp")
    subprocess.run(["bash", str(REPO / "scripts" / "wordpress-up")], check=True, stdout=subprocess.DEVNULL, env={**os.environ, "AIMO_WP_DIR": str(state)})
    return json.loads((state / "site.json").read_text())


def isolated_env() -> dict:
    home = Path(tempfile.mkdtemp(prefix="aimo-bench-"))
    # PYTHONDONTWRITEBYTECODE is dropped: an installed aimo has its .pyc files; compiling every module on every run
    # would measure the compiler (the first run writes them)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for name, var in (("c", "XDG_CONFIG_HOME"), ("d", "XDG_DATA_HOME"), ("s", "XDG_STATE_HOME"), ("k", "XDG_CACHE_HOME")):
        (home / name).mkdir()
        env[var] = str(home / name)
    env["AIMO_KEYRING"] = "file"
    return env


def write_fleet(env: dict, info: dict, n: int) -> list[str]:
    """n site entries pointing at the local site, passwords in the file backend."""
    cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    names = [f"s{i:03d}" for i in range(n)]
    lines = []
    for name in names:
        lines += [f"[sites.{name}]", f'url = "{info["url"]}"', f'user = "{info["admin_user"]}"', 'group = "bench"', f'rest_root = "{info["url"]}/wp-json/"', ""]
    cfg.write_text("\n".join(lines))
    secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text(json.dumps({f"site/{n}": info["admin_app_password"] for n in names}))
    os.chmod(secrets, 0o600)
    return names


def aimo(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aimo_cli", *args], input=stdin, capture_output=True, text=True, env=env)
