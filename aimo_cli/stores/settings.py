"""The settings file (aimo.toml): sites, providers, WordPress model preferences. Never a secret.

Read with the stdlib tomllib (fast), once per command: a store keeps the parsed file until the file changes (size,
mtime, inode). Edited through tomlkit so the admin's comments and ordering survive; written atomically (0600) under a
lock so two aimo processes cannot interleave. A malformed file is reported with file, line and column (exit 3) and
left untouched.

Layout:
    default_site = "blog"
    [sites.blog]        url, user, optional group, rest_root (discovered), ca_bundle
    [providers.ID]      optional base_url, enabled, no_sampling_prefixes (anthropic)
    [wordpress.models]  text, image  ("provider:model")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
import contextlib

from ..errors import ConfigError
from .fileio import atomic_write, locked


@dataclass(frozen=True)
class SiteConfig:
    name: str
    url: str
    user: str
    group: str | None = None
    rest_root: str | None = None
    ca_bundle: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderConfig:
    id: str
    base_url: str | None = None
    enabled: bool = True
    no_sampling_prefixes: tuple[str, ...] | None = None


def _parse(path: Path, text: str):
    import tomlkit
    from tomlkit.exceptions import ParseError, TOMLKitError

    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        line, col = getattr(exc, "line", "?"), getattr(exc, "col", "?")
        reason = str(exc).split(" at line")[0]
        raise ConfigError(
            f"{path}:{line}:{col}: the settings file is not valid TOML ({reason})",
            f"Fix that line in {path} (aimo left the file untouched).",
        ) from None
    except (TOMLKitError, ValueError) as exc:  # e.g. a key defined twice
        raise ConfigError(
            f"{path}: the settings file is not valid TOML ({exc})",
            f"Fix {path} (aimo left the file untouched).",
        ) from None


def _parse_fast(path: Path, text: str) -> dict:
    """The document as plain data (tomllib). On a syntax error tomlkit re-parses it for the same message as edits give."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _parse(path, text)  # raises ConfigError with line and column when tomlkit agrees (it nearly always does)
        raise ConfigError(f"{path}: the settings file is not valid TOML ({exc})", f"Fix {path} (aimo left the file untouched).") from None


