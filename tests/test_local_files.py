"""Other local users (docs/security.md, "Local files"): private dirs, JSON-only catalogue cache, lock files not followed."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from aimo_cli.errors import ConfigError, ExitCode
from aimo_cli.stores.fileio import ensure_private_dir

from .clihelper import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_group_or_world_writable_config_dir_of_ours_is_tightened_and_said():
    """Was: an existing 0777/0775 config dir was used as it was (another user could swap aimo.toml: URLs, passwords go)."""
    d = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo"
    d.mkdir(parents=True)
    os.chmod(d, 0o777)
    r = run_cli(["site", "add", "blog", "https://blog.example", "--user", "admin", "--stdin", "--no-verify"], stdin="abcd efgh ijkl mnop qrst uvwx\n")
    assert r.code == 0, r.text
    assert _mode(d) == 0o755  # group/other write removed; nothing else changed
    assert f"tightened {d} from mode 0777 to 0755" in r.err


def test_state_and_cache_dirs_are_tightened_too(tmp_path, capfd):
    for name in ("state", "cache"):
        d = tmp_path / name
        d.mkdir()
        os.chmod(d, 0o775)
        ensure_private_dir(d)
        assert _mode(d) == 0o755
    assert capfd.readouterr().err.count("tightened") == 2


def test_a_shared_sticky_dir_is_refused_with_its_name(tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o1777)
    with pytest.raises(ConfigError) as err:
        ensure_private_dir(d)
    assert str(d) in err.value.message and "1777" in err.value.message and err.value.code == ExitCode.CONFIG
    assert _mode(d) == 0o1777  # not re-moded (it is shared on purpose, like /tmp)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the folder to another user")
def test_a_writable_dir_owned_by_another_user_is_refused(tmp_path):
    d = tmp_path / "theirs"
    d.mkdir()
    os.chmod(d, 0o777)
    os.chown(d, 65534, 65534)
    with pytest.raises(ConfigError) as err:
        ensure_private_dir(d)
    assert str(d) in err.value.message and "uid 65534" in err.value.message
    assert _mode(d) == 0o777


def test_a_new_dir_is_private():
    d = Path(os.environ["XDG_STATE_HOME"]) / "aimo" / "sync"
    ensure_private_dir(d)
    assert _mode(d) == 0o700 and _mode(d.parent) == 0o700


def test_a_junit_report_beside_shared_files_does_not_re_mode_their_folder(tmp_path):
    """Reports go where the admin says: their folder is not aimo's to tighten (nor refused)."""
    from aimo_cli.stores.fileio import atomic_write

    d = tmp_path / "ci"
    d.mkdir()
    os.chmod(d, 0o777)
    atomic_write(d / "report.xml", "<x/>", private_dir=False)
    assert _mode(d) == 0o777 and (d / "report.xml").read_text() == "<x/>"


# -- the catalogue cache holds JSON, never pickles ----------------------------------------------------------------------


class _Boom:
    """Unpickling this creates a marker file: proof that a planted pickle was executed."""

    marker = ""

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_planted_pickle_in_the_catalogue_cache_is_never_loaded(tmp_path):
    """Was: diskcache unpickled cached values; a writable cache dir meant code execution in aimo."""
    import diskcache

    from aimo_cli.catalog.cache import CatalogCache

    cache_dir = tmp_path / "cache"
    marker = tmp_path / "pwned"
    _Boom.marker = str(marker)
    planted = diskcache.Cache(str(cache_dir / "catalog"))  # the default Disk pickles
    planted.set("models:groq:x:y", {"provider": "groq", "entries": [], "boom": _Boom()})
    planted.set("cooldown:ollama", _Boom())
    planted.close()
    assert not marker.exists()
    cat = CatalogCache(cache_dir)
    assert cat.get("models:groq:x:y") is None  # reads as missing: fetched again
    assert cat.cooldown_until("ollama") == 0.0
    assert cat.records() == []
    cat.close()
    assert not marker.exists()


def test_catalogue_records_are_stored_as_json(tmp_path):
    import json

    from aimo_cli.catalog.cache import CatalogCache
    from aimo_cli.core.models import ModelEntry

    cat = CatalogCache(tmp_path / "cache")
    cat.put("models:groq:x:y", "groq", "https://api.groq.com/openai/v1", [ModelEntry("llama-4", "groq")], 100.0)
    cat.set_cooldown("ollama", 123.0)
    assert cat.get("models:groq:x:y")["entries"][0]["id"] == "llama-4"
    cat.close()
    with sqlite3.connect(tmp_path / "cache" / "catalog" / "cache.db") as db:
        rows = db.execute("SELECT key, mode, value, filename FROM Cache").fetchall()
    assert {r[0] for r in rows} == {"models:groq:x:y", "cooldown:ollama"}
    for key, mode, value, filename in rows:
        assert mode == 1 and filename is None  # diskcache MODE_RAW: bytes in SQLite, no pickle, no side file
        assert json.loads(bytes(value)) is not None


# -- lock files are never followed through a symlink ----------------------------------------------------------------------


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path):
    """Was: the sync lock was opened without O_NOFOLLOW: a planted link made aimo create/open the file it points at."""
    from aimo_cli.core.sync import BaseRecord
    from aimo_cli.stores.state import SyncState

    state_dir = tmp_path / "state"
    sync = state_dir / "sync"
    sync.mkdir(parents=True)
    target = tmp_path / "victim"
    (sync / "blog.json.lock").symlink_to(target)
    with pytest.raises(ConfigError) as err:
        SyncState(state_dir).record("blog", {"groq": BaseRecord("fp", "••••abcd")})
    assert "symbolic link" in err.value.message and "blog.json.lock" in err.value.message
    assert not target.exists()
    assert not (sync / "blog.json").exists()


def test_a_symlinked_settings_lock_fails_the_command_cleanly():
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "aimo"
    cfg.mkdir(parents=True)
    os.chmod(cfg, 0o700)
    victim = Path(os.environ["XDG_CONFIG_HOME"]) / "victim"
    (cfg / "aimo.toml.lock").symlink_to(victim)
    r = run_cli(["site", "add", "blog", "https://blog.example", "--user", "admin", "--stdin", "--no-verify"], stdin="abcd efgh ijkl mnop qrst uvwx\n")
    assert r.code == ExitCode.CONFIG and "symbolic link" in r.err and "Traceback" not in r.text, r.text
    assert not victim.exists()
