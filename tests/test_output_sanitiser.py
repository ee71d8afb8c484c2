"""One output sanitiser (docs/security.md, "Terminal output"): hostile strings through every renderer stay inert text.

Hostile fragments: CSI sequences (clear screen, cursor report), OSC 8 hyperlinks, OSC 52 clipboard writes, BEL, the
one-byte C1 CSI U+009B, bidi overrides, carriage return, backspace, and Rich markup (`[link=…]`, `[/]`, `[bold]`).
Each renderer is driven on a terminal (a stream that says it is a TTY, so Rich draws with colours) and piped; the
invariants: nothing raises, no terminal-active character reaches the output (Rich's own colour codes aside), the text
is shown literally (markup is not interpreted), and `--json` / `--format yaml` are lossless.
"""

from __future__ import annotations

import io
import json
import os
import re
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimo_cli.core import checks as C
from aimo_cli.errors import AimoError
from aimo_cli.services import doctor_render, sync_render
from aimo_cli.services.doctor import DoctorReport
from aimo_cli.core.exits import ExitStatus
from aimo_cli.services.fleet import SiteOutcome
from aimo_cli.services.sync import ProviderResult, SiteSync
from aimo_cli.ui.formats import write_csv
from aimo_cli.ui.output import Output
from aimo_cli.ui.progress import provider_progress
from aimo_cli.ui.sanitize import plain

HOSTILE = [
    "\x1b[2J",
    "\x1b[6n",
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07",
    "[link=https://evil.example]x[/link]",
    "[/]",
    "[bold red]",
    "\x07",
    "\x9b2J",
    "\x9d8;;https://evil.example\x9c",
    "\u202e",
    "\u2066",
    "\r",
    "\x08",
    "\x00",
    "\x7f",
]
SAFE_CHARS = st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0x2FFF)
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(SAFE_CHARS, max_size=6)), min_size=1, max_size=5).map("".join)

_RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")  # Rich's own colour codes on a TTY
_RICH_CURSOR = re.compile(r"\x1b\[\??[0-9;]*[A-Za-z]|\r")  # Rich's live display (progress) moves the cursor
_ACTIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "3000")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


def inert(text: str, *, rich_live: bool = False) -> None:
    stripped = (_RICH_CURSOR if rich_live else _RICH_SGR).sub("", text)
    found = _ACTIVE.findall(stripped)
    assert not found, f"terminal-active characters reached the output: {found!r} in {text!r}"


def outputs(tty: bool):
    cls = TTY if tty else Pipe
    out, err = cls(), cls()
    return Output(out, err), out, err


class _Actx:
    def __init__(self, out):
        self.out = out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(s=hostile_text)
