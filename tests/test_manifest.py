"""The provider manifest (aimo_cli/providers/manifest.json) is the one list of providers, and everything follows it.

- The generated files (the bridge's PHP table and classes, the CLI's provider help) are current: when
  test_generated_files_are_up_to_date fails, run scripts/gen-providers and commit what it writes.
- Nothing else keeps a list of providers or a literal provider count; the README's list is checked against it.
- test_an_added_provider_reaches_everything proves docs/adding-a-provider.md: in a temporary copy of the project, a
  hypothetical 11th provider added to the manifest (plus its curated catalog file) is picked up by the Python
  registry, the CLI (keys, verify, models, ask, help, completion), the test fake and the bridge's PHP table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimo_cli import providergen
from aimo_cli.core.providers import MANIFEST, PROVIDER_IDS, PROVIDERS, ManifestError, load_manifest
from aimo_cli.providers import ADAPTERS, GENERIC

from .clihelper import CAPTURED, Result
from .secrets_registry import make_key

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "aimo_cli" / "bridge" / "aimo-bridge"


def _php() -> str:
    php = shutil.which("php")
    if php is None:
        pytest.fail("php is not installed: scripts/test-deps installs it (the bridge's PHP is part of what is tested)")
    return php


# -- the generated files ----------------------------------------------------------------------------------------------


def test_generated_files_are_up_to_date():
    files = providergen.generate()
    whole = {providergen.PHP_TABLE, providergen.PHP_CLASSES, providergen.CLI_HELP}
    assert {f.path for f in files} == whole | {"README.md", "aimo_cli/bridge/aimo-bridge/readme.txt"}
    stale = providergen.stale(REPO, files)
    assert not stale, f"stale generated files {stale}: run scripts/gen-providers and commit the result"
    for path in whole:
        first = (REPO / path).read_text(encoding="utf-8").splitlines()[0]
        assert providergen.MARK in first, f"{path}: the first line must say the file is generated"


def test_gen_script_check_mode_agrees():
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "gen-providers"), "--check"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr


def test_stale_detection_names_the_file(tmp_path):
    files = providergen.generate()
    providergen.write(tmp_path, files)
    assert providergen.stale(tmp_path, files) == []
    table = tmp_path / providergen.PHP_TABLE
    table.write_text(table.read_text().replace("'Groq'", "'Groq Cloud'"))
    assert providergen.stale(tmp_path, files) == [providergen.PHP_TABLE]


def test_php_table_is_what_the_manifest_says():
    """The generated PHP, run by PHP, gives back the manifest's values for every provider."""
    code = "define('ABSPATH', '/'); require $argv[1]; echo json_encode(aimo_bridge_provider_defaults());"
    proc = subprocess.run([_php(), "-r", code, str(PLUGIN / "includes" / "providers.php")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    table = json.loads(proc.stdout)
    assert list(table) == list(PROVIDER_IDS)
    for pid, info in PROVIDERS.items():
        assert table[pid] == providergen.php_config(info)
    assert table["ollama"]["base_url"] == "" and table["ollama"]["type"] == "server"
    assert table["huggingface"]["key_check"] == "https://huggingface.co/api/whoami-v2" and table["openrouter"]["key_check"] == "/key"
    classes = (PLUGIN / "includes" / "provider-classes.php").read_text()
    for pid in PROVIDER_IDS:
        assert f"final class {providergen.php_class(pid)} extends Aimo_Bridge_Provider {{\n\tpublic const ID = '{pid}';" in classes


# -- the manifest itself ----------------------------------------------------------------------------------------------


def test_manifest_entries_are_complete_and_consistent():
    raw = json.loads(MANIFEST.read_text())
    assert [p["id"] for p in raw["providers"]] == list(PROVIDER_IDS)
    for pid, info in PROVIDERS.items():
        assert (REPO / "aimo_cli" / "catalog" / "data" / f"{pid}.json").is_file(), f"{pid}: no curated catalog file"
        if info.adapter:
            assert (REPO / "aimo_cli" / "providers" / f"{info.adapter}.py").is_file(), f"{pid}: adapter module {info.adapter} missing"
        assert info.console_url.startswith("https://") and info.docs_url.startswith("https://"), pid
        assert info.default_base_url.startswith(("https://", "http://localhost")), pid
    for field in ("env_var", "setting_name", "name"):
        values = [getattr(p, field) for p in PROVIDERS.values()]
        assert len(set(values)) == len(values), f"duplicate {field}"
    # every adapter file is named by the manifest (no orphan adapter that nothing would load)
    helpers = {"__init__", "base", "http", "quirks", "stream"}
    files = {p.stem for p in (REPO / "aimo_cli" / "providers").glob("*.py")} - helpers
    assert files == {p.adapter for p in PROVIDERS.values() if p.adapter}


def test_adapter_registry_follows_the_manifest():
    assert list(ADAPTERS) == list(PROVIDER_IDS)
    for pid, info in PROVIDERS.items():
        assert ADAPTERS[pid] == (f"aimo_cli.providers.{info.adapter}:Adapter" if info.adapter else GENERIC)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p.pop("env_var"), "lacks env_var"),
        (lambda p: p.update(id="Bad-Id", setting_name="connectors_ai_Bad-Id_api_key", wp_env_var="BAD-ID_API_KEY"), "id must be"),
        (lambda p: p.update(setting_name="connectors_ai_other_api_key"), "setting_name must be"),
        (lambda p: p.update(capabilities=["text", "video"]), "capabilities must be"),
        (lambda p: p.update(api="grpc"), "api must be one of"),
        (lambda p: p.update(models_public="yes"), "models_public has the wrong type"),
        (lambda p: p.update(key_check="server"), "key_check is server exactly when"),
    ],
)
def test_a_malformed_manifest_is_refused_with_the_reason(tmp_path, change, message):
    raw = json.loads(MANIFEST.read_text())
    change(raw["providers"][5])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match=re.escape(message)):
        load_manifest(path)