class Settings:
    """A typed, validating view over the TOML document (tomlkit's when editing, plain data when only reading)."""

    def __init__(self, path: Path, doc, *, frozen: bool = False) -> None:
        self.path = path
        self.doc = doc
        self._frozen = frozen  # read-only view: derived values may be kept
        self._sites: dict[str, SiteConfig] | None = None

    # -- reading -------------------------------------------------------------------------------------------------
    def _table(self, *keys: str) -> dict:
        node: Any = self.doc
        trail = []
        for key in keys:
            trail.append(key)
            node = node.get(key) if hasattr(node, "get") else None
            if node is None:
                return {}
            if not isinstance(node, dict):
                raise ConfigError(
                    f"{self.path}: `{'.'.join(trail)}` must be a table, not {type(node).__name__}",
                    f"Edit {self.path} and make [{'.'.join(trail)}] a table.",
                )
        return node

    def _str(self, table: dict, key: str, where: str, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{self.path}: `{where}.{key}` is missing", f"Add {key} = \"…\" under [{where}] in {self.path}.")
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{self.path}: `{where}.{key}` must be a string", f"Quote the value of {key} under [{where}].")
        return str(value)

    @property
    def default_site(self) -> str | None:
        value = self.doc.get("default_site")
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self.path}: `default_site` must be a string", "Write default_site = \"NAME\".")
        return str(value) if value else None

    def sites(self) -> dict[str, SiteConfig]:
        if self._sites is not None:
            return dict(self._sites)
        out: dict[str, SiteConfig] = {}
        for name, table in self._table("sites").items():
            where = f"sites.{name}"
            if not isinstance(table, dict):
                raise ConfigError(f"{self.path}: `{where}` must be a table", f"Write it as [{where}] with url and user.")
            known = {"url", "user", "group", "rest_root", "ca_bundle"}
            out[str(name)] = SiteConfig(
                name=str(name),
                url=self._str(table, "url", where, required=True) or "",
                user=self._str(table, "user", where, required=True) or "",
                group=self._str(table, "group", where),
                rest_root=self._str(table, "rest_root", where),
                ca_bundle=self._str(table, "ca_bundle", where),
                extra={k: v for k, v in table.items() if k not in known},
            )
        if self._frozen:
            self._sites = out
            return dict(out)
        return out

    def groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for site in self.sites().values():
            if site.group:
                groups.setdefault(site.group, []).append(site.name)
        return groups

    def provider(self, provider_id: str) -> ProviderConfig:
        table = self._table("providers", provider_id)
        where = f"providers.{provider_id}"
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{self.path}: `{where}.enabled` must be true or false", f"Write enabled = true under [{where}].")
        prefixes = table.get("no_sampling_prefixes")
        if prefixes is not None and (not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes)):
            raise ConfigError(f"{self.path}: `{where}.no_sampling_prefixes` must be a list of strings", "Write it as [\"claude-opus-4-7\", …].")
        return ProviderConfig(
            id=provider_id,
            base_url=self._str(table, "base_url", where),
            enabled=bool(enabled),
            no_sampling_prefixes=tuple(str(p) for p in prefixes) if prefixes is not None else None,
        )

    def wordpress_models(self) -> dict[str, str]:
        table = self._table("wordpress", "models")
        return {k: str(v) for k, v in table.items() if k in ("text", "image") and isinstance(v, str) and v}

    def validate(self) -> None:
        """Touch every section so a type error surfaces now, as a ConfigError."""
        self.default_site
        self.sites()
        from ..core.providers import PROVIDER_IDS

        for pid in self._table("providers"):
            if pid not in PROVIDER_IDS:
                raise ConfigError(
                    f"{self.path}: [providers.{pid}] names an unknown provider",
                    "Valid ids: " + ", ".join(PROVIDER_IDS) + ".",
                )
            self.provider(pid)
        self.wordpress_models()


class SettingsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: tuple[tuple, Settings] | None = None

    def _read_text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except UnicodeDecodeError:
            raise ConfigError(f"{self.path}: the settings file is not UTF-8 text", f"Fix or move {self.path} aside.") from None
        except OSError as exc:
            raise ConfigError(f"cannot read the settings file {self.path}: {exc.strerror}", "Check its permissions.") from None

    def _stamp(self) -> tuple:
        try:
            st = self.path.stat()
        except OSError:
            return ()
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def load(self) -> Settings:
        """A read-only view, parsed once per command: kept until the file changes on disk."""
        stamp = self._stamp()
        if stamp and self._loaded is not None and self._loaded[0] == stamp:
            return self._loaded[1]
        settings = Settings(self.path, _parse_fast(self.path, self._read_text()), frozen=True)
        self._loaded = (stamp, settings) if stamp else None
        return settings

    @contextlib.contextmanager
    def edit(self, *, scope: tuple[tuple[str, ...], ...] | None = None) -> Iterator[Settings]:
        """Lock, re-read, let the caller change the document, validate, write atomically. Nothing is written on error.

        Every write is checked before it replaces the file: the new text is parsed again (by tomllib, not by the
        editor that wrote it) and must say exactly what the edited document says, and, when the caller names the
        `scope` it edits (e.g. (("sites", "blog"), ("default_site",))), nothing outside it may differ from the file
        as it was. TOML allows styles an in-place edit can break (dotted keys such as `sites.shop.url = …`, inline
        tables, a table split across the file); when the edit renders wrongly, new or replaced tables are appended
        as plain `[a.b]` tables instead; when that fails too, the edit is refused and the file left untouched.
        """
        with locked(self.path):
            before_text = self._read_text()
            settings = Settings(self.path, _parse(self.path, before_text))
            yield settings
            settings.validate()
            atomic_write(self.path, checked_render(self.path, before_text, settings.doc, scope))
            self._loaded = None


def _plain(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)