def test_every_renderer_shows_hostile_strings_as_inert_text(s):
    one_line, lines = plain(s), plain(s, keep_newlines=True)
    visible = one_line.strip()  # aligned text ends its lines without trailing blanks: a blank-only value shows as nothing
    for tty in (True, False):
        # messages, notes, warnings, errors and hints
        o, out, err = outputs(tty)
        o.line(s)
        o.info(s)
        o.warn(s)
        o.error(s, s)
        inert(out.getvalue() + err.getvalue())
        assert lines in out.getvalue() and err.getvalue().count(lines) >= 4
        # tables: Rich on a terminal, aligned text when piped
        o, out, _ = outputs(tty)
        o.table(["id", "name"], [[s, "x"], ["y", s]], title=s)
        inert(out.getvalue())
        assert visible in out.getvalue()
        # CSV (--format csv)
        o, out, _ = outputs(tty)
        write_csv(o, [{"id": s, "name": "x"}, {"id": "y", "name": s}])
        inert(out.getvalue())
        assert visible.replace('"', '""') in out.getvalue()  # CSV doubles quotes
        # the doctor report: a Rich tree on a terminal, grouped text when piped, quiet lines
        report = DoctorReport(checks=[C.check(s, C.FAIL, s, s, group=s), C.check("ok", C.OK, s)], notes=[s])
        for quiet in (False, True):
            o, out, err = outputs(tty)
            doctor_render.render(o, report, quiet=quiet)
            inert(out.getvalue() + err.getvalue())
            assert visible in out.getvalue()
        # sync results of one site and of a fleet
        res = SiteSync("blog", True, [ProviderResult("groq", s, "push", s, "stored")], competitor=s)
        o, out, err = outputs(tty)
        sync_render.render(_Actx(o), [SiteOutcome("blog", True, res), SiteOutcome("shop", False, None, s, s, ExitStatus.REMOTE)], title="sync")
        inert(out.getvalue() + err.getvalue())
        assert visible in out.getvalue()
        # the site report of `site add` / `site test`
        from aimo_cli.commands.site import _render_report
        from aimo_cli.services.sites import SiteReport

        o, out, err = outputs(tty)
        _render_report(_Actx(o), SiteReport("blog", "https://blog.example", [C.check("site.credentials", C.FAIL, s, s)]))
        inert(out.getvalue() + err.getvalue())
        assert visible in out.getvalue()
        # progress lines
        o, out, err = outputs(tty)
        with provider_progress(o, 3, s) as advance:
            if advance:
                advance(s)
                advance(s)
        inert(err.getvalue(), rich_live=True)
        for marker in ("\x1b]", "\x07", "\x9b", "\x9d", "\u202e", "\u2066"):
            assert marker not in err.getvalue()
    # --json stays lossless, and inert on a terminal
    o, out, _ = outputs(True)
    o.json({"id": s, "list": [s]})
    inert(out.getvalue())
    assert json.loads(out.getvalue()) == {"id": s, "list": [s]}
    # --format yaml too: the same value back, nothing active on a terminal
    o, out, _ = outputs(True)
    o.yaml({"id": s, "list": [s]})
    inert(out.getvalue())
    assert yaml.safe_load(out.getvalue()) == {"id": s, "list": [s]}


@settings(max_examples=40, deadline=None)
@given(s=hostile_text)
def test_errors_and_the_debug_log_are_inert(s):
    """The one error → exit-code mapping (app.run) and the --debug log print remote text too."""
    import contextlib

    from aimo_cli import app
    from aimo_cli.context import AppContext, Options

    err = io.StringIO()
    with mock.patch.object(app, "build_app", side_effect=AimoError(s, s)), contextlib.redirect_stderr(err):
        code = app.run(["keys", "list"])
    assert code == 1
    inert(err.getvalue())
    assert err.getvalue().count(plain(s, keep_newlines=True)) >= 2
    o, out, errs = outputs(True)
    AppContext(Options(debug=True), out=o).debug_log(s)
    inert(errs.getvalue())


def test_markup_in_a_table_cell_is_shown_literally_on_a_terminal():
    """Was: `[/]` in a model id raised MarkupError (exit 1); `[link=…]` became a real OSC 8 hyperlink."""
    o, out, _ = outputs(True)
    o.table(["model"], [["evil[/]model"], ["[link=https://evil.example]free credits[/link]"]])
    text = out.getvalue()
    assert "evil[/]model" in text and "[link=https://evil.example]free credits[/link]" in text
    assert "\x1b]8;" not in text


def test_escape_sequences_become_visible_escapes():
    assert plain("a\x1b[31mb\x07c\x9bd\u202ee\rf") == "a\\x1b[31mb\\x07c\\x9bd\\u202ee\\x0df"
    assert plain("line1\nline2\tx", keep_newlines=True) == "line1\nline2\tx"
    assert plain("line1\nline2") == "line1\\x0aline2"


def test_no_color_or_piped_output_does_not_pass_escapes_through(monkeypatch):
    """Was: with NO_COLOR or piped, ESC/OSC sequences in remote strings reached the terminal raw."""
    monkeypatch.setenv("NO_COLOR", "1")
    o, out, err = outputs(True)
    o.table(["model"], [["gpt\x1b]52;c;ZXZpbA==\x07"]])
    o.error("site said \x1b[2Jhi", "\x9b6n")
    inert(out.getvalue() + err.getvalue())
    assert "gpt\\x1b]52;c;ZXZpbA==\\x07" in out.getvalue()


def test_json_escapes_c1_and_bidi_losslessly():
    o, out, _ = outputs(True)
    o.json({"m": "a\x9bb\u202ec\x1b"})
    assert "\\u009b" in out.getvalue() and "\\u202e" in out.getvalue() and "\\u001b" in out.getvalue()
    assert json.loads(out.getvalue()) == {"m": "a\x9bb\u202ec\x1b"}



