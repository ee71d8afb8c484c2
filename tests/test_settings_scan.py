"""The fast read path of the settings file (stores/settings.py `_scan`, issue 17 items 4 and 6) says exactly what a
full tomllib parse says, or steps aside: property tests on generated files compare it with tomllib (the same sites,
the same values, in the same order, and an answer only for a file tomllib accepts), and the store built on it with the
full-parse store (the same settings, the same errors). Plus the cases it must hand to the full parse, and what it
costs a shard of a big fleet to read (the number of sections parsed, not a time)."""

from __future__ import annotations

import contextlib
import string
import tomllib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aimo_cli.errors import ConfigError
from aimo_cli.stores import settings as settings_mod
from aimo_cli.stores.settings import Settings, SettingsStore, _scan


@contextlib.contextmanager
def big_file_token():
    """_scan as for a big file (settings._big_token(), whatever the file's length)."""
    saved = settings_mod._BIG
    settings_mod._BIG = -1
    try:
        yield
    finally:
        settings_mod._BIG = saved


def whole(scanned):
    if scanned is None:
        return None
    doc, sites_at, index = scanned
    return Settings(None, doc, frozen=True, index=index, sites_at=sites_at).doc


@contextlib.contextmanager
def runs(taken: bool):
    """_scan with (whatever the file's length) or without its one-call read of runs of site sections as aimo writes
    them (settings._run(); without it every section is read by a token)."""
    saved = settings_mod._RUNS_FROM
    settings_mod._RUNS_FROM = 0 if taken else float("inf")
    try:
        yield
    finally:
        settings_mod._RUNS_FROM = saved


def fast_doc(text: str):
    """The whole document as the fast path reads it (every site parsed), or None when it steps aside; read four ways
    (runs of sections as aimo writes them in one call or not; the small-file token or the big-file one), which must
    give the same answer."""
    got = whole(_scan(text))
    for taken in (True, False):
        for big in (False, True):
            with runs(taken), big_file_token() if big else contextlib.nullcontext():
                other = whole(_scan(text))
            assert other == got and (got is None or list(other.get("sites", {}).items()) == list(got.get("sites", {}).items())), text
    return got


def assert_same_as_tomllib(text: str) -> bool:
    """The fast path answers only for a valid file, and then with tomllib's document, keys in the same order.
    True when it answered."""
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        expected = None
    got = fast_doc(text)
    if got is None:
        return False
    assert expected is not None, f"the fast path read a file tomllib refuses:\n{text!r}"
    assert got == expected, text
    assert list(got) == list(expected) and list(got.get("sites", {})) == list(expected.get("sites", {})), text
    for name, table in expected.get("sites", {}).items():
        assert list(got["sites"][name].items()) == list(table.items())  # values, types and order
        assert all(type(got["sites"][name][k]) is type(v) for k, v in table.items())
    return True


# -- generated files --------------------------------------------------------------------------------------------------

NAME_CHARS = string.ascii_letters + string.digits + "-_. \"'\\é#[]=\t"
VALUE_CHARS = string.ascii_letters + string.digits + " -_./:\"'\\#=[]{}\té€\x01\x7f"

names = st.text(alphabet=NAME_CHARS, min_size=0, max_size=6)
values = st.text(alphabet=VALUE_CHARS, max_size=8)


