"""Hypothesis fuzzing of the settings loader: any bytes give a Settings or a ConfigError (exit 3), never a crash."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimo_cli.errors import ConfigError
from aimo_cli.stores.settings import SettingsStore

TOML_ALPHABET = string.ascii_letters + string.digits + " =[].\"'#\n\t,{}-_:/\\" + "\u00e9\u2022"

fragments = st.sampled_from(
    [
        'default_site = "blog"\n',
        "default_site = 3\n",
        "[sites.blog]\n",
        'url = "https://b.example"\n',
        "url = 3\n",
        'user = "admin"\n',
        "[sites]\nblog = 1\n",
        "[providers.groq]\n",
        "[providers.nope]\n",
        "enabled = \"yes\"\n",
        "no_sampling_prefixes = [1, 2]\n",
        "[wordpress.models]\ntext = \"groq:x\"\n",
        "[wordpress]\nmodels = 4\n",
        "sites = []\n",
    ]
)


def _check(tmp_path, text: str) -> None:
    path = tmp_path / "aimo.toml"
    path.write_text(text, encoding="utf-8")
    store = SettingsStore(path)
    try:
        s = store.load()
        s.validate()
        s.sites()
        s.groups()
        s.wordpress_models()
    except ConfigError as exc:
        assert str(path) in exc.message and exc.hint
    assert path.read_text(encoding="utf-8") == text  # reading never changes the file


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=TOML_ALPHABET, max_size=200))
def test_random_text(tmp_path, text):
    _check(tmp_path, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(fragments, max_size=8))
def test_structured_fragments(tmp_path, parts):
    _check(tmp_path, "".join(parts))


def test_binary_garbage(tmp_path):
    path = tmp_path / "aimo.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    try:
        SettingsStore(path).load()
    except ConfigError as exc:
        assert "not UTF-8" in exc.message
    else:
        raise AssertionError("binary garbage must be a ConfigError")