def test_a_provider_listed_twice_is_refused(tmp_path):
    raw = json.loads(MANIFEST.read_text())
    raw["providers"].append(dict(raw["providers"][0]))
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match="listed twice"):
        load_manifest(path)


# -- nothing else keeps the list --------------------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text).replace("(by server URL)", "")
    return [n.strip() for n in re.split(r",|\band\b", text) if n.strip()]


def test_readmes_name_exactly_the_manifest_providers():
    """Their provider paragraph is rewritten by scripts/gen-providers (test_generated_files_are_up_to_date); here, read
    back independently of the generator."""
    names = [p.name for p in PROVIDERS.values()]
    readme = (REPO / "README.md").read_text()
    listed = re.search(r"^Providers: (.*?)\.\n\n", readme, re.M | re.S)
    assert listed, "README.md: the 'Providers: …' sentence is gone"
    assert _names(listed.group(1)) == names
    plugin = (PLUGIN / "readme.txt").read_text()
    listed = re.search(r"registers an AI Client provider for (.*?) — ", plugin, re.S)
    assert listed, "readme.txt: the list of providers managed mode registers is gone"
    assert _names(listed.group(1)) == names


def test_a_readme_without_its_provider_paragraph_is_an_error(tmp_path):
    (tmp_path / "aimo_cli" / "bridge" / "aimo-bridge").mkdir(parents=True)
    shutil.copy2(PLUGIN / "readme.txt", tmp_path / "aimo_cli" / "bridge" / "aimo-bridge" / "readme.txt")
    (tmp_path / "README.md").write_text("# aimo\n\nNo provider list here.\n")
    with pytest.raises(ValueError, match="README.md: the paragraph that lists the providers is gone"):
        providergen.generate(root=tmp_path)


COUNT = re.compile(
    r"\b(?:10|ten)\s+(?:AI\s+)?providers\b|all\s+(?:10|ten)\b|len\([^)]*\)\s*(?:==|>=)\s*10\b|(?:connectors|providers|IDS)\"?\]?\s*\[:\s*10\]"
    r"|(?:IDS|PROVIDERS)\s*=\s*[\[(]\s*\"openai\"",
    re.I,
)


def test_no_literal_provider_count_or_second_list():
    """Code, tests, scripts, benchmarks, the bridge and the README do not hard-code the provider count or the list."""
    roots = [REPO / "aimo_cli", REPO / "tests", REPO / "scripts", REPO / "benchmarks", REPO / "docs", REPO / "README.md"]
    hits = []
    for root in roots:
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.suffix not in (".py", ".php", ".js", ".md", ".txt", "") or not path.is_file() or path == Path(__file__) or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if providergen.MARK in text.split("\n", 1)[0]:
                continue  # generated from the manifest (and checked by test_generated_files_are_up_to_date)
            for n, line in enumerate(text.splitlines(), 1):
                if COUNT.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, "use the manifest (core.providers.PROVIDER_IDS) instead:\n" + "\n".join(hits)