def quoted(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\x01", "\\u0001").replace("\x7f", "\\u007f") + '"'


@st.composite
def headers(draw):
    name = draw(names)
    form = draw(st.sampled_from(["bare", "basic", "literal", "raw-basic", "spaced", "comment", "sub", "array", "indent", "trailer"]))
    bare = name if name and all(c in string.ascii_letters + string.digits + "-_" for c in name) else "n" + str(len(name))
    return {
        "bare": f"[sites.{bare}]",
        "basic": f"[sites.{quoted(name)}]",
        "literal": f"[sites.'{name}']",
        "raw-basic": f'[sites."{name}"]',  # unescaped: may be invalid, or hold an escape
        "spaced": f"[ sites . {bare} ]",
        "comment": f"[sites.{bare}] # {name}",
        "sub": f"[sites.{bare}.{draw(st.sampled_from(['a', 'url', bare]))}]",
        "array": f"[[sites.{bare}]]",
        "indent": f"  [sites.{bare}]",
        "trailer": f"[sites.{bare}] x",
    }[form]


@st.composite
def key_values(draw):
    key = draw(st.sampled_from(["url", "user", "group", "rest_root", "ca_bundle", "home", "site_id", "x-1", "a_b", "9"]))
    value = draw(values)
    form = draw(st.sampled_from(["basic", "raw-basic", "literal", "true", "false", "int", "bad-int", "float", "array", "multi-array",
                                 "inline", "dotted", "quoted-key", "date", "ml-basic", "ml-literal", "comment", "nothing"]))
    number = draw(st.sampled_from(["0", "12", "-3", "+4", "1_000", "01", "1__0", "0x1f", "1e3", "_1", "1_"]))
    line = {
        "basic": f"{key} = {quoted(value)}",
        "raw-basic": f'{key} = "{value}"',
        "literal": f"{key} = '{value}'",
        "true": f"{key} = true",
        "false": f"{key}=false",
        "int": f"{key} = {number}",
        "bad-int": f"{key} = {number}x",
        "float": f"{key} = 1.5",
        "array": f'{key} = ["a", {quoted(value)}]',
        "multi-array": f'{key} = [\n  {quoted(value)},\n  "b",\n]',
        "inline": f"{key} = {{ a = {quoted(value)} }}",
        "dotted": f"{key}.sub = {quoted(value)}",
        "quoted-key": f"{quoted(key)} = {quoted(value)}",
        "date": f"{key} = 1979-05-27",
        "ml-basic": f'{key} = """\n{value}\n[sites.z]\n"""',
        "ml-literal": f"{key} = '''{value}'''",
        "comment": f"{key} = {quoted(value)} # {value}",
        "nothing": f"{key} =",
    }[form]
    return draw(st.sampled_from(["", " ", "\t"])) + line + draw(st.sampled_from(["", " ", "  # note"]))


other_lines = st.sampled_from([
    "", "# a comment", "   ", 'default_site = "a"', "default_site = 3", "[providers.openai]", 'base_url = "http://x"',
    "[wordpress.models]", 'text = "groq:x"', "[sites]", "sites = {}", 'sites.a.url = "u"', 'sites = { a = { url = "u" } }',
    "[true]", "[1]", "[inf]", "[providers]", "x = [", "]", "[ providers ]", '["sites".q]', "[sites.a]", '[sites."a"]',
    "[a.b.c]", "enabled = true", "prefixes = [", '  "claude",', "[[providers.list]]",
])


@st.composite
def files(draw):
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["site", "site", "site", "other", "line"]))
        if kind == "site":
            parts.append(draw(headers()))
            parts += draw(st.lists(st.one_of(key_values(), st.sampled_from(["", "# c", "  "])), max_size=5))
        else:
            parts.append(draw(other_lines))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    text = newline.join(parts)
    return text + draw(st.sampled_from(["", "\n", "\n\n"]))


@st.composite
def fleet_files(draw):
    """Files aimo writes, or close to it: the fast path's own ground (and then one character changed)."""
    unique = draw(st.integers(0, 5)) > 0  # now and then a site twice
    chosen = draw(st.lists(st.sampled_from(["a", "b", "shop.eu", "c-1", "x_y", "9", "client-00042"]), max_size=7, unique=unique))
    lines = [draw(st.sampled_from(["", 'default_site = "a"\n']))]
    for name in chosen:
        header = f'[sites."{name}"]' if "." in name or draw(st.booleans()) else f"[sites.{name}]"
        keys = [f'url = "https://{name}.example"', 'user = "admin"']
        if draw(st.booleans()):
            keys.append(f"group = {quoted(draw(values))}")
        if draw(st.booleans()):
            keys.append(f'rest_root = "https://{name}.example/wp-json/"')
        for flag in ("rest_root_explicit", "allow_insecure_http"):
            if draw(st.booleans()):
                keys.append(f"{flag} = {draw(st.sampled_from(['true', 'false']))}")
        if draw(st.booleans()):
            keys.append(f'home = "https://{name}.example"')
        if draw(st.booleans()):
            keys.append(f"site_id = {draw(st.sampled_from(['7', '0', '1_000', repr('9f-2'), quoted('ab')]))}")
        if draw(st.integers(0, 3)) == 0:
            keys = draw(st.permutations(keys))  # not in the order aimo writes them
        lines += [header, *keys] + [""] * draw(st.integers(0, 2))
    if draw(st.booleans()):
        lines += ["[providers.anthropic]", 'no_sampling_prefixes = ["claude-opus"]', ""]
    text = "\n".join(lines)
    if text and draw(st.booleans()):  # one character inserted, removed or replaced
        at = draw(st.integers(0, len(text) - 1))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(list("\"'[]=#\\.\n \t\rxé") + ["\x00"]))
        text = text[:at] + (char if edit != "delete" else "") + text[at + (edit != "insert"):]
    return text


