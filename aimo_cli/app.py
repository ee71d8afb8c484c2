"""The root Typer app and the one place where errors become exit codes."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from . import __version__
from .context import AppContext, Dependencies, Options
from .errors import AimoError, ExitCode, ExitStatus, exit_code

HELP = """aimo manages the AI side of WordPress 7: provider keys, Settings → Connectors, model preferences.

Exit codes: 0 ok, 1 unexpected, 2 usage, 3 configuration, 4 authentication, 5 remote, 6 refused by a safety rule,
7 drift or failed checks, 130 interrupted. With several sites or checks the most severe wins (usage, configuration,
authentication, refused, remote, unexpected, then drift): an auth failure on one site is never hidden behind drift.
"""


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"aimo {__version__}\n")
        raise typer.Exit(0)


# The top-level commands in registration order (the order `--help` falls back on; commands/_cli.py's ORDER sorts them).
COMMANDS = ("keys", "site", "models", "ask", "connectors", "mode", "sync", "completion", "bridge", "doctor", "log", "report")

# Root options that take a value (the value is not a command name).
_VALUE_OPTIONS = ("--config", "--ca-bundle", "--timeout")


def build_app(only: str | None = None) -> typer.Typer:
    """The root app. `only`: register just that top-level command (the one being run): Typer turns every registered
    command into a Click command (inspecting each signature) and each command module is imported, ~30 ms for the whole
    tree that a command never needs. Help, completion and docs build the whole tree (only=None)."""
    from .commands._cli import AimoTyper

    app = AimoTyper(
        name="aimo",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        config: Optional[str] = typer.Option(None, "--config", help="Settings file (default: $AIMO_CONFIG or ~/.config/aimo/aimo.toml).", metavar="FILE"),
        debug: bool = typer.Option(False, "--debug", help="Log requests (secrets redacted) and show tracebacks."),
        ca_bundle: Optional[str] = typer.Option(None, "--ca-bundle", help="Trust this CA bundle for TLS (verification stays on).", metavar="FILE"),
        timeout: Optional[float] = typer.Option(
            None, "--timeout", help="Seconds to wait for each WordPress answer (default: $AIMO_HTTP_TIMEOUT, else 15).", metavar="SECONDS", min=0.1, max=3600
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only results and errors."),
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ) -> None:
        deps = ctx.obj if isinstance(ctx.obj, Dependencies) else None  # injected by run(deps=…)
        ctx.obj = AppContext(Options(config=config, debug=debug, ca_bundle=ca_bundle, quiet=quiet, timeout=timeout), deps=deps)

    for name in COMMANDS if only is None else (only,):
        _REGISTER[name](app)
    return app


def _keys(app) -> None:
    from .commands import keys

    app.add_typer(keys.app, name="keys")


def _site(app) -> None:
    from .commands import site

    app.add_typer(site.app, name="site")


def _models(app) -> None:
    from .commands import models

    app.add_typer(models.app, name="models")


def _ask(app) -> None:
    from .commands import ask

    app.command("ask", short_help="Send one prompt to a model and print the answer.")(ask.ask)


def _connectors(app) -> None:
    from .commands import connectors as connectors_cmd

    app.add_typer(connectors_cmd.app, name="connectors")


def _mode(app) -> None:
    from .commands import mode as mode_cmd

    app.command("mode", short_help="Show or switch the bridge's mode on a site.")(mode_cmd.mode)


def _sync(app) -> None:
    from .commands import sync as sync_cmd

    app.add_typer(sync_cmd.app, name="sync")


def _completion(app) -> None:
    from .commands import completion as completion_cmd

    app.add_typer(completion_cmd.app, name="completion")


def _bridge(app) -> None:
    from .commands import bridge as bridge_cmd

    app.add_typer(bridge_cmd.app, name="bridge")


def _doctor(app) -> None:
    from .commands import doctor as doctor_cmd

    app.command("doctor", short_help="Check the whole setup; exit 7 when a check fails.")(doctor_cmd.doctor)


def _log(app) -> None:
    from .commands import log as log_cmd

    app.command("log", short_help="Who changed which key, when: sites' logs and aimo's own.")(log_cmd.log)


def _report(app) -> None:
    from .commands import report as report_cmd

    app.add_typer(report_cmd.app, name="report")


_REGISTER = {
    "keys": _keys, "site": _site, "models": _models, "ask": _ask, "connectors": _connectors, "mode": _mode, "sync": _sync,
    "completion": _completion, "bridge": _bridge, "doctor": _doctor, "log": _log, "report": _report,
}


def invoked_command(args: list[str]) -> str | None:
    """The top-level command `args` run (`aimo --quiet doctor …` → "doctor"), or None when the whole tree is needed:
    root help or --version before any command, no command, or a word that is no command (Click's own error, with its
    suggestions, needs every name)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return None
        if arg in _VALUE_OPTIONS:
            i += 2
            continue
        if arg.startswith("-"):
            if arg in ("-h", "--help", "--version"):
                return None
            i += 1
            continue
        return arg if arg in _REGISTER else None
    return None


