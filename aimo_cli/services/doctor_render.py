"""Rendering of a doctor report: a Rich tree on a TTY, grouped plain text when piped, JSON, JUnit XML, quiet mode."""

from __future__ import annotations

from ..core import checks as C
from ..redact import redact

_MARK = {C.OK: "ok", C.WARN: "warn", C.FAIL: "FAIL", C.SKIP: "skip"}
_STYLE = {C.OK: "green", C.WARN: "yellow", C.FAIL: "bold red", C.SKIP: "dim"}
_ICON = {C.OK: "✓", C.WARN: "!", C.FAIL: "✗", C.SKIP: "-"}


def _groups(checks):
    groups: dict[str, list] = {}
    for c in checks:
        groups.setdefault(c.group, []).append(c)
    return groups


def summary_line(report) -> str:
    n = C.counts(report.checks)
    strict = " (--strict: warnings fail)" if report.strict else ""
    return f"{n['ok']} ok, {n['warn']} warning(s), {n['fail']} failed, {n['skip']} skipped{strict}: exit {report.exit_code}"


def write_junit(report, path: str) -> None:
    from pathlib import Path

    from ..errors import ConfigError
    from ..stores.fileio import atomic_write

    try:
        atomic_write(Path(path), redact(C.to_junit(report.checks, strict=report.strict)), private_dir=False)
    except OSError as exc:
        raise ConfigError(f"cannot write the JUnit report to {path}: {exc.strerror or exc}", "Give a path in a folder that exists and that you can write to.") from None


def stopped(actx, exc: BaseException, *, strict: bool = False):
    """The report of a doctor run that could not go on: what stopped it is its one failed check (`doctor.run`), with
    that failure's exit class, so the exit code stays the failure's own. Said on stderr as an error too."""
    from ..errors import AimoError, ExitStatus
    from .doctor import DoctorReport

    if isinstance(exc, AimoError):
        message, hint, status = exc.message, exc.hint, exc.exit_status
    else:
        message, hint, status = f"unexpected {type(exc).__name__}: {exc}", "Rerun with --debug for a traceback, and report it if it persists.", ExitStatus.UNEXPECTED
        if actx.options.debug:
            import traceback

            actx.out.stderr.write(redact("".join(traceback.format_exception(exc))))
    actx.out.error(message, hint)
    report = DoctorReport(strict=strict)
    report.checks.append(C.check("doctor.run", C.FAIL, f"the doctor stopped: {message}", hint, group="local", exit_class=status))
    report.notes.append("The doctor stopped before its checks ran; fix the failure above and run it again.")
    return report


def render(out, report, *, fmt: str = "auto", quiet: bool = False) -> None:
    """The report in `fmt` (ui/formats.py: json, yaml, csv — one row per check), else a tree / plain text."""
    if fmt != "auto":
        from ..ui.formats import emit

        data = report.as_dict()
        emit(out, fmt, data, rows=data["checks"])
        return
    if quiet:
        for c in report.checks:
            if c.fails(report.strict):
                out.line(f"{c.group}: {c.id}: {_MARK[c.status]}: {_one_line(c.message)}" + (f" (hint: {_one_line(c.hint)})" if c.hint else ""))
        return
    if out.rich_ok:
        _rich(out, report)
    else:
        _plain(out, report)
    for note in report.notes:
        out.info(note)


def _one_line(text: str) -> str:
    from ..ui.sanitize import plain

    return plain(redact(text))


def _plain(out, report) -> None:
    for group, items in _groups(report.checks).items():
        out.line(_one_line(group))
        for c in items:
            out.line(f"  {_MARK[c.status]:<4}  {_one_line(c.id)}: {_one_line(c.message)}")
            if c.hint and c.status in (C.WARN, C.FAIL):
                out.line(f"        hint: {_one_line(c.hint)}")
    out.line(summary_line(report))


def _rich(out, report) -> None:
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    from ..ui.sanitize import plain

    # Text objects only: check messages carry site, plugin and provider strings, never read as Rich markup
    tree = Tree(Text("aimo doctor", style="bold"))
    for group, items in _groups(report.checks).items():
        worst = C.FAIL if any(c.status == C.FAIL for c in items) else C.WARN if any(c.status == C.WARN for c in items) else C.OK
        branch = tree.add(Text(plain(group), style=_STYLE[worst]))
        for c in items:
            leaf = branch.add(Text.assemble((f"{_ICON[c.status]} {plain(c.id)}", _STYLE[c.status]), " ", plain(redact(c.message))))
            if c.hint and c.status in (C.WARN, C.FAIL):
                leaf.add(Text.assemble(("hint:", "cyan"), " ", plain(redact(c.hint))))
    console = Console(file=out.stdout)
    console.print(tree)
    console.print(Text(summary_line(report)))