@settings(max_examples=1500, deadline=None)
@given(files())
@example("")
@example("[sites.a]\nurl = 'x'\n[sites.a]\n")  # a site twice
@example('[sites.a]\nurl = "x"\n[sites."a"]\n')  # the same name, quoted
@example('[sites.a]\nurl = "x"\nurl = "y"\n')  # a key twice
@example('[sites.a]\nurl = "x"\n[sites.a.b]\nc = 1\n')  # a sub-table
@example('sites.a.url = "x"\n[sites.b]\nurl = "y"\n')  # dotted keys define a site
@example('x = [\n[sites.a]\nurl = "u"\n[true]\n]\n')  # a site header inside an array
@example('[sites.a]\nurl = "u"\r\nuser = "v"\n')
@example('[sites."a\\u0041"]\nurl = "u"\n')  # an escape in a name
@example('[sites."é"]\nurl = "u"\n')
@example('[sites.a] # note\nurl = "u" # note\n\n# more\n')
@example('[sites.a]\nx = """\n[sites.b]\n"""\n')
def test_generated_files_read_as_tomllib_reads_them(text):
    assert_same_as_tomllib(text)


@settings(max_examples=1500, deadline=None)
@given(fleet_files())
def test_fleet_files_and_near_misses_read_as_tomllib_reads_them(text):
    assert_same_as_tomllib(text)


def test_the_fast_path_is_taken_for_what_aimo_writes():
    # the tests above would pass if the fast path never answered: here it must
    fleet = "".join(f'[sites."client-{i:05d}"]\nurl = "http://127.0.0.1:8080/client-{i:05d}"\nuser = "admin"\ngroup = "fleet"\n\n' for i in range(300))
    texts = [
        fleet,
        'default_site = "blog"\n\n[sites.blog] # the main one\nurl = "https://blog.example"\nuser = "admin"\nallow_insecure_http = true\n'
        "site_id = 'abc'\n\n[providers.anthropic]\nno_sampling_prefixes = [\n  \"claude-opus\",\n]\n\n[wordpress.models]\ntext = \"groq:x\"\n",
        '[sites.a]\nurl = "u"\nuser = "v"\nextra = [1, 2]\n[sites.b]\nurl = "w"\nuser = "v"\n',  # one section for tomllib alone
    ]
    for text in texts:
        assert assert_same_as_tomllib(text), text
    for token in (contextlib.nullcontext(), big_file_token()):  # and each section by the regular expression alone
        with token:
            for text, left in zip(texts, [[], [], ["a"]]):
                index = _scan(text)[2]
                assert [name for name in index.names() if not index.span(name)[2]] == left


