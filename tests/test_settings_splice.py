"""Issue 17: a write to a big settings file costs about a read (stores/settings.py, "the write path on a big file").
tomlkit edits a copy of the file shrunk to the sites the edit names, and the result is spliced back; these tests check
that it writes exactly the bytes the full tomlkit round trip writes (hence the same document, comments and formatting),
with the same errors, on generated files (comments, odd spacing, quoted names, CRLF, no final newline, tables between
and around the sites), and that it is really taken for such files; the cost is benchmarks/settings_write.py's job."""

from __future__ import annotations

import os
import stat
import string
import subprocess
import sys
import textwrap
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from aimo_cli.errors import AimoError, ConfigError
from aimo_cli.stores import settings as settings_mod

from .test_settings_scan import runs
from .test_settings_writer import site_op


# -- generated files ----------------------------------------------------------------------------------------------------

SITE_NAMES = ["a", "b", "shop", "eu-1", "x_y", "9", "client-00042", "shop.eu", "new"]
FILLER = [f"n{i}" for i in range(12)]  # more sites: runs of sections the edit does not touch (placeholders)
SPACES = st.sampled_from(["", " ", "  ", "\t"])
COMMENTS = st.sampled_from(["", " # note", "  #", "\t# é [x] = \"y\""])


def quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def header(draw, name: str) -> str:
    bare = all(c in string.ascii_letters + string.digits + "-_" for c in name)
    form = draw(st.sampled_from(["bare", "basic", "literal"] if bare else ["basic", "literal"]))
    key = {"bare": name, "basic": quoted(name), "literal": f"'{name}'"}[form]
    return f"[sites.{key}]" + draw(COMMENTS)


@st.composite
def key_line(draw, key: str, value: str) -> str:
    style = draw(st.sampled_from(["basic", "basic", "literal", "quoted-key"]))
    rendered = f"'{value}'" if style == "literal" else quoted(value)
    k = quoted(key) if style == "quoted-key" else key
    return draw(SPACES) + k + draw(SPACES) + "=" + draw(SPACES) + rendered + draw(COMMENTS)


@st.composite
def site_section(draw, name: str) -> list[str]:
    lines = [draw(header(name))]
    if draw(st.integers(0, 4)) == 0:
        lines.insert(0, f"# {name}")  # a comment right above the header (tomlkit gives it to the section before)
    body = [draw(key_line("url", f"https://{name}.example")), draw(key_line("user", "admin"))]
    if draw(st.booleans()):
        body.append(draw(key_line("group", draw(st.sampled_from(["prod", "eu", "a b"])))))
    if draw(st.integers(0, 3)) == 0:
        body.append(draw(st.sampled_from(["allow_insecure_http = true", "n = 3", "tags = [\"a\", 'b']", "x = { a = 1 }"])))
    if draw(st.integers(0, 3)) == 0:
        body.insert(draw(st.integers(0, len(body))), draw(st.sampled_from(["# inside", "", "   "])))
    lines += body
    lines += draw(st.sampled_from([[""], [""], [], ["", ""], ["# after " + name], ["# after", ""]]))
    return lines


OTHER_TABLES = [
    ["[providers.groq]", 'base_url = "https://gw.example/groq"  # gateway', ""],
    ["[wordpress.models]", 'text = "groq:llama"', ""],
    ["[providers.anthropic]", "no_sampling_prefixes = [", '  "claude-opus",', "]", ""],
    ["# the end"],
]


