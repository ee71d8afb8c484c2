"""Run the aimo CLI in-process with captured streams, and remember every output for the secret scan."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass

CAPTURED: list[tuple[str, str]] = []  # (test label, text): scanned for secrets at session end


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class _Stdin(io.StringIO):
    def __init__(self, text: str, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def run_cli(args: list[str], stdin: str = "", *, label: str = "", deps=None) -> Result:
    """Invoke `aimo ARGS` in this process through the real entry point's run() (error mapping included). `deps`
    (aimo_cli.context.Dependencies) injects an httpx transport, a clock or an environment into the command."""
    from aimo_cli.app import run

    out, err = io.StringIO(), io.StringIO()
    old_in = sys.stdin
    sys.stdin = _Stdin(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run([str(a) for a in args], deps=deps)
    finally:
        sys.stdin = old_in
    result = Result(code, out.getvalue(), err.getvalue())
    CAPTURED.append((label or " ".join(map(str, args)), result.text))
    return result


def run_aimo(args: list[str], stdin: str = "", *, env: dict | None = None, timeout: float = 120, label: str = "") -> Result:
    """Invoke the installed entry point in a subprocess (real process, real exit code)."""
    import os
    import subprocess

    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "aimo_cli", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    CAPTURED.append((label or "subprocess: " + " ".join(map(str, args)), result.text))
    return result
