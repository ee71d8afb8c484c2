"""The completion engine (aimo_cli/completion.py) directly: word splitting, the walk, values, rendering; and the
`aimo completion show|install` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aimo_cli import completion as comp

from .clihelper import run_cli

REPO = Path(__file__).resolve().parent.parent

# A small tree of our own, so these tests do not move when other commands come and go.
TREE = {
    "providers": [{"id": "openai", "name": "OpenAI"}, {"id": "anthropic", "name": "Anthropic"}, {"id": "ollama", "name": "Ollama"}],
    "command": {
        "options": [
            {"names": ["--config"], "takes_value": True, "kind": "file", "help": "Settings file."},
            {"names": ["--quiet", "-q"], "takes_value": False, "help": "Quiet."},
            {"names": ["-h", "--help"], "takes_value": False, "help": "Help."},
        ],
        "commands": {
            "keys": {
                "short": "Provider keys.",
                "options": [],
                "commands": {
                    "set": {"short": "Store a key.", "options": [{"names": ["--stdin"], "takes_value": False, "help": "Read stdin."}],
                            "arguments": [{"name": "provider", "nargs": 1, "kind": "provider"}]},
                    "rm": {"short": "Remove keys.", "options": [], "arguments": [{"name": "providers", "nargs": -1, "kind": "provider"}]},
                },
            },
            "site": {
                "short": "Sites.",
                "options": [],
                "commands": {
                    "add": {"short": "Add.", "options": [
                        {"names": ["--group", "-g"], "takes_value": True, "kind": "group", "help": "Group."},
                        {"names": ["--user", "-u"], "takes_value": True, "kind": "none", "help": "User."},
                    ], "arguments": [{"name": "name", "nargs": 1, "kind": "none"}, {"name": "url", "nargs": 1, "kind": "none"}]},
                    "use": {"short": "Use.", "options": [], "arguments": [{"name": "name", "nargs": 1, "kind": "site"}]},
                },
            },
            "mode": {"short": "Mode.", "options": [], "arguments": [
                {"name": "first", "nargs": 1, "kind": "mode+site"}, {"name": "site", "nargs": 1, "kind": "site"}]},
            "models": {"short": "Models.", "options": [], "commands": {
                "set": {"short": "Set.", "options": [{"names": ["--format"], "takes_value": True, "kind": "choice", "choices": ["table", "json"], "help": "F."}],
                        "arguments": [{"name": "kind", "nargs": 1, "kind": "model_kind"}, {"name": "model", "nargs": 1, "kind": "model"}]},
            }},
            "secret": {"short": "Hidden.", "hidden": True, "options": []},
        },
    },
}

SETTINGS = """\
default_site = "blog"   # comment

[sites.blog]
url = "https://blog.example"
user = "admin"
group = "prod"

[sites."shop-eu"]
url = 'https://shop.example'
user = "admin"
group = "prod"

[sites.staging]
url = "https://staging.example"
user = "admin"
group = "test" # trailing comment

[sites.blog.extra]
group = "not-a-group"