@st.composite
def settings_files(draw) -> str:
    names = draw(st.lists(st.sampled_from(SITE_NAMES[:-1] + FILLER), min_size=0, max_size=16, unique=True))
    head = draw(st.sampled_from([[], ["# my fleet", ""], ["# my fleet"], [""]]))
    default = draw(st.sampled_from([None, *names[:2], "gone"]))
    if default is not None:
        head.append(draw(SPACES) + f"default_site{draw(SPACES)}={draw(SPACES)}{quoted(default)}" + draw(COMMENTS))
        head += draw(st.sampled_from([[""], [], ["", ""]]))
    blocks: list[list[str]] = [draw(site_section(n)) for n in names]
    for table in draw(st.lists(st.sampled_from(range(len(OTHER_TABLES))), unique=True, max_size=3)):
        # before or after the sites, now and then between them (then the edit is made on the whole file)
        at = draw(st.sampled_from([0, len(blocks), len(blocks), None]))
        blocks.insert(draw(st.integers(0, len(blocks))) if at is None else at, OTHER_TABLES[table])
    text = "\n".join(head + [line for block in blocks for line in block])
    ending = draw(st.sampled_from(["", "\n", "\n", "\n\n", "   ", "\n\t"]))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    return (text + ending).replace("\n", newline)


OPS = ["add", "add-default", "replace", "rm", "use", "models-set", "models-clear"]


def apply(op: str, name: str, config: Path) -> None:
    """One write, as the commands make it (services/sites.py, the `models set` edit)."""
    from aimo_cli.context import AppContext, Options
    from aimo_cli.stores.settings import delete_in, set_in

    ctx = AppContext(Options(config=str(config)))
    if op in ("add", "add-default"):
        site_op(ctx, "add", name, group="g1", make_default=op == "add-default")
    elif not op.startswith("models"):
        site_op(ctx, op, name)
    else:
        ctx.settings()  # as `models set` does, the edit after a read
        with ctx.settings_store.edit(scope=(("wordpress", "models", "text"),)) as s:
            if op == "models-set":
                set_in(s.doc, ("wordpress", "models", "text"), "openai:gpt-5")
            else:
                delete_in(s.doc, ("wordpress", "models", "text"))


def outcome(data: bytes, op: str, name: str, *, spliced: bool) -> tuple[str, object, bytes]:
    """("ok" | "error", the error's message, the file after) of one write, with or without the splice."""
    with tempfile.TemporaryDirectory() as d:
        config = Path(d) / "aimo.toml"
        config.write_bytes(data)
        env = {"XDG_DATA_HOME": d, "XDG_STATE_HOME": d, "XDG_CACHE_HOME": d, "AIMO_KEYRING": "file"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        real, real_finish = settings_mod._splice_start, settings_mod._splice_finish
        if not spliced:
            settings_mod._splice_start = lambda *a: None
        else:
            settings_mod._splice_start = lambda *a: PATH.append("shrunk" if (got := real(*a)) is not None else "whole file") or got
            settings_mod._splice_finish = lambda s, shrunk, scope: PATH.append(
                ("spliced" if (got := real_finish(s, shrunk, scope)) is not None else "not proven") + (" (placeholders)" if shrunk.holders else "")
            ) or got
        try:
            apply(op, name, config)
            result: tuple[str, object] = ("ok", None)
        except AimoError as exc:
            result = ("error", exc.message.replace(d, "DIR"))
        finally:
            settings_mod._splice_start, settings_mod._splice_finish = real, real_finish
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        after = config.read_bytes()
        if result[0] == "ok":
            assert stat.S_IMODE(config.stat().st_mode) == 0o600
        return result[0], result[1], after


PATH: list[str] = []  # the path each spliced=True write took


def same_as_the_full_round_trip(data: bytes, op: str, name: str, *, in_hypothesis: bool = False) -> None:
    PATH.clear()
    fast = outcome(data, op, name, spliced=True)
    if in_hypothesis:
        event(" ".join(PATH) or "no edit")
    full = outcome(data, op, name, spliced=False)
    assert fast[:2] == full[:2], (data, op, name)
    if fast[0] == "ok":
        assert fast[2] == full[2], f"{op} {name}\n{data.decode()}\n--- spliced\n{fast[2].decode()}\n--- tomlkit\n{full[2].decode()}"
        tomllib.loads(fast[2].decode())
    else:
        assert fast[2] == data == full[2]  # a refused write leaves the file as it was


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settings_files(), st.sampled_from(OPS), st.sampled_from(SITE_NAMES))
@example('default_site = "a"\n\n[sites.a]\nurl = "u"\nuser = "x"\n\n[sites.b]\nurl = "u"\nuser = "x"\n\n[providers.groq]\nx = 1\n', "add", "new")
@example('[sites.a]\nurl = "u"\nuser = "x"\n\n# b\n[sites.b]  # hm\nurl = "u"\nuser = "x"\n# after b\n\n[sites.c]\nurl = "u"\nuser = "x"', "replace", "b")
@example('# top\n\n[sites.a]\nurl = "u"\nuser = "x"\n', "use", "a")
@example('[sites.a]\nurl = "u"\nuser = "x"\n\n[sites."é"]\nurl = "u"\nuser = "x"\n', "rm", "a")  # not for the scan: the whole file
@example('default_site = "a"\r\n\r\n[sites.a]\r\nurl = "u"\r\nuser = "x"\r\n', "rm", "a")
@example('# b\n[sites.b]\nurl="https://b.example"\nuser="admin"\n   ', "add", "a")  # tomlkit indents the new header
def test_a_spliced_write_is_the_full_round_trips_write(text, op, name):
    for taken in (False, True):  # (the scan with and without its one-call read of runs of sections as aimo writes them)
        with runs(taken):
            same_as_the_full_round_trip(text.encode("utf-8"), op, name, in_hypothesis=True)


