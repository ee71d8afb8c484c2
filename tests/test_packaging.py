"""The built wheel carries everything a non-editable install needs: the bridge plugin, catalog data, the command tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from aimo_cli.core.providers import PROVIDER_IDS
REPO = Path(__file__).resolve().parent.parent


def test_wheel_contents_and_an_installed_copy_works(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("aimo-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    plugin = {p.relative_to(REPO).as_posix() for p in (REPO / "aimo_cli" / "bridge").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert plugin and plugin <= names, sorted(plugin - names)
    data = {p.relative_to(REPO).as_posix() for p in (REPO / "aimo_cli" / "catalog" / "data").glob("*.json")}
    assert data == {f"aimo_cli/catalog/data/{p}.json" for p in PROVIDER_IDS} and data <= names  # one curated file per provider
    assert "aimo_cli/providers/manifest.json" in names
    assert "aimo_cli/completion_tree.json" in names
    assert not any(n.startswith("tests/") for n in names)

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "AIMO_KEYRING": "memory", "XDG_CONFIG_HOME": str(tmp_path / "c")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "aimo_cli", *a], capture_output=True, text=True, env=env, cwd=tmp_path)  # noqa: E731
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == "aimo 0.1.0"
    where = subprocess.run([sys.executable, "-c", "import aimo_cli; print(aimo_cli.__file__)"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(target))  # the installed copy, not the checkout
    zipped = run("bridge", "zip", "-o", str(tmp_path / "b.zip"))
    assert zipped.returncode == 0, zipped.stderr
    assert "aimo-bridge/aimo-bridge.php" in zipfile.ZipFile(tmp_path / "b.zip").namelist()
    models = run("models", "show", "groq:openai/gpt-oss-120b", "--json")
    assert models.returncode == 0, models.stderr  # curated catalog data found in the installed package