# -- end to end: a hostile provider catalogue, a hostile WordPress message ---------------------------------------------


def _run_on_tty(args: list[str]):
    """`aimo ARGS` in this process with stdout and stderr claiming to be a terminal (Rich draws)."""
    import contextlib

    from aimo_cli.app import run

    from .clihelper import CAPTURED, Result

    out, err = TTY(), TTY()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(args)
    result = Result(code, out.getvalue(), err.getvalue())
    CAPTURED.append((" ".join(args), result.text))
    return result


def test_models_list_with_markup_in_a_model_id_does_not_crash_on_a_terminal(fake_env, fake):
    """Was: a model id containing `[/]` crashed `aimo models list` with MarkupError (exit 1); `[link=…]` became a link."""
    from .clihelper import run_cli

    fake.models["openrouter"] += [("evil[/]model", "text", 8192), ("[link=https://evil.example]free[/link]", "text", 8192)]
    assert run_cli(["keys", "verify", "openrouter"]).code == 0
    r = _run_on_tty(["models", "list", "--provider", "openrouter"])
    assert r.code == 0, r.text
    assert "evil[/]model" in r.out and "[link=https://evil.example]free[/link]" in r.out
    assert "\x1b]8;" not in r.out
    inert(r.out + r.err)


def test_model_ids_with_escape_sequences_are_dropped_on_ingest(fake_env, fake):
    """Was: an id carrying an OSC 52 clipboard write reached the terminal (piped: raw) and the completion index."""
    from aimo_cli.catalog.cache import INDEX_NAME

    from .clihelper import run_cli
    from .fakeenv import context

    fake.models["openrouter"] += [("gpt\x1b]52;c;ZXZpbA==\x07x", "text", 8192), ("bidi\u202eledom", "text", 8192), ("ok/model", "text", 8192)]
    assert run_cli(["keys", "verify", "openrouter"]).code == 0
    for args in (["models", "list", "--provider", "openrouter"], ["models", "list", "--provider", "openrouter", "--json"]):
        r = run_cli(args)
        assert r.code == 0, r.text
        inert(r.out + r.err)
        assert "ok/model" in r.out and "ZXZpbA" not in r.out and "ledom" not in r.out
    index = (context().cache_dir / INDEX_NAME).read_text(encoding="utf-8")
    assert "openrouter:ok/model" in index and "ZXZpbA" not in index and "ledom" not in index
    inert(index.replace("\n", ""))


def test_a_hostile_wordpress_error_message_is_inert(monkeypatch):
    """Was: a site's error message with ESC/OSC sequences reached the terminal raw (errors, hints, tables)."""
    from pathlib import Path

    from aimo_cli.stores.secrets import MemoryBackend

    from .hostile import HostilePair

    evil = "\x1b]8;;https://evil.example\x1b\\update now\x1b]8;;\x1b\\ [link=https://evil.example]x[/link] \x1b[2J\x9b6n"
    with HostilePair() as pair:
        pair.a.route("GET", "/wp-json/wp/v2/settings", 500, {"code": "evil\x1b[2J", "message": evil})
        cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(f'default_site = "blog"\n\n[sites.blog]\nurl = "{pair.a.url}"\nuser = "admin"\n')
        MemoryBackend._data["site/blog"] = "Hstl Pass Word Abcd Efgh Ijkl"
        for tty in (True, False):
            if tty:
                r = _run_on_tty(["sync", "status"])
            else:
                from .clihelper import run_cli

                r = run_cli(["sync", "status"])
            assert r.code == 5, r.text
            inert(r.out + r.err)
            assert "\\x1b]8;;https://evil.example" in r.text and "[link=https://evil.example]x[/link]" in r.text


def test_shell_completion_never_offers_an_id_with_escape_sequences(tmp_path):
    """An index written by an older aimo (or planted) may hold hostile ids: completion skips those lines."""
    from aimo_cli import completion as comp

    index = tmp_path / "completion-models.txt"
    index.write_text("groq:ok\nopenrouter:gpt\x1b]52;c;ZXZpbA==\x07\nopenrouter:bidi\u202eledom\nopenrouter:c1\x9b6n\n", encoding="utf-8")
    assert comp.read_models(str(index)) == ["groq:ok"]