def fleet(n: int, *, comments: bool = False) -> str:
    out = ['default_site = "s0000"', ""]
    for i in range(n):
        if comments and i % 7 == 0:
            out.append(f"# client {i}")
        out += [f"[sites.s{i:04d}]" + ("  # hand-written" if comments and i % 5 == 0 else ""), f'url = "https://s{i:04d}.example"', 'user = "admin"', 'group = "fleet"', ""]
    out += ["[providers.groq]", 'base_url = "https://gw.example/groq"', ""]
    return "\n".join(out)


@pytest.mark.parametrize("op,name", [("add", "new"), ("add-default", "new"), ("replace", "s0100"), ("rm", "s0100"), ("rm", "s0000"),
                                     ("rm", "s0299"), ("use", "s0200"), ("models-set", ""), ("add", "s0005"), ("rm", "nope"), ("use", "nope")])
@pytest.mark.parametrize("scan", ["small", "big", "runs"])
def test_the_splice_is_taken_for_a_fleet_and_writes_the_same(monkeypatch, op, name, scan):
    """The test above would pass if the splice never answered: in a fleet file it must, and tomlkit must then have
    been given a few sections, not the whole file (the file scanned as a small one, as a big one, and with runs of
    sections as aimo writes them read in one call: the fleet has hand-written sections among them)."""
    if scan == "big":
        monkeypatch.setattr(settings_mod, "_BIG", -1)
    monkeypatch.setattr(settings_mod, "_RUNS_FROM", 0 if scan == "runs" else float("inf"))
    data = fleet(300, comments=True).encode()
    taken, sizes = [], []
    real_finish, real_parse = settings_mod._splice_finish, settings_mod._parse
    monkeypatch.setattr(settings_mod, "_splice_finish", lambda *a: taken.append(real_finish(*a)) or taken[-1])
    monkeypatch.setattr(settings_mod, "_parse", lambda path, text: sizes.append(len(text)) or real_parse(path, text))
    same_as_the_full_round_trip(data, op, name)
    taken.clear(), sizes.clear()
    if outcome(data, op, name, spliced=True)[0] == "ok":
        assert taken and all(t is not None for t in taken), "the splice was not proven"
        assert sizes and max(sizes) < len(data) / 20  # tomlkit parsed the shrunk copy only
    else:
        assert (op, name) in (("add", "s0005"), ("rm", "nope"), ("use", "nope"))