# -- adding a provider (docs/adding-a-provider.md), proven in a copy of the project -----------------------------------

ACME = {
    "id": "acme",
    "name": "Acme AI",
    "credential": "api_key",
    "env_var": "ACME_API_KEY",
    "wp_env_var": "ACME_API_KEY",
    "setting_name": "connectors_ai_acme_api_key",
    "key_prefix": "acme-",
    "console_url": "https://console.acme.example/keys",
    "docs_url": "https://docs.acme.example/api",
    "default_base_url": "https://api.acme.example/v1",
    "api": "openai",
    "auth": "bearer",
    "capabilities": ["text", "image"],
    "models_public": True,
    "key_check": "/me",
    "adapter": None,
}

ACME_CATALOG = {
    "provider": "acme",
    "updated": "2026-11-28",
    "source": "https://docs.acme.example/models",
    "models": [{"id": "acme-chat-1", "kind": "text", "context_window": 131072}, {"id": "acme-legacy-0", "kind": "text", "retires": "2027-01-31", "successor": "acme-chat-1"}],
}


@pytest.fixture(scope="module")
def copy_with_acme(tmp_path_factory):
    """A copy of the project whose manifest lists Acme AI after the others, regenerated with scripts/gen-providers."""
    root = tmp_path_factory.mktemp("eleventh")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "aimo_cli", root / "aimo_cli", ignore=ignore)
    shutil.copy2(REPO / "README.md", root / "README.md")
    (root / "scripts").mkdir()
    for script in ("gen-providers", "gen-cli-docs"):
        shutil.copy2(REPO / "scripts" / script, root / "scripts" / script)
    (root / "tests").mkdir()
    for helper in ("__init__.py", "armed.py", "fakeprovider.py", "secrets_registry.py"):
        shutil.copy2(REPO / "tests" / helper, root / "tests" / helper)
    # 1. the manifest entry
    manifest = root / "aimo_cli" / "providers" / "manifest.json"
    raw = json.loads(manifest.read_text())
    raw["providers"].append(ACME)
    manifest.write_text(json.dumps(raw, indent=1) + "\n")
    # 2. no adapter file: Acme is plain OpenAI-compatible.  3. the curated catalog
    (root / "aimo_cli" / "catalog" / "data" / "acme.json").write_text(json.dumps(ACME_CATALOG, indent=1) + "\n")
    # then regenerate
    gen = subprocess.run([sys.executable, str(root / "scripts" / "gen-providers")], capture_output=True, text=True, timeout=180, cwd=root)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    assert "wrote aimo_cli/bridge/aimo-bridge/includes/providers.php" in gen.stdout
    check = subprocess.run([sys.executable, str(root / "scripts" / "gen-providers"), "--check"], capture_output=True, text=True, timeout=180, cwd=root)
    assert check.returncode == 0, check.stderr
    return root