def _hoist_debug(args: list[str]) -> list[str]:
    """`aimo sync push --debug` means the global --debug: move it to the front (never past a `--`)."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" in args[1:end]:
        args = ["--debug"] + [a for i, a in enumerate(args) if not (a == "--debug" and i < end)]
    return args


def run(argv: list[str] | None = None, *, deps: Dependencies | None = None) -> int:
    """Run the CLI; return the exit code. No traceback escapes unless --debug. `deps` injects the environment, the
    clock or an httpx transport into the command's AppContext (tests, embedding programs)."""
    from .redact import redact as _redact
    from .ui.sanitize import plain

    def redact(text: str) -> str:  # errors carry site and provider strings: inert on the terminal (docs/security.md)
        return plain(_redact(text), keep_newlines=True)

    from .ui import glyphs

    glyphs.install()  # an ASCII or Latin-1 terminal gets `****` and `->`, not a UnicodeEncodeError
    args = _hoist_debug(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args or os.environ.get("AIMO_DEBUG") == "1"
    try:
        from typer._click.exceptions import ClickException, UsageError  # Typer 0.28 vendors Click

        app = build_app(invoked_command(args))
        try:
            result = app(args=args, prog_name="aimo", standalone_mode=False, obj=deps)
        except typer.Exit as exc:
            if int(exc.exit_code) == int(ExitCode.INTERRUPTED):  # Typer's translation of KeyboardInterrupt
                _interrupted()
            return int(exc.exit_code)
        except SystemExit as exc:
            # Click answers EPIPE with sys.exit(1); a closed pipe is not an error of ours.
            if isinstance(exc.__context__, BrokenPipeError):
                broken_pipe()
            raise
        except typer.Abort:
            _interrupted()
            return int(exit_code(ExitStatus.INTERRUPTED))
        except ClickException as exc:
            exc.show()
            status = ExitStatus.USAGE if isinstance(exc, UsageError) else ExitStatus.UNEXPECTED
            where = getattr(exc, "ctx", None)
            _error_document(args, exc.format_message(), f"See {where.command_path} --help." if where is not None else None, status)
            return int(exit_code(status))
        if result == int(ExitCode.INTERRUPTED):  # Typer returns its translation of KeyboardInterrupt here
            _interrupted()
        return int(result) if isinstance(result, int) else 0
    except AimoError as exc:
        sys.stderr.write("Error: " + redact(exc.message) + "\n")
        if exc.hint:
            sys.stderr.write("Hint: " + redact(exc.hint) + "\n")
        if debug:
            _traceback(redact)
        _error_document(args, exc.message, exc.hint, exc.exit_status)
        return int(exit_code(exc.exit_status))
    except KeyboardInterrupt:
        _interrupted()
        return int(exit_code(ExitStatus.INTERRUPTED))
    except BrokenPipeError:
        broken_pipe()
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        sys.stderr.write(f"Error: unexpected {type(exc).__name__}: {redact(str(exc))}\n")
        if debug:
            _traceback(redact)
        else:
            sys.stderr.write("Hint: rerun with --debug for a traceback, and report it if it persists.\n")
        _error_document(args, f"unexpected {type(exc).__name__}: {exc}", "Rerun with --debug for a traceback, and report it if it persists.", ExitStatus.UNEXPECTED)
        return int(exit_code(ExitStatus.UNEXPECTED))


def _error_document(args: list[str], message: str, hint: str | None, status: ExitStatus) -> None:
    """Under --json / --format json|yaml an error is a document on stdout too (docs/json.md), same exit code."""
    from .ui.formats import error_document, requested

    fmt = requested(args)
    if fmt is None:
        return
    from .ui.output import Output

    out = Output()
    doc = error_document(message, hint, int(exit_code(status)), status.value)
    try:
        out.json(doc) if fmt == "json" else out.yaml(doc)
        out.stdout.flush()
    except BrokenPipeError:
        broken_pipe()


def _interrupted() -> None:
    from .inflight import interrupt_report

    sys.stderr.write("\n" + interrupt_report())


def broken_pipe() -> None:
    """The reader of our output went away (`aimo … | head`): end quietly, as any Unix filter does.

    Die by SIGPIPE (the shell sees 141, the conventional status) rather than exit 1, which means "unexpected";
    stdout is pointed at /dev/null first so the interpreter's final flush cannot complain on stderr.
    """
    import signal

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(141)


def _traceback(redact) -> None:
    import traceback

    sys.stderr.write(redact(traceback.format_exc()))