def test_a_splice_the_scan_cannot_read_is_proven_by_tomllib_on_the_whole_file(monkeypatch):
    """tomlkit may render what the scan steps aside for (a file ending in spaces: it indents the new header): the
    spliced text is then proven as the full round trip proves its own, and is the same bytes."""
    data = (fleet(40).split("[providers.groq]")[0].rstrip("\n") + "\n   ").encode()  # the sites last, then spaces
    proofs = []
    real = settings_mod._parses_to
    monkeypatch.setattr(settings_mod, "_parses_to", lambda text, expected: proofs.append(len(text)) or real(text, expected))
    same_as_the_full_round_trip(data, "add", "new")
    assert b'group = "fleet"\n   [sites.new]' in outcome(data, "add", "new", spliced=True)[2]
    assert proofs and min(proofs) > len(data)  # the splice's own proof (the full round trip's is on the same text)


def test_a_splice_that_cannot_be_proven_is_made_on_the_whole_file(monkeypatch):
    """When the spliced text cannot be proven at all, the edit is made on the whole file instead."""
    data = fleet(40).encode()
    monkeypatch.setattr(settings_mod._Shrunk, "render", lambda self, rendered, expected, scope: None)
    monkeypatch.setattr(settings_mod._Shrunk, "assemble", lambda self, rendered: None)
    ok, _, after = outcome(data, "add", "new", spliced=True)
    assert ok == "ok"
    doc = tomllib.loads(after.decode())
    before = tomllib.loads(data.decode())
    assert doc["sites"]["new"] == {"url": "https://new.example", "user": "carol", "group": "g1"}
    del doc["sites"]["new"]
    assert doc == before


def test_a_spliced_text_that_says_something_else_is_never_written(tmp_path, monkeypatch):
    """The proof is the scan of the new text: a render that lost or changed a site fails it."""
    data = fleet(40).encode()
    text = data.decode()
    index = settings_mod._scan(text)[2]
    shrunk = settings_mod._Shrunk(text, index, (("sites", "s0010"), ("default_site",)))
    import tomlkit

    doc = tomlkit.parse(shrunk.mini)
    rendered = tomlkit.dumps(doc)
    expected = doc.unwrap()
    assert shrunk.render(rendered, expected, ()) == text  # untouched: the same file
    assert shrunk.render(rendered.replace('url = "https://s0010.example"', 'url = "https://evil.example"'), expected, ()) is None
    assert shrunk.render(rendered.replace("[providers.groq]", "[providers.openai]"), expected, ()) is None
    assert shrunk.render(rendered.replace('default_site = "s0000"', 'default_site = "s0001"'), expected, ()) is None
    assert shrunk.render(rendered.replace("[sites.s0010]", "[sites.s0010x]"), expected, ()) is None
    assert shrunk.render(rendered.replace("[sites.-aimo-0]\n", ""), expected, ()) is None  # a placeholder lost
    assert shrunk.render(rendered + 'x = """\n"""\n', expected, ()) is None  # not for the scan: not proven
    with_body = rendered.replace("[sites.-aimo-0]\n", "[sites.-aimo-0]\nurl = 'x'\n")
    assert shrunk.render(with_body, tomlkit.parse(with_body).unwrap(), ()) is None  # a placeholder is a header alone
    doc["sites"]["s0020"] = {"url": "https://twin.example", "user": "u"}  # a name a placeholder holds, added again
    assert shrunk.render(tomlkit.dumps(doc), doc.unwrap(), ()) is None
    assert "s0020" in shrunk.held("-aimo-1") and shrunk.assemble(tomlkit.dumps(doc)).count("[sites.s0020]") == 2


