"""The session-wide secret scan really fails a run that prints a test key (proved in a child pytest run)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(tmp_path, body: str) -> subprocess.CompletedProcess:
    pkg = tmp_path / "leakcheck"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "conftest.py").write_text("from tests.conftest import *  # noqa: F401,F403\n")
    (pkg / "test_inner.py").write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(pkg)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_a_printed_key_fails_the_run(tmp_path):
    proc = _child(
        tmp_path,
        """
        from tests.secrets_registry import make_key
        def test_prints():
            print("oops", make_key())
        """,
    )
    assert proc.returncode != 0
    assert "SECRET LEAK SCAN FAILED" in proc.stderr


def test_a_key_in_cli_output_fails_the_run(tmp_path):
    proc = _child(
        tmp_path,
        """
        import pytest
        from tests.clihelper import run_cli
        from tests.secrets_registry import make_key
        def test_reveal_unmarked():
            k = make_key()
            run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
            assert run_cli(["keys", "get", "groq", "--reveal"]).out.strip() == k
        """,
    )
    assert proc.returncode != 0 and "SECRET LEAK SCAN FAILED" in proc.stderr


def test_clean_run_passes(tmp_path):
    proc = _child(
        tmp_path,
        """
        from tests.clihelper import run_cli
        from tests.secrets_registry import make_key
        def test_masked():
            k = make_key()
            run_cli(["keys", "set", "groq", "--stdin", "--no-verify"], stdin=k)
            assert k not in run_cli(["keys", "list"]).out
        """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