[providers.openai]
group = "nope"
"""


@pytest.fixture
def settings(isolated):
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SETTINGS)
    return path


@pytest.fixture
def models(isolated):
    path = Path(os.environ["XDG_CACHE_HOME"]) / "aimo" / "completion-models.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# provider:model\nopenai:gpt-4o-mini\nopenai:gpt-4o-mini\nanthropic:claude-sonnet-4-5\n\ngroq:openai/gpt-oss-120b\n")
    return path


def values(words: str | list[str]) -> list[str]:
    ws = comp.split_line(words) if isinstance(words, str) else words
    kind, cands = comp.complete(ws, TREE)
    assert kind == "values"
    return [v for v, _ in cands]


# -- splitting ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, words",
    [
        ("", [""]),
        ("keys set ", ["keys", "set", ""]),
        ("keys set op", ["keys", "set", "op"]),
        ("  keys   set\top", ["keys", "set", "op"]),
        ("site use 'my site' x", ["site", "use", "my site", "x"]),
        ('site use "a \\"b\\"" ', ["site", "use", 'a "b"', ""]),
        ("site use my\\ si", ["site", "use", "my si"]),
        ("site use 'unclosed", ["site", "use", "unclosed"]),
        ("models set text openai:gp", ["models", "set", "text", "openai:gp"]),
    ],
)
def test_split_line(line, words):
    assert comp.split_line(line) == words


def test_split_reports_an_opening_quote():
    assert comp._split("site use 'bl")[1] is True
    assert comp._split("site use bl")[1] is False
    assert comp._split("site use 'b' ")[1] is False


# -- the walk ------------------------------------------------------------------------------------------------------------


def test_subcommands_by_prefix_and_hidden_ones_left_out():
    assert values([""]) == ["keys", "site", "mode", "models"]
    assert values(["ke"]) == ["keys"]
    assert values(["keys", ""]) == ["set", "rm"]
    assert values(["s"]) == ["site"]


def test_descriptions_come_with_commands():
    kind, cands = comp.complete(["k"], TREE)
    assert cands == [("keys", "Provider keys.")]


def test_provider_ids():
    assert values(["keys", "set", ""]) == ["openai", "anthropic", "ollama"]
    assert values(["keys", "set", "o"]) == ["openai", "ollama"]
    assert values(["keys", "set", "openai", ""]) == []  # one argument only


def test_variadic_argument_does_not_offer_what_was_given():
    assert values(["keys", "rm", "openai", ""]) == ["anthropic", "ollama"]


def test_global_option_before_the_command_is_skipped():
    assert values(["-q", "keys", "set", "a"]) == ["anthropic"]
    assert values(["--quiet", "ke"]) == ["keys"]


def test_unknown_command_offers_nothing():
    assert values(["nope", ""]) == []


def test_options_of_the_current_command():
    assert values(["site", "add", "--"]) == ["--group", "--user"]
    assert values(["site", "add", "-"]) == ["--group", "-g", "--user", "-u"]
    assert values(["site", "add", "--group", "x", "--"]) == ["--user"]  # already given
    assert values(["-"]) == ["--config", "--quiet", "-q", "-h", "--help"]
    assert values(["--q"]) == ["--quiet"]


def test_option_values(settings):
    assert values(["site", "add", "--group", ""]) == ["prod", "test"]
    assert values(["site", "add", "-g", "t"]) == ["test"]
    assert values(["site", "add", "--group=p"]) == ["--group=prod"]
    assert values(["models", "set", "--format", ""]) == ["table", "json"]
    assert values(["site", "add", "--user", ""]) == []  # free text


def test_positional_after_options_with_values(settings):
    assert values(["site", "add", "--group", "prod", "name", "url", ""]) == []
    assert values(["site", "add", "-gprod", "-u", "admin", ""]) == []
    assert values(["site", "use", "-q", ""]) == ["blog", "shop-eu", "staging"]  # an unknown option is skipped


def test_double_dash_ends_options(settings):
    assert values(["site", "use", "--", "-"]) == []
    assert values(["site", "use", "--", ""]) == ["blog", "shop-eu", "staging"]


def test_site_names_with_urls(settings):
    kind, cands = comp.complete(["site", "use", ""], TREE)
    assert cands == [("blog", "https://blog.example"), ("shop-eu", "https://shop.example"), ("staging", "https://staging.example")]


def test_mode_or_site_union(settings):
    assert values(["mode", ""]) == ["observe", "managed", "off", "blog", "shop-eu", "staging"]
    assert values(["mode", "o"]) == ["observe", "off"]
    assert values(["mode", "managed", "s"]) == ["shop-eu", "staging"]


def test_config_on_the_command_line_is_the_one_read(settings, tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('[sites.elsewhere]\nurl = "https://e.example"\n')
    assert values(["--config", str(other), "site", "use", ""]) == ["elsewhere"]
    assert values([f"--config={other}", "site", "use", ""]) == ["elsewhere"]


def test_aimo_config_env(settings, tmp_path, monkeypatch):
    other = tmp_path / "env.toml"
    other.write_text("[sites.fromenv]\n")
    monkeypatch.setenv("AIMO_CONFIG", str(other))
    assert values(["site", "use", ""]) == ["fromenv"]


def test_model_ids_and_kinds(models):
    assert values(["models", "set", ""]) == ["text", "image"]
    assert values(["models", "set", "text", ""]) == ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5", "groq:openai/gpt-oss-120b"]
    assert values(["models", "set", "text", "openai:"]) == ["openai:gpt-4o-mini"]


def test_missing_files_offer_nothing():
    assert values(["site", "use", ""]) == []
    assert values(["models", "set", "text", ""]) == []


def test_file_values_hand_over_to_the_shell():
    assert comp.complete(["--config", "./se"], TREE) == ("files", [])
    assert comp.complete(["--config=./se"], TREE) == ("files", [])


# -- the settings scan ---------------------------------------------------------------------------------------------------


def test_read_sites(settings):
    assert comp.read_sites(str(settings)) == {
        "blog": {"url": "https://blog.example", "group": "prod"},
        "shop-eu": {"url": "https://shop.example", "group": "prod"},
        "staging": {"url": "https://staging.example", "group": "test"},
    }


def test_line_scan_agrees_with_the_settings_store(settings):
    from aimo_cli.stores.settings import SettingsStore

    real = SettingsStore(settings).load()
    scanned = comp.read_sites(str(settings))
    assert list(scanned) == list(real.sites())
    assert {n: s.get("group") for n, s in scanned.items()} == {n: s.group for n, s in real.sites().items()}


def test_read_sites_of_a_missing_or_odd_file(tmp_path):
    assert comp.read_sites(str(tmp_path / "none.toml")) == {}
    odd = tmp_path / "odd.toml"
    odd.write_bytes(b"[sites.\xff]\n[[sites.x]]\n[sites.]\n")
    assert comp.read_sites(str(odd)) == {"\ufffd": {}}


def test_read_models_dedupes_and_skips_comments(models):
    assert comp.read_models(str(models)) == ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5", "groq:openai/gpt-oss-120b"]


# -- paths agree with aimo_cli.paths ---------------------------------------------------------------------------------------


def test_paths_match_the_real_ones(monkeypatch, tmp_path):
    from aimo_cli import paths

    assert comp.settings_path() == str(paths.settings_path())
    assert comp.settings_path("~/x.toml") == str(paths.settings_path("~/x.toml"))
    assert comp.models_index_path() == str(paths.cache_dir() / "completion-models.txt")
    monkeypatch.setenv("AIMO_CONFIG", str(tmp_path / "c.toml"))
    assert comp.settings_path() == str(paths.settings_path())
    monkeypatch.delenv("AIMO_CONFIG")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert comp.settings_path() == str(paths.settings_path())
    assert comp.models_index_path() == str(paths.cache_dir() / "completion-models.txt")


# -- rendering -----------------------------------------------------------------------------------------------------------


def test_bash_gets_the_part_after_the_last_wordbreak(monkeypatch):
    monkeypatch.setenv("_AIMO_COMP_WORDBREAKS", " \t\n\"'><=;|&(:")
    out = comp.render("bash", "values", [("openai:gpt-4o", "OpenAI"), ("openai:gpt-5", "")], "openai:gp")
    assert out == "values\ngpt-4o\ngpt-5\n"
    out = comp.render("bash", "values", [("--group=prod", "")], "--group=p")
    assert out == "values\nprod\n"


def test_bash_escapes_unless_the_word_is_quoted(monkeypatch):
    monkeypatch.delenv("_AIMO_COMP_WORDBREAKS", raising=False)
    assert comp.render("bash", "values", [("my site", "")], "my") == "values\nmy\\ site\n"
    assert comp.render("bash", "values", [("my site", "")], "my", quoted=True) == "values\nmy site\n"


def test_zsh_and_fish_formats():
    cands = [("openai:gpt-4o", "OpenAI\n flagship"), ("off", "")]
    assert comp.render("zsh", "values", cands) == "values\nopenai\\:gpt-4o:OpenAI flagship\noff\n"
    assert comp.render("fish", "values", cands) == "values\nopenai:gpt-4o\tOpenAI flagship\noff\n"
    assert comp.render("fish", "files", []) == "files\n"


def test_main_reads_the_line_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("_AIMO_COMPLETE", "bash_complete")
    monkeypatch.setenv("_AIMO_COMP_LINE", "aimo keys set op")
    assert comp.main([]) == 0
    assert capsys.readouterr().out == "values\nopenai\nopenrouter\n"


def test_main_reads_words_from_argv(monkeypatch, capsys):
    monkeypatch.setenv("_AIMO_COMPLETE", "fish")
    monkeypatch.delenv("_AIMO_COMP_LINE", raising=False)
    assert comp.main(["keys", "set", "anth"]) == 0
    assert capsys.readouterr().out == "values\nanthropic\tAnthropic\n"


def test_main_never_prints_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("_AIMO_COMPLETE", "zsh")
    monkeypatch.setattr(comp, "load_tree", lambda: 1 / 0)
    assert comp.main(["ke"]) == 1
    assert capsys.readouterr() == ("", "")


def test_the_entry_point_answers_a_tab_in_a_real_process(isolated):
    env = {**os.environ, "_AIMO_COMPLETE": "zsh"}
    proc = subprocess.run([sys.executable, "-m", "aimo_cli", "keys", "set", "hug"], capture_output=True, text=True, env=env, timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "values\nhuggingface:Hugging Face\n", "")


# -- the real tree ---------------------------------------------------------------------------------------------------------


def test_the_generated_tree_knows_the_real_commands():
    tree = comp.load_tree()
    assert [v for v, _ in comp.complete(["keys", "set", "o"], tree)[1]] == ["openai", "openrouter", "ollama"]
    assert [v for v, _ in comp.complete(["completion", "show", ""], tree)[1]] == list(comp.SHELLS)
    assert "completion" in [v for v, _ in comp.complete([""], tree)[1]]


# -- aimo completion show|install --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", comp.SHELLS)
def test_show_prints_the_committed_script(shell):
    r = run_cli(["completion", "show", shell])
    assert (r.code, r.err) == (0, "")
    assert r.out == (REPO / "completions" / comp.FILENAMES[shell]).read_text()


def test_show_guesses_the_shell_from_SHELL(monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    assert run_cli(["completion", "show"]).out == comp.ZSH
    monkeypatch.setenv("SHELL", "/bin/sh")
    r = run_cli(["completion", "show"])
    assert r.code == 2 and "Error: cannot tell which shell you use" in r.err


def test_show_refuses_an_unknown_shell():
    r = run_cli(["completion", "show", "tcsh"])
    assert r.code == 2
    assert "Error: unknown shell 'tcsh'" in r.err and "Hint:" in r.err


@pytest.mark.parametrize(
    "shell, where",
    [
        ("bash", ("data", "bash-completion", "completions", "aimo")),
        ("zsh", ("data", "zsh", "site-functions", "_aimo")),
        ("fish", ("config", "fish", "completions", "aimo.fish")),
        ("powershell", ("data", "aimo", "completions", "aimo.ps1")),
    ],
)
def test_install_writes_to_the_xdg_place_and_is_idempotent(isolated, shell, where):
    target = isolated.joinpath(*where)
    first = run_cli(["completion", "install", shell])
    assert first.code == 0, first.err
    assert first.out == f"Installed {shell} completion in {target}.\n"
    assert target.read_text() == comp.script(shell)
    second = run_cli(["completion", "install", shell])
    assert second.out == f"{shell} completion is already up to date in {target}.\n"
    target.write_text("old\n")
    assert run_cli(["completion", "install", shell]).out == f"Updated {shell} completion in {target}.\n"
    assert target.read_text() == comp.script(shell)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left behind


def test_install_bash_honours_BASH_COMPLETION_USER_DIR(isolated, monkeypatch, tmp_path):
    monkeypatch.setenv("BASH_COMPLETION_USER_DIR", str(tmp_path / "bc"))
    r = run_cli(["completion", "install", "bash"])
    assert r.out == f"Installed bash completion in {tmp_path / 'bc' / 'completions' / 'aimo'}.\n"
    assert "bash-completion" in r.err