def test_an_added_provider_reaches_everything(copy_with_acme, tmp_path):
    root = copy_with_acme
    env = {
        "PYTHONPATH": str(root),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "AIMO_KEYRING": "file",
        "AIMO_BACKGROUND_REFRESH": "0",
    }
    py = [sys.executable, "-c"]
    full_env = {**os.environ, **env}

    # the Python registry and the adapter registry (the copy's, not this checkout's)
    probe = (
        "import json, aimo_cli, aimo_cli.core.providers as c, aimo_cli.providers as p;"
        "print(json.dumps([aimo_cli.__file__, list(c.PROVIDER_IDS), c.PROVIDERS['acme'].env_var, c.PROVIDERS['acme'].setting_name, p.ADAPTERS['acme']]))"
    )
    out = subprocess.run([*py, probe], capture_output=True, text=True, env=full_env, timeout=60, cwd=root)
    assert out.returncode == 0, out.stderr
    where, ids, env_var, setting, adapter = json.loads(out.stdout)
    assert where.startswith(str(root))
    assert ids == [*PROVIDER_IDS, "acme"] and env_var == "ACME_API_KEY" and setting == "connectors_ai_acme_api_key"
    assert adapter == GENERIC

    # the test fake serves it (from the copy's manifest), with a valid key
    key = make_key("acme-test")
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeprovider", "--port", "0", "--key", f"acme={key}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=root,
    )  # fmt: skip
    try:
        lines = [fake.stdout.readline() for _ in range(len(PROVIDER_IDS) + 2)]
        base = next(line.split()[1] for line in lines if line.strip().startswith("acme "))
        assert base.endswith("/acme/v1")
        (tmp_path / "config" / "aimo").mkdir(parents=True)
        (tmp_path / "config" / "aimo" / "aimo.toml").write_text(f'[providers.acme]\nbase_url = "{base}"\n')

        def aimo(*args, stdin=""):  # in the copy (python -m puts the working directory first on sys.path)
            proc = subprocess.run([sys.executable, "-m", "aimo_cli", *args], input=stdin, capture_output=True, text=True, env=full_env, cwd=root, timeout=60)
            CAPTURED.append(("subprocess (copy with acme): aimo " + " ".join(args), proc.stdout + proc.stderr))  # for the leak scan
            return Result(proc.returncode, proc.stdout, proc.stderr)

        help_text = aimo("keys", "set", "--help")
        assert help_text.code == 0 and "acme" in re.sub(r"\s+", " ", help_text.out), help_text.text
        r = aimo("models", "list", "--provider", "acme", "--all", "--json")  # no key yet: the curated catalog file
        assert r.code == 0 and {m["id"] for m in json.loads(r.out)["models"]} == {"acme-chat-1", "acme-legacy-0"}, r.text
        r = aimo("keys", "set", "acme", "--stdin", stdin=key + "\n")
        assert r.code == 0 and "Stored Acme AI API key" in r.out, r.text
        rows = {row["provider"]: row for row in json.loads(aimo("keys", "list", "--json").out)["keys"]}
        assert rows["acme"]["present"] and rows["acme"]["env_var"] == "ACME_API_KEY"
        r = aimo("keys", "verify", "acme")
        assert r.code == 0 and "ok" in r.out, r.text
        r = aimo("models", "list", "--provider", "acme", "--json")
        assert r.code == 0, r.text
        models = {m["id"] for m in json.loads(r.out)["models"]}
        assert {"acme-chat-1", "acme-image-1"} <= models  # live from the fake (the image model: "image" capability)
        r = aimo("ask", "-m", "acme:acme-chat-1", "hello there")
        assert r.code == 0 and "FAKE[provider=acme model=acme-chat-1" in r.out, r.text
        wrong = aimo("keys", "set", "acme", "--stdin", "--no-verify", stdin=make_key("acme-wrong") + "\n")
        assert wrong.code == 0
        assert aimo("keys", "verify", "acme").code != 0  # the key check really reaches the fake's /me
    finally:
        fake.terminate()
        fake.wait(timeout=10)

    # shell completion offers it (the completion tree was regenerated from the help)
    comp = subprocess.run(
        [*py, "import sys; sys.argv = ['aimo']; from aimo_cli.__main__ import main; main()"],
        capture_output=True, text=True, timeout=60, cwd=root,
        env={**full_env, "_AIMO_COMPLETE": "bash", "_AIMO_COMP_LINE": "aimo keys set ac"},
    )  # fmt: skip
    assert "acme" in comp.stdout.split(), comp.stdout + comp.stderr

    # the bridge's PHP table and classes
    php_code = "define('ABSPATH', '/'); require $argv[1]; echo json_encode(aimo_bridge_provider_defaults()['acme']);"
    includes = root / "aimo_cli" / "bridge" / "aimo-bridge" / "includes"
    proc = subprocess.run([_php(), "-r", php_code, str(includes / "providers.php")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "name": "Acme AI", "base_url": "https://api.acme.example/v1", "credentials_url": "https://console.acme.example/keys", "kind": "openai",
        "type": "cloud", "auth": "bearer", "images": True, "key_check": "/me",
    }  # fmt: skip
    classes = (includes / "provider-classes.php").read_text()
    assert "final class Aimo_Bridge_Provider_Acme extends Aimo_Bridge_Provider {\n\tpublic const ID = 'acme';" in classes
    lint = subprocess.run([_php(), "-l", str(includes / "provider-classes.php")], capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout
    # the READMEs' provider sentences
    assert "Hugging Face, Ollama (by server URL), and Acme AI." in re.sub(r"\s+", " ", (root / "README.md").read_text())
    assert "Ollama (by server URL), and Acme AI — each one" in re.sub(r"\s+", " ", (includes.parent / "readme.txt").read_text())
    # and nothing in the checkout changed
    assert providergen.stale(REPO, providergen.generate()) == []
