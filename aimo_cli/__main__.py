"""Entry point. Shell completion is answered here, before Typer is imported (see completion.py)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if "_AIMO_COMPLETE" in os.environ:  # a TAB: answer from the generated tree, nothing heavy (docs/design.md §8)
        from .completion import main as complete

        sys.exit(complete())

    _install_interrupt_handler()
    try:
        from .app import broken_pipe, run
    except KeyboardInterrupt:  # Ctrl-C while still starting up
        from .core.exits import ExitStatus, exit_code

        sys.stderr.write("\nInterrupted.\n")
        sys.exit(int(exit_code(ExitStatus.INTERRUPTED)))

    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        broken_pipe()
    _leave(code)


def _leave(code: int) -> None:
    """Exit with `code` without tearing the interpreter down.

    Freeing every module and object of a process that is about to end takes ~40 ms once httpx, Typer and aimo's
    modules are loaded (a bare interpreter: ~1 ms), as long as a small command's own work. When no other thread is
    running, the exit handlers run (atexit, as sys.exit runs them), both streams are flushed and the process ends
    there; every file aimo writes is closed (or atomically replaced) before this point. With a thread still running,
    sys.exit waits for it as usual."""
    import threading

    if threading.active_count() > 1:
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        from .app import broken_pipe

        broken_pipe()
    os._exit(code)


def _install_interrupt_handler() -> None:
    """Ctrl-C: stop at once, even with worker threads waiting on the network.

    With only the main thread running, Ctrl-C unwinds normally (a hidden prompt restores the terminal, Typer turns
    it into exit 130 and app.run prints "Interrupted."). With workers busy (fleet, doctor, keys verify), unwinding
    would wait for every request in flight, seconds each: say so, name any write already sent, and exit 130 now.
    Nothing is left half-written: the settings and secret files are replaced atomically.
    """
    import signal

    def handler(signum, frame):  # noqa: ARG001 - the signal API's signature
        import threading

        from . import inflight

        inflight.interrupted()
        if threading.active_count() <= 1:
            raise KeyboardInterrupt
        try:
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
        try:
            sys.stderr.write("\n" + inflight.interrupt_report())
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        from .core.exits import ExitStatus, exit_code

        os._exit(int(exit_code(ExitStatus.INTERRUPTED)))

    try:
        signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):  # not the main thread, or no signals here
        pass


if __name__ == "__main__":
    main()