def test_a_big_file_compiles_the_big_file_token_only_for_a_section_aimo_did_not_write(monkeypatch):
    calls = []
    real = settings_mod._big_token
    monkeypatch.setattr(settings_mod, "_big_token", lambda: calls.append(1) or real())
    entry = '[sites."client-{:05d}"]\nurl = "https://c{:05d}.example"\nuser = "admin"\ngroup = "fleet"\n\n'
    small = "".join(entry.format(i, i) for i in range(100))
    big = "".join(entry.format(i, i) for i in range(settings_mod._BIG // len(entry.format(0, 0)) + 1))
    assert len(big) > settings_mod._BIG and _scan(small) is not None and not calls
    assert _scan(big) is not None and not calls  # every section as aimo writes it: read by settings._run()
    hand_written = big + '[sites.last]  # by hand\nuser = "admin"\nurl = "https://last.example"\n'
    assert _scan(hand_written)[2].names()[-1] == "last" and calls
    assert assert_same_as_tomllib(big) and assert_same_as_tomllib(hand_written)


def test_runs_of_sections_as_aimo_writes_them_are_read_in_one_call():
    # every key aimo writes, in its order (services/sites.py add_site), and the ways a section stops being one of them
    every_key = (
        '[sites."a.b"]\nurl = "https://a.example"\nuser = "admin"\ngroup = "g"\nrest_root = "https://a.example/wp-json/"\n'
        'rest_root_explicit = true\nallow_insecure_http = false\nhome = "https://a.example"\nsite_id = "9f"\nca_bundle = \'/etc/ca.pem\'\n\n'
        "[sites.c]\n[sites.'d']\nurl = \"u\"\nsite_id = 42\n"
    )
    assert settings_mod._run().match(every_key).end() == len(every_key)
    assert assert_same_as_tomllib(every_key)
    with runs(True):
        assert _scan(every_key)[2].names() == ["a.b", "c", "d"]
    for not_as_aimo_writes in (
        '[sites.x]\nuser = "admin"\nurl = "u"\n',  # another order
        '[sites.x]\nurl = "u"\nurl = "v"\n',  # a key twice
        '[sites.x]\nurl="u"\n',  # other spacing
        '[sites.x]\nurl = "u" # note\n',  # a comment
        '[sites.x]\nurl = "u"\n# note\n',
        '[sites.x]\nurl = "a\\u0041"\n',  # an escape
        '[sites.x]\nnote = "u"\n',  # a key aimo does not write
    ):
        text = every_key + not_as_aimo_writes
        assert settings_mod._run().match(text).end() == len(every_key), not_as_aimo_writes
        assert assert_same_as_tomllib(text) == _valid(text)  # the token reads it (or, a key twice, the file is refused)


def test_a_small_file_does_not_compile_the_runs_pattern():
    # (a one-site command's file: ~1.5 ms to compile against ~8 microseconds a section by the token)
    settings_mod._run.cache_clear()
    entry = '[sites."client-{:05d}"]\nurl = "https://c{:05d}.example"\nuser = "admin"\n\n'
    small = "".join(entry.format(i, i) for i in range(50))
    assert len(small) < settings_mod._RUNS_FROM and _scan(small) is not None
    assert settings_mod._run.cache_info().currsize == 0
    big = "".join(entry.format(i, i) for i in range(settings_mod._RUNS_FROM // len(entry.format(0, 0)) + 1))
    assert _scan(big) is not None and settings_mod._run.cache_info().currsize == 1


def _valid(text: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return True


def test_long_site_sections_are_left_to_tomllib_and_read_the_same():
    # past settings._LINES lines (the small-file token: the duplicate-key look-ahead stays short) or settings._KEYS key
    # lines (the big-file token: each key line has a group of its own) a section is not matched whole: tomllib reads it
    # alone, and a key set twice far down is still found
    long_section = "[sites.a]\n" + "".join(f"k{i} = {i}\n" for i in range(150))
    assert assert_same_as_tomllib(long_section + '[sites.b]\nurl = "u"\n')
    assert not assert_same_as_tomllib(long_section + "k3 = 1\n")
    for limit, big in ((settings_mod._LINES, False), (settings_mod._KEYS, True)):
        at_the_limit = "[sites.a]\n" + "".join(f"k{i} = {i}\n" for i in range(limit))
        assert assert_same_as_tomllib(at_the_limit) and not assert_same_as_tomllib(at_the_limit + "k0 = 1\n")
        with big_file_token() if big else contextlib.nullcontext():
            simple = {text: _scan(text)[2].span("a")[2] for text in (long_section, at_the_limit, at_the_limit + "k = 1\n")}
        assert simple == {long_section: False, at_the_limit: True, at_the_limit + "k = 1\n": False}  # the regular expression's ground, and tomllib's


def test_a_key_set_twice_is_found_in_any_two_lines_of_a_section():
    keys = [f"k{i}" for i in range(settings_mod._KEYS)]
    for i in range(len(keys)):
        for j in range(i):
            lines = keys[:i] + [keys[j]] + keys[i:]
            text = "[sites.a]\n" + "".join(f'{k} = "v"  # {n}\n\n' for n, k in enumerate(lines))
            for token in (contextlib.nullcontext(), big_file_token()):
                with token:
                    assert _scan(text) is None, text
    prefixes = '[sites.a]\nurl = "x"\nurl_2 = "y"\nur = 1\nurl-x=true\nu = 2\n'  # a key's prefix or extension is another key
    assert assert_same_as_tomllib(prefixes)
    for token in (contextlib.nullcontext(), big_file_token()):
        with token:
            assert _scan(prefixes)[2].span("a")[2]  # read as simple lines, by the regular expression alone


# -- the store on the fast path: the same settings and errors as the full parse ------------------------------------------


def full_parse_settings(path, text) -> Settings:
    return Settings(path, tomllib.loads(text), frozen=True)


def outcome(call):
    try:
        return "ok", call()
    except ConfigError as exc:
        return "error", (exc.message, exc.hint)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(files(), fleet_files()))
def test_the_store_gives_the_full_parses_settings_and_errors(tmp_path, text):
    path = tmp_path / "aimo.toml"
    path.write_bytes(text.encode("utf-8"))
    text = path.read_text(encoding="utf-8")  # as the store reads it (universal newlines: a CR is a newline)
    try:
        full = full_parse_settings(path, text)
    except tomllib.TOMLDecodeError:
        with pytest.raises(ConfigError) as exc:
            SettingsStore(path).load()
        assert "not valid TOML" in exc.value.message
        return
    fast = SettingsStore(path).load()
    assert outcome(fast.sites) == outcome(full.sites)
    assert outcome(lambda: fast.default_site) == outcome(lambda: full.default_site)
    assert outcome(fast.validate) == outcome(full.validate)
    assert outcome(fast.wordpress_models) == outcome(full.wordpress_models)
    assert outcome(lambda: fast.provider("anthropic")) == outcome(lambda: full.provider("anthropic"))
    assert outcome(fast.site_names) == outcome(full.site_names)
    if outcome(full.site_names)[0] == "ok":
        for name in full.site_names() + ["nope"]:
            assert outcome(lambda: fast.site(name)) == outcome(lambda: full.site(name))
    assert fast.doc == full.doc


# -- errors and what a shard reads ----------------------------------------------------------------------------------------


def test_a_syntax_error_anywhere_is_reported_with_its_line_even_by_a_command_that_reads_one_site(tmp_path):
    # a shard, or a one-site command, still checks every line of the file: a broken line in a section this command
    # would never read is reported (file:line:col, exit 3) as it was when the whole file was parsed
    lines = []
    for i in range(50):
        lines += [f"[sites.s{i:02d}]", f'url = "https://s{i}.example"', 'user = "admin"', ""]
    lines[41 * 4 + 1] = 'url = "https://s41.example'  # an unterminated string in s41's section (line 166)
    path = tmp_path / "aimo.toml"
    path.write_text("\n".join(lines))
    with pytest.raises(ConfigError) as exc:
        SettingsStore(path).load()
    assert f"{path}:166:" in exc.value.message and "not valid TOML" in exc.value.message


def test_a_key_set_twice_in_another_sites_section_is_reported(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text('[sites.a]\nurl = "https://a.example"\nuser = "admin"\n\n[sites.b]\nurl = "https://b.example"\nuser = "admin"\nuser = "root"\n')
    with pytest.raises(ConfigError) as exc:
        SettingsStore(path).load()
    assert "not valid TOML" in exc.value.message and str(path) in exc.value.message


def test_a_site_defined_twice_is_an_error(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_text('[sites.a]\nurl = "https://a.example"\nuser = "admin"\n\n[sites."a"]\nurl = "https://b.example"\nuser = "admin"\n')
    with pytest.raises(ConfigError) as exc:
        SettingsStore(path).load()
    # as before: tomlkit's message, at the end of the second definition
    assert exc.value.message == f'{path}:7:0: the settings file is not valid TOML (Key "a" already exists.)'


def test_a_malformed_entry_is_reported_by_the_commands_that_use_its_site(tmp_path):
    # the file parses, but site b lacks its user: asking for a reads a's entry only; b (or every site) is an error
    path = tmp_path / "aimo.toml"
    path.write_text('[sites.a]\nurl = "https://a.example"\nuser = "admin"\n\n[sites.b]\nurl = "https://b.example"\n')
    s = SettingsStore(path).load()
    assert s.site("a").url == "https://a.example" and s.site_names() == ["a", "b"] and s.site("c") is None
    for call in (lambda: s.site("b"), s.sites, s.validate):
        with pytest.raises(ConfigError) as exc:
            call()
        assert exc.value.message == f"{path}: `sites.b.user` is missing"


def test_a_shard_parses_only_its_own_sites(tmp_path, monkeypatch):
    from aimo_cli.context import AppContext, Options
    from aimo_cli.services import shard
    from aimo_cli.services.fleet import select_sites

    names = [f"client-{i:04d}" for i in range(400)]
    path = tmp_path / "aimo.toml"
    path.write_text("".join(f'[sites."{n}"]\nurl = "https://{n}.example"\nuser = "admin"\n\n' for n in names))
    parsed = []
    real = settings_mod.SiteIndex.table
    monkeypatch.setattr(settings_mod.SiteIndex, "table", lambda self, name: parsed.append(name) or real(self, name))
    ctx = AppContext(Options(config=str(path)))
    picked = select_sites(ctx, None, None, True, "3/8")
    mine = [n for n in names if shard.shard_of(n, 8) == 3]
    assert [s.name for s in picked] == mine and sorted(parsed) == sorted(mine)
    assert [s.url for s in picked] == [f"https://{n}.example" for n in mine]
    parsed.clear()
    assert [s.name for s in select_sites(ctx, ["client-0007"], None, False)] == ["client-0007"] and parsed == ["client-0007"]


def _fleet_config(names, url, broken: dict[str, str] | None = None) -> str:
    """Site entries at the stub; `broken` replaces a site's user line with the given text."""
    from pathlib import Path

    from aimo_cli import paths

    lines = []
    for name in names:
        lines += [f'[sites."{name}"]', f'url = "{url}/{name}"', (broken or {}).get(name, 'user = "admin"'), f'rest_root = "{url}/{name}/wp-json/"', ""]
    path = Path(paths.settings_path(None))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return str(path)


def test_cli_every_shard_reports_a_syntax_error_in_another_shards_section():
    import json

    from aimo_cli.services import shard

    from .clihelper import run_cli
    from .fleethelp import store_passwords
    from .fleetstub import StubSites

    names = [f"client-{i:02d}" for i in range(40)]
    victim = next(n for n in names if shard.shard_of(n, 4) == 4)
    with StubSites() as stub:
        path = _fleet_config(names, stub.url, {victim: 'user = "admin'})  # an unterminated string in shard 4's section
        store_passwords(names, "stub stub stub stub stub stub")
        line = 5 * names.index(victim) + 3
        for k in (1, 4):
            r = run_cli(["sync", "status", "--all", "--shard", f"{k}/4", "--json"])
            assert r.code == 3, r.text
            assert json.loads(r.out)["error"]["message"].startswith(f"{path}:{line}:"), r.out
            assert "Traceback" not in r.text


def test_cli_an_incomplete_entry_fails_only_the_shard_that_has_the_site():
    import json

    from aimo_cli.services import shard

    from .clihelper import run_cli
    from .fleethelp import store_passwords
    from .fleetstub import StubSites

    names = [f"client-{i:02d}" for i in range(40)]
    victim = next(n for n in names if shard.shard_of(n, 4) == 4)
    with StubSites() as stub:
        path = _fleet_config(names, stub.url, {victim: "# no user"})
        store_passwords(names, "stub stub stub stub stub stub")
        r = run_cli(["sync", "status", "--all", "--shard", "1/4", "--json"])
        assert r.code == 0, r.text
        assert [s["site"] for s in json.loads(r.out)["sites"]] == [n for n in names if shard.shard_of(n, 4) == 1]
        r = run_cli(["sync", "status", "--all", "--shard", "4/4", "--json"])
        assert r.code == 3 and json.loads(r.out)["error"]["message"] == f"{path}: `sites.{victim}.user` is missing", r.out
        r = run_cli(["sync", "status", "--all", "--json"])  # the whole fleet: as before, the entry stops the command
        assert r.code == 3 and f"sites.{victim}.user" in r.out