def _get(data: dict, path: tuple[str, ...]):
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _without(data: dict, paths: tuple[tuple[str, ...], ...]) -> dict:
    """A copy of `data` without the given paths (and without tables left empty by their removal)."""
    import copy

    data = copy.deepcopy(data)
    for path in paths:
        trail: list[dict] = [data]
        for key in path[:-1]:
            node = trail[-1].get(key)
            if not isinstance(node, dict):
                break
            trail.append(node)
        else:
            trail[-1].pop(path[-1], None)
            for depth in range(len(trail) - 1, 0, -1):
                if not trail[depth]:
                    trail[depth - 1].pop(path[depth - 1], None)
    return data


def _toml_key(key: str) -> str:
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_table(path: tuple[str, ...], table: dict) -> str:
    import tomlkit

    lines = ["[" + ".".join(_toml_key(k) for k in path) + "]"]
    subtables = []
    for key, value in table.items():
        if isinstance(value, dict):
            subtables.append((path + (key,), value))
        else:
            lines.append(f"{_toml_key(key)} = {tomlkit.item(value).as_string()}")
    text = "\n".join(lines) + "\n"
    for sub_path, sub in subtables:
        text += "\n" + _render_table(sub_path, sub)
    return text


def _refuse(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"{path}: aimo could not write this change without altering other settings ({why}); the file is left untouched",
        f"Make the edit by hand in {path}, or rewrite the affected table as a plain [table] section and run the command again.",
    )


def checked_render(path: Path, before_text: str, doc, scope: tuple[tuple[str, ...], ...] | None) -> str:
    """The text to write for `doc`, proven to parse back to exactly `doc` (see SettingsStore.edit); else ConfigError."""
    import tomlkit

    expected = doc.unwrap()
    try:
        before = _plain(before_text)
    except ValueError:
        before = None  # tomlkit accepted what tomllib does not: compare the result only
    if scope is not None and before is not None and _without(before, scope) != _without(expected, scope):
        raise _refuse(path, "the edit reached outside " + ", ".join(".".join(p) for p in scope))
    text = tomlkit.dumps(doc)
    if _parses_to(text, expected):
        return text
    if scope is None or before is None:
        raise _refuse(path, "the edited file would not read back as intended")
    # the in-place edit rendered wrongly (e.g. a [table] inserted between dotted keys): edit the original text
    # again, deleting changed tables and setting plain values in place, and append new tables at the end
    fresh = tomlkit.parse(before_text)
    appended = []
    try:
        for p in scope:
            old, new = _get(before, p), _get(expected, p)
            if old == new:
                continue
            if isinstance(new, dict) or isinstance(old, dict):
                if old is not None:
                    delete_in(fresh, p)
                if new is not None:
                    appended.append((p, new))
            elif new is None:
                delete_in(fresh, p)
            else:
                set_in(fresh, p, new)
    except Exception as exc:  # noqa: BLE001 - tomlkit raises many types for odd documents; all mean "refuse"
        raise _refuse(path, f"{type(exc).__name__}") from None
    text = tomlkit.dumps(fresh)
    for p, table in appended:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + _render_table(p, table)
    if _parses_to(text, expected):
        return text
    raise _refuse(path, "the edited file would not read back as intended")


def _parses_to(text: str, expected: dict) -> bool:
    try:
        return _pruned(_plain(text)) == _pruned(expected)
    except ValueError:
        return False


def _pruned(data):
    """Empty tables say nothing (an empty `[sites]` may or may not be rendered): compare without them."""
    if isinstance(data, dict):
        out = {k: _pruned(v) for k, v in data.items()}
        return {k: v for k, v in out.items() if v != {}}
    return data


def set_in(doc, keys: tuple[str, ...], value: Any) -> None:
    """Set doc[k1][k2]…=value, creating (non-inline) tables on the way."""
    import tomlkit

    node = doc
    for key in keys[:-1]:
        if key not in node:
            node[key] = tomlkit.table()
        node = node[key]
    node[keys[-1]] = value


def delete_in(doc, keys: tuple[str, ...]) -> bool:
    node = doc
    for key in keys[:-1]:
        if key not in node:
            return False
        node = node[key]
    if keys[-1] in node:
        del node[keys[-1]]
        return True
    return False