def test_an_edit_outside_its_scope_is_refused_on_the_splice_too(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text(fleet(30))
    before = path.read_bytes()
    store = settings_mod.SettingsStore(path)
    with pytest.raises(ConfigError) as err:
        with store.edit(scope=(("sites", "s0003"),)) as s:
            settings_mod.set_in(s.doc, ("providers", "groq", "base_url"), "https://elsewhere.example")
    assert "left untouched" in err.value.message and "reached outside" in err.value.message
    assert path.read_bytes() == before


def test_only_the_edited_site_is_validated(tmp_path, monkeypatch):
    """Another site's malformed entry is reported by the commands that use that site (as on the read path), not by
    every write; a write that makes its own site malformed is refused, the file untouched."""
    path = tmp_path / "aimo.toml"
    path.write_text('[sites.a]\nurl = "https://a.example"\nuser = "admin"\n\n[sites.b]\nurl = "https://b.example"\n\n[sites.c]\nurl = "https://c.example"\nuser = "admin"\n')
    for spliced in (True, False):
        ok, _, after = outcome(path.read_bytes(), "use", "c", spliced=spliced)
        assert ok == "ok" and tomllib.loads(after.decode())["default_site"] == "c"
        ok, _, after = outcome(path.read_bytes(), "rm", "b", spliced=spliced)  # the broken entry can be removed
        assert ok == "ok" and list(tomllib.loads(after.decode())["sites"]) == ["a", "c"]
    before = path.read_bytes()
    for spliced in (True, False):
        if not spliced:
            monkeypatch.setattr(settings_mod, "_splice_start", lambda *a: None)
        with pytest.raises(ConfigError) as err:
            with settings_mod.SettingsStore(path).edit(scope=(("sites", "c"),)) as s:
                del s.doc["sites"]["c"]["user"]
        assert err.value.message == f"{path}: `sites.c.user` is missing"
        assert path.read_bytes() == before


def test_a_syntax_error_is_reported_with_its_line_and_the_file_untouched(tmp_path):
    lines = fleet(50).split("\n")
    lines[2 + 5 * 20 + 1] = 'url = "https://s0020.example'  # unterminated, in a section the write does not touch
    data = "\n".join(lines).encode()
    for spliced in (True, False):
        ok, message, after = outcome(data, "use", "s0001", spliced=spliced)
        assert ok == "error" and message.startswith("DIR/aimo.toml:104:") and "not valid TOML" in message
        assert after == data


# -- what `site add` reads after the write: the other profiles of the same WordPress ---------------------------------------

URLS = ["https://shop.example", "https://WWW.Shop.example/", "https://shop.example:8443", "https://shop.example/eu", "https://shop.example/eu/",
        "http://blog.example", "https://blog.example/shop.example", "https://[::1]:8080/x", "http://[bad", "https://shop.example.org", "https://xn--bcher-kva.example"]


@st.composite
def identity_fleets(draw) -> str:
    lines = []
    for i in range(draw(st.integers(1, 12))):
        lines += [f"[sites.p{i}]", f'url = "{draw(st.sampled_from(URLS))}"', 'user = "admin"']
        if draw(st.booleans()):
            lines.append(f'home = "{draw(st.sampled_from(URLS))}"')
        if draw(st.integers(0, 3)) == 0:
            lines.append(draw(st.sampled_from(['site_id = "abc"', "site_id = 'ABC'", 'site_id = "abc\\u0064"', 'site_id = "x"'])))
        lines.append("")
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(identity_fleets(), st.integers(0, 11), st.booleans())
def test_same_site_profiles_reads_few_entries_and_finds_them_all(text, pick, taken):
    from aimo_cli.context import AppContext, Options
    from aimo_cli.services.sites import identities, same_site_profiles

    with tempfile.TemporaryDirectory() as d, runs(taken):
        config = Path(d) / "aimo.toml"
        config.write_text(text)
        ctx = AppContext(Options(config=str(config)))
        every = ctx.settings().sites()
        name = list(every)[pick % len(every)]
        mine = identities(every[name])
        assert same_site_profiles(ctx, name) == sorted(n for n, s in every.items() if n != name and identities(s) & mine)


@pytest.mark.parametrize("taken", [False, True])
def test_same_site_profiles_in_a_fleet_reads_only_the_entries_that_mention_the_host(tmp_path, monkeypatch, taken):
    from aimo_cli.context import AppContext, Options
    from aimo_cli.services.sites import same_site_profiles

    monkeypatch.setattr(settings_mod, "_RUNS_FROM", 0 if taken else float("inf"))

    config = tmp_path / "aimo.toml"
    config.write_text(fleet(300) + '\n[sites.twin]\nurl = "https://WWW.s0042.example/"\nuser = "admin"\n')
    parsed = []
    real = settings_mod.SiteIndex.table
    monkeypatch.setattr(settings_mod.SiteIndex, "table", lambda self, name: parsed.append(name) or real(self, name))
    assert same_site_profiles(AppContext(Options(config=str(config))), "twin") == ["s0042"]
    assert sorted(parsed) == ["s0042", "twin"]


@pytest.mark.parametrize("op,name", [("add", "new"), ("rm", "s0100"), ("use", "s0200"), ("replace", "s0000"), ("rm", "s0299")])
def test_the_command_reads_the_new_file_as_a_fresh_read_would(tmp_path, op, name):
    """After a spliced write the store keeps the proven scan of the new text for the command's later reads (site add
    then looks for twins, site rm reports the default site): it must read as a fresh read of the file does."""
    from aimo_cli.context import AppContext, Options

    config = tmp_path / "aimo.toml"
    config.write_text(fleet(300, comments=True))
    ctx = AppContext(Options(config=str(config)))
    ctx.settings()
    site_op(ctx, op, name)
    kept = ctx.settings()
    assert kept is ctx.settings_store._loaded[1] and kept._index is not None  # the view the write left
    fresh = settings_mod.SettingsStore(config).load()
    assert kept.site_names_mentioning([("s0042.example",)]) == ["s0042"]
    assert kept.site_names() == fresh.site_names() and kept.sites() == fresh.sites()
    assert kept.default_site == fresh.default_site and kept.doc == fresh.doc  # (.doc last: it drops the index)


def test_concurrent_spliced_writers_do_not_lose_updates(tmp_path):
    """Two processes each reading the file, then adding a site through a scoped edit (the splice, which reuses the text
    the command read when the file has not changed since), 30 times: the lock and the re-read keep every entry."""
    path = tmp_path / "aimo.toml"
    path.write_text(fleet(50))
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from aimo_cli.stores import settings as S
        store = S.SettingsStore(Path({str(path)!r}))
        tag = sys.argv[1]
        spliced = 0
        real = S._splice_finish
        def counted(*a):
            global spliced
            text = real(*a)
            spliced += text is not None
            return text
        S._splice_finish = counted
        for i in range(30):
            store.load()
            with store.edit(scope=(("sites", f"{{tag}}{{i}}"),)) as s:
                s.doc["sites"][f"{{tag}}{{i}}"] = {{"url": f"https://{{tag}}{{i}}.example", "user": "u"}}
        assert spliced == 30, spliced
        """)
    procs = [subprocess.Popen([sys.executable, "-c", script, tag]) for tag in ("a", "b")]
    assert [p.wait(120) for p in procs] == [0, 0]
    names = settings_mod.SettingsStore(path).load().site_names()
    assert len(names) == 110 and {f"{t}{i}" for t in "ab" for i in range(30)} <= set(names)


@pytest.mark.parametrize("scope", [(("sites", "s0100"), ("default_site",)), (("default_site",),), (("sites", "new"),)])
def test_the_edit_view_reads_every_site_as_the_file_has_it(tmp_path, scope):
    """The edit view of a shrunk copy answers for the whole file: a site a placeholder holds, a kept one, none; and
    after the caller removed the site it names, that site is gone and the others are still there."""
    path = tmp_path / "aimo.toml"
    path.write_text(fleet(300, comments=True))
    full = settings_mod.Settings(path, tomllib.loads(path.read_text()), frozen=True)
    with settings_mod.SettingsStore(path).edit(scope=scope) as s:
        assert isinstance(s, settings_mod._ShrunkSettings) and s._shrunk.holders
        assert s.site_names() == full.site_names() and s.sites() == full.sites()
        for name in full.site_names()[::7] + ["s0099", "s0100", "s0101", "s0299", "nope", "-aimo-0"]:
            assert s.site(name) == full.site(name), name
        if scope[0] == ("sites", "s0100"):
            del s.doc["sites"]["s0100"]
            assert s.site("s0100") is None and "s0100" not in s.site_names()
            assert s.site("s0200") == full.site("s0200") and len(s.site_names()) == 299
