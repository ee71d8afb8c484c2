"""The settings file (aimo.toml): sites, providers, WordPress model preferences. Never a secret.

Read once per command: a store keeps what it read until the file changes (size, mtime, inode). Reading parses only
what the command needs (`_scan`): every line of the file is checked, the site sections cheaply (runs of sections as
aimo writes them by one regular expression in one call, another section by a regular expression for the usual
`key = "value"` lines, tomllib for a section with anything else), the rest of the file
(default_site, [providers.*], [wordpress.*]) is parsed with the stdlib tomllib, and a site's entry is parsed when the
site is used: a one-site command reads one entry, `--shard K/N` hashes the names and reads its share's. Whenever the
fast path cannot be sure to read the file exactly as tomllib would (multi-line strings, array tables, sub-tables of a
site, `sites` defined by dotted keys or an inline table, a header it does not know, any error), the whole file is
parsed with tomllib, as before; tests/test_settings_scan.py checks the two against each other on generated files.

Errors: a syntax error anywhere (a site's section this command never reads included, so every shard of a fleet
reports it) is reported with file, line and column (exit 3) and the file left untouched; a site entry that parses but
is malformed (no url, a number for a string) is reported by the commands that use that site (and by `doctor`, which
validates everything).

Edited through tomlkit so the admin's comments and ordering survive; written atomically (0600) under a lock so two
aimo processes cannot interleave. An edit that names what it changes (a site, default_site, a model preference) in a
file the scan is sure of gives tomlkit a copy shrunk to those sites and splices the result back (the same bytes, at
the cost of a read; see "the write path on a big file" below); anything else is edited whole, as before.

Layout:
    default_site = "blog"
    [sites.blog]        url, user, optional group, rest_root (discovered), ca_bundle
    [providers.ID]      optional base_url, enabled, no_sampling_prefixes (anthropic)
    [wordpress.models]  text, image  ("provider:model")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
import contextlib
import functools
import re
from itertools import accumulate

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


_SITE_KEYS = frozenset({"url", "user", "group", "rest_root", "ca_bundle"})  # a site entry's own keys (others go to `extra`)


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


def _parse_fast(path: Path, text: str) -> tuple[dict, int | None, "SiteIndex | None"]:
    """The document for reading: (_scan's answer), or (the whole file as plain data, None, None) when _scan is not
    sure. On a syntax error tomlkit re-parses the file for the same message as edits give."""
    import tomllib

    scanned = _scan(text)
    if scanned is not None:
        return scanned
    try:
        return tomllib.loads(text), None, None
    except tomllib.TOMLDecodeError as exc:
        _parse(path, text)  # raises ConfigError with line and column when tomlkit agrees (it nearly always does)
        raise ConfigError(f"{path}: the settings file is not valid TOML ({exc})", f"Fix {path} (aimo left the file untouched).") from None


# -- the read path: parse only what a command needs ------------------------------------------------------------------

_CTRL = r"\x00-\x08\x0a-\x1f\x7f"  # the ASCII control characters but tab: TOML allows them nowhere (but LF as the newline)
_WS = r"[ \t]*"
_COMMENT = rf"(?:#[^{_CTRL}]*)?"
_BARE = r"[A-Za-z0-9_-]+"
# the value of a simple line: a basic string without escapes, a literal string, a boolean, a decimal integer
_VALUE = rf"""(?:"[^"\\{_CTRL}]*"|'[^'{_CTRL}]*'|true|false|[+-]?(?:0|[1-9](?:_?[0-9])*))"""
_SITE_HEADER = rf"""\[sites\.(?:(?P<bare>{_BARE})|"(?P<basic>[ !#-\[\]-~]*)"|'(?P<literal>[ -&(-~]*)')\]{_WS}{_COMMENT}\n"""
_OTHER_LINE = r"|(?P<bracket>[ \t]*\[)?[^\n]*\n"  # any other line, marked when it starts with "[" (a table header, or a line of a multi-line array)

# Two ways to read a site section whole: its header and the simple lines after it (key = value, comments, blank lines),
# no key set twice. Both give the same groups (the name; "bracket" for another line starting with "["); a section
# they do not take whole is left to tomllib. The scan takes _TOKEN for a file of up to _BIG characters, _big_token()
# past that (tests/test_settings_scan.py reads every generated file with both).
#
# _TOKEN: after each key, a look-ahead over the rest of the section for the same key (no later line sets it). Cheap to
# compile (well under a millisecond, which every command reading the file pays) but the look-ahead reads each line
# again for every key before it: a scan takes ~8 microseconds a section (in a fresh process; 55 ms for 10,000 sites).
_LINES = 100  # a site section of more lines than this is left to tomllib (the look-ahead stays short: linear time)
_NODUP = rf"(?!(?:(?![ \t]*\[)[^\n]*\n){{0,{_LINES}}}?[ \t]*(?P=k)[ \t]*=)"
_TOKEN = re.compile(
    rf"{_SITE_HEADER}(?:{_WS}(?:(?P<k>{_BARE}){_WS}={_WS}{_VALUE}{_WS}{_COMMENT}\n{_NODUP}|{_COMMENT}\n)){{0,{_LINES}}}{_OTHER_LINE}"
)
_BIG = 256 * 1024  # (~1,500 sites written by hand: about where the big-file token pays for its compilation)
# _big_token(): each key line has a group of its own, nested (matching stops at the first line that is neither a key
# line nor a blank or comment line), and before each key a back-reference to every key before it rules out a key set
# twice; the quantifiers are possessive (nothing they match can be given back to let the rest of a line match, so the
# engine keeps nothing to backtrack to), and a line as aimo writes it (`key = "value"`) is tried first. A scan takes
# ~3 microseconds a section (in a fresh process), but the pattern ~6 ms to compile (once a process): for big files only.
_KEYS = 10  # a site section of more key lines than this is left to tomllib (aimo writes at most 8 keys a site)


@functools.cache
def _big_token() -> re.Pattern:
    ws, comment = _WS + "+", rf"(?:#[^{_CTRL}]*+)?+"
    value = rf"""(?: = "[^"\\{_CTRL}]*+"|{ws}={ws}(?:"[^"\\{_CTRL}]*+"|'[^'{_CTRL}]*+'|true|false|[+-]?+(?:0|[1-9](?:_?[0-9])*+)){ws}{comment})"""
    skip = rf"(?:{ws}{comment}\n)*+"  # blank and comment lines
    lines = ""
    for i in reversed(range(_KEYS)):  # key line i, its blank and comment lines, then key lines i+1 …
        earlier = "".join(rf"(?!(?P=k{j})[ \t=])" for j in range(i))  # not the key of a line before it
        lines = rf"(?:{ws}{earlier}(?P<k{i}>{_BARE}+){value}\n{skip}{lines})?+"
    return re.compile(rf"{_SITE_HEADER}{skip}{lines}{_OTHER_LINE}")


# A run of site sections exactly as aimo writes them, matched in one call (no Python work per section but reading its
# name and start afterwards): a section is its header, then the keys aimo writes, in the order aimo writes them
# (services/sites.py add_site; a key in a fixed place cannot be there twice, so no back-reference is needed), each
# `key = value` spaced as aimo spaces it, then blank lines, and the next line starts with "[" (or the file ends). A
# section written any other way (another order, a comment, other spacing) ends the run and goes through the token,
# which reads it as before. ~1 microsecond a section against the token's ~8 (in a fresh process), but ~1.5 ms to compile
# (once a process): for files of _RUNS_FROM characters or more (~450 sites as aimo writes them) only. A 10,000-site
# fleet's file then compiles no big-file token at all.
_AIMO_KEYS = ("url", "user", "group", "rest_root", "rest_root_explicit", "allow_insecure_http", "home", "site_id", "ca_bundle")
_RUNS_FROM = 64 * 1024


@functools.cache
def _run() -> re.Pattern:
    value = rf"""(?:"[^"\\{_CTRL}]*+"|'[^'{_CTRL}]*+'|true|false|[+-]?+(?:0|[1-9](?:_?+[0-9])*+))"""
    keys = "".join(rf"(?:{key} = {value}\n)?+" for key in _AIMO_KEYS)
    return re.compile(rf"""(?:\[sites\.(?:{_BARE}|"[ !#-\[\]-~]*+"|'[ -&(-~]*+')\]\n{keys}\n*+(?=\[|\Z))++""")


_HEADER_AND_NEWLINE = 8  # len("[sites.") plus the newline before it, the split's separator

# a table header the fast path leaves to tomllib: plain keys, the first a word that is no TOML value (true, false,
# inf, nan) and not `sites`, so that in a valid file the line can be nothing but a header
_OTHER_HEADER = re.compile(rf"\[(?P<first>[A-Za-z_][A-Za-z0-9_-]*)(?:\.{_BARE})*\]{_WS}{_COMMENT}\n")
assert _TOKEN.groupindex == {"bare": 1, "basic": 2, "literal": 3, "k": 4, "bracket": 5}
_NOT_OTHER = frozenset({"sites", "true", "false", "inf", "nan"})
# reads the values of a section known to be all simple lines
_KEY_VALUE = re.compile(r"""^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:"([^"]*)"|'([^']*)'|(true|false)|([+-]?[0-9_]+))""", re.M)
_PLACEHOLDER = '[sites."\\u0000{}"]\n'  # stands for a run of site sections in the head (no site name read here has a NUL)


class SiteIndex:
    """The site sections of a settings file by name, in file order; each parsed on first use, then kept. Held as
    parallel lists (a fleet's 10,000 sections are three lists and a dict, not 10,000 objects to build)."""

    def __init__(self, text: str, sections: tuple | Callable[[], tuple], runs: int) -> None:
        self._text = text
        if callable(sections):
            self._build = sections  # the lists built on first use (__getattr__)
        else:
            self._set(*sections)
        self.runs = runs  # how many runs of consecutive site sections (more than one: other tables between)
        self._tables: dict[str, dict] = {}

    def _set(self, names: list[str], starts: list[int], ends: list[int], not_simple: set[int], at: dict[str, int]) -> None:
        self._names = names  # in file order
        self._starts, self._ends = starts, ends  # each section's text: from its header to the next header (or the end)
        self._not_simple = not_simple  # the sections that are not all simple lines (tomllib reads them)
        self._at = at  # name -> its position

    def __getattr__(self, name: str):
        if name in ("_names", "_starts", "_ends", "_not_simple", "_at") and "_build" in self.__dict__:
            self._set(*self.__dict__.pop("_build")())
            return getattr(self, name)
        raise AttributeError(name)

    def names(self) -> list[str]:
        return list(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._at

    def span(self, name: str) -> tuple[int, int, bool]:
        """(start, end, all simple lines) of site `name`'s section."""
        i = self._at[name]
        return self._starts[i], self._ends[i], i not in self._not_simple

    def mentioning(self, groups: list[tuple[str, ...]]) -> list[str]:
        """The sites whose section contains every text of one of `groups` (ASCII case ignored), or is not all simple
        lines (whose values may be escaped), in file order. A simple line's value is its text: no entry left out has
        them all in one value."""
        import bisect

        names = self._names
        if not self._text.isascii() or not all(all(group) for group in groups):
            return list(names)  # (str.lower keeps the positions of ASCII text only)
        starts, ends = self._starts, self._ends
        low = self._text.lower()
        found: dict[str, set[int]] = {}
        for needle in {n.lower() for group in groups for n in group}:
            found[needle] = hits = set()
            at = low.find(needle)
            while at >= 0:
                i = bisect.bisect_right(starts, at) - 1
                if i >= 0 and at < ends[i]:
                    hits.add(i)
                at = low.find(needle, at + 1)
        out = set(self._not_simple)
        for group in groups:
            out |= set.intersection(*(found[n.lower()] for n in group))
        return [names[i] for i in sorted(out)]

    def table(self, name: str) -> dict:
        table = self._tables.get(name)
        if table is None:
            start, end, simple = self.span(name)
            if simple:
                table = {}
                text = self._text
                for m in _KEY_VALUE.finditer(text, text.index("\n", start), end):
                    key, basic, literal, boolean, number = m.groups()
                    if basic is not None:
                        table[key] = basic
                    elif literal is not None:
                        table[key] = literal
                    elif boolean is not None:
                        table[key] = boolean == "true"
                    else:
                        table[key] = int(number)
            else:
                import tomllib

                table = tomllib.loads(self._text[start:end])["sites"][name]  # _scan parsed it once: it parses
            self._tables[name] = table
        return table


def _scan(text: str) -> tuple[dict, int | None, SiteIndex] | None:
    """The file read without parsing its site sections: (the rest of it as tomllib reads it, the position of `sites`
    among its top-level keys, the index of the site sections); None when the fast path is not sure.

    Every line is read by a regular expression: in a file of _RUNS_FROM characters or more, a run of site sections as
    aimo writes them by _run(), in one call; another site section by the token (_TOKEN, or _big_token() in a big file),
    whole (its header and the simple lines after it); any other line alone by _TOKEN. A section runs from a line starting with "[" to the next such line. The
    answer is given only when
    - there is no multi-line string and no CR (a line is a line), and every line starting with "[" is a site
      header or an _OTHER_HEADER: then in a valid file none is an array's element (its first key is no TOML value),
      each starts a table at the top level, and the sections cut the file where TOML cuts it;
    - the head (the lines before the first header and the other tables, each run of site sections replaced by a
      placeholder [sites."\\u0000N"] header, which no array can hold either) parses with tomllib, and its `sites`
      holds only the placeholders (no dotted key, inline table or [sites] header adds to it);
    - each site section parses alone: the simple ones by construction (the regular expressions accept only valid
      lines and no key set twice), the others with tomllib on their text;
    - no site section is there twice (`[sites.a]` and `[sites."a"]` are one).
    Then the file is valid, and says exactly the head plus each section (nothing else reaches into `sites.NAME`).
    Anything else, including every error, is left to the full parse, which reports it as it always did.
    """
    import tomllib

    if '"""' in text or "'''" in text or "\r" in text:
        return None
    if not text.endswith("\n"):
        text += "\n"
    names: list[str] = []  # the site sections, in file order
    starts: list[int] = []
    cut: list[tuple[int, int]] = []  # (section, end) of the last section of each run of site sections followed by a table
    not_simple: set[int] = set()
    head: list[str] = []
    in_site = False  # reading a site section (else the head)
    head_from = 0  # where the head text being read started (when not in a site section)
    runs = 0
    small, runs_pay = len(text) <= _BIG, len(text) >= _RUNS_FROM
    pos, size = 0, len(text)
    while pos < size:
        if text.startswith("[sites.", pos):
            run = _run().match(text, pos) if runs_pay else None
            if run is not None:  # site sections as aimo writes them: simple by construction
                if not in_site:  # a run of site sections begins
                    head.append(text[head_from:pos])
                    head.append(_PLACEHOLDER.format(runs))
                    runs += 1
                    in_site = True
                # in a run every line starting with "[" is a section's header: cut there, the pieces' lengths give the
                # sections' starts, and each piece's first line is its header's name and "]" (nothing else: see _run)
                end = run.end()
                pieces = text[pos + 7 : end].split("\n[sites.")  # (7: len("[sites."); each piece starts at a name)
                starts += accumulate(map(_HEADER_AND_NEWLINE.__add__, map(len, pieces)), initial=pos)
                starts.pop()  # (where the next run would start)
                headers = [piece.partition("\n")[0] for piece in pieces]  # NAME] or "NAME"] or 'NAME']
                names += [header[1:-2] if header[0] in "\"'" else header[:-1] for header in headers]
                pos = end
                continue
            token = _TOKEN if small else _big_token()
        else:
            token = _TOKEN  # (no site header: both tokens read any other line alike)
        m = token.match(text, pos)  # (every line start matches: a line that is nothing else is _OTHER_LINE)
        pos = m.end()
        kind = m.lastindex  # the last group matched: None for a plain line, "bracket" for a "[" line, else a site
        if kind is None:  # a line that is not simple: in a site section, tomllib will check that section
            if in_site:
                not_simple.add(len(names) - 1)
            continue
        if kind == token.groupindex["bracket"]:  # another table's header
            start = m.start()
            other = _OTHER_HEADER.fullmatch(text, start, pos)
            if other is None or other.group("first") in _NOT_OTHER:
                return None
            if in_site:
                cut.append((len(names) - 1, start))
                in_site = False
                head_from = start
            continue
        name = m[1]  # (m[i] rather than m.group(1, 2, 3))
        names.append(name if name is not None else m[2] if m[2] is not None else m[3])
        if not in_site:  # a run of site sections begins
            head.append(text[head_from : m.start()])
            head.append(_PLACEHOLDER.format(runs))
            runs += 1
            in_site = True
        starts.append(m.start())
    if not in_site:
        head.append(text[head_from:])
    ends = starts[1:] + [len(text)]  # a section ends where the next begins, or a table, or the file
    for i, end in cut:
        ends[i] = end
    at = dict(zip(names, range(len(names))))
    if len(at) != len(names):  # a site twice
        return None
    try:
        doc = tomllib.loads("".join(head))
        for i in not_simple:
            tomllib.loads(text[starts[i] : ends[i]])
    except tomllib.TOMLDecodeError:
        return None
    position = None
    if runs:
        sites = doc.get("sites")
        if not isinstance(sites, dict) or list(sites) != [f"\0{i}" for i in range(runs)]:
            return None
        position = list(doc).index("sites")
        del doc["sites"]
    elif "sites" in doc:
        return None
    return doc, position, SiteIndex(text, (names, starts, ends, not_simple, at), runs)


class Settings:
    """A typed, validating view over the TOML document: tomlkit's when editing, plain data when only reading. A read
    view from the fast path (_scan) holds the file without its site sections and an index of those: a site's section
    is parsed when the site is first asked for, and `doc` (the whole file as plain data) is built only if asked for."""

    def __init__(self, path: Path, doc, *, frozen: bool = False, index: SiteIndex | None = None, sites_at: int | None = None) -> None:
        self.path = path
        self._doc = doc  # with an index: everything but `sites`
        self._index = index
        self._sites_at = sites_at  # where `sites` is among the top-level keys (with an index)
        self._frozen = frozen  # read-only view: derived values may be kept
        self._sites: dict[str, SiteConfig] | None = None
        self._site: dict[str, SiteConfig] = {}

    @property
    def doc(self):
        """The whole document (a read view from the fast path builds it on first use: every site is parsed then)."""
        if self._index is not None:
            keys = list(self._doc.items())
            if self._sites_at is not None:
                keys.insert(self._sites_at, ("sites", {name: self._index.table(name) for name in self._index.names()}))
            self._doc, self._index = dict(keys), None
        return self._doc

    # -- reading -------------------------------------------------------------------------------------------------
    def _table(self, *keys: str) -> dict:
        node: Any = self._doc if keys[0] != "sites" else self.doc
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

    def raw(self, *keys: str):
        """The plain value at keys (e.g. ("providers", "openai")), unchecked; None when absent."""
        node: Any = self._doc if not keys or keys[0] != "sites" else self.doc
        for key in keys:
            node = node.get(key) if hasattr(node, "get") else None
            if node is None:
                return None
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
        value = self._doc.get("default_site")
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self.path}: `default_site` must be a string", "Write default_site = \"NAME\".")
        return str(value) if value else None

    def site_names(self) -> list[str]:
        """The configured sites' names, in file order, without reading their entries."""
        if self._index is not None:
            return self._index.names()
        return [str(name) for name in self._table("sites")]

    def site_names_mentioning(self, groups: list[tuple[str, ...]]) -> list[str]:
        """The sites whose entry may contain every text of one of `groups` (ASCII case ignored), in file order: every
        site whose entry does, and maybe others (all of them when the file was not scanned)."""
        if self._index is not None:
            return self._index.mentioning(groups)
        return self.site_names()

    def site(self, name: str) -> SiteConfig | None:
        """One site's entry, checked (ConfigError when it is malformed); None when no site has that name. Only this
        site's entry is read: another site's malformed entry is reported by the commands that use that site."""
        if self._sites is not None:
            return self._sites.get(name)
        found = self._site.get(name)
        if found is not None:
            return found
        if self._index is not None:
            if name not in self._index:
                return None
            table = self._index.table(name)
        else:
            table = self._table("sites").get(name)
            if table is None:
                return None
        found = self._site_config(name, table)
        if self._frozen:
            self._site[name] = found
        return found

    def _site_config(self, name: str, table) -> SiteConfig:
        if type(table) is dict and table.keys() <= _SITE_KEYS and type(table.get("url")) is str and type(table.get("user")) is str and all(type(v) is str for v in table.values()):
            # an entry as aimo writes it (known keys, text values): what the checks below would build, without them
            # (a fleet reads a thousand of these)
            site = object.__new__(SiteConfig)
            site.__dict__.update(name=str(name), url=table["url"], user=table["user"], group=table.get("group"), rest_root=table.get("rest_root"), ca_bundle=table.get("ca_bundle"), extra={})
            return site
        where = f"sites.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{self.path}: `{where}` must be a table", f"Write it as [{where}] with url and user.")
        known = _SITE_KEYS
        return SiteConfig(
            name=str(name),
            url=self._str(table, "url", where, required=True) or "",
            user=self._str(table, "user", where, required=True) or "",
            group=self._str(table, "group", where),
            rest_root=self._str(table, "rest_root", where),
            ca_bundle=self._str(table, "ca_bundle", where),
            extra={k: v for k, v in table.items() if k not in known},
        )

    def sites(self) -> dict[str, SiteConfig]:
        """Every site's entry, checked (the first malformed one, in file order, is a ConfigError)."""
        if self._sites is not None:
            return dict(self._sites)
        if self._index is not None:
            out = {name: self._site.get(name) or self._site_config(name, self._index.table(name)) for name in self._index.names()}
        else:
            out = {str(name): self._site_config(name, table) for name, table in self._table("sites").items()}
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

    def validate(self, *, sites: list[str] | None = None) -> None:
        """Touch every section so a type error surfaces now, as a ConfigError; `sites`: only these sites' entries."""
        self.default_site
        if sites is None:
            self.sites()
        else:
            for name in sites:
                self.site(name)
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
        self._scanned: tuple[tuple, str, SiteIndex] | None = None  # the text the last load read and its scan

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
        text = self._read_text()
        doc, sites_at, index = _parse_fast(self.path, text)
        settings = Settings(self.path, doc, frozen=True, index=index, sites_at=sites_at)
        self._loaded = (stamp, settings) if stamp else None
        self._scanned = (stamp, text, index) if stamp and index is not None else None
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

        With a `scope`, in a file the read path's scan is sure of, tomlkit edits a copy shrunk to the sites the scope
        names and the result is spliced back into the file ("the write path on a big file", below): the same bytes at
        the cost of a read. Only the sites the scope names are validated (a malformed entry of another site is
        reported by the commands that use that site, as on the read path); without a scope, every site is.
        """
        with locked(self.path):
            stamp = self._stamp()
            scanned = self._scanned
            if scanned is not None and stamp and scanned[0] == stamp:
                before_text, index = scanned[1], scanned[2]  # read by this command, unchanged since (same inode, size, mtime)
            else:
                before_text, index = self._read_text(), None
            started = _splice_start(self.path, before_text, index, scope) if scope is not None else None
            if started is not None:
                settings, shrunk = started
                yield settings
                settings.validate(sites=_scoped_sites(scope))
                text = _splice_finish(settings, shrunk, scope)
                if text is None:  # not proven: the edit the shrunk copy received, made on the whole file
                    before = _plain(before_text)
                    expected = _splice_replay(before, settings.doc.unwrap(), shrunk, scope)
                    text = _rewrite_scoped(self.path, before_text, before, expected, scope)
                if shrunk.new_index is None:
                    shrunk = None
            else:
                settings = Settings(self.path, _parse(self.path, before_text))
                yield settings
                settings.validate(sites=_scoped_sites(scope) if scope is not None else None)
                text = checked_render(self.path, before_text, settings.doc, scope)
                shrunk = None
            atomic_write(self.path, text)
            self._loaded = self._scanned = None
            stamp = self._stamp()
            if shrunk is not None and stamp:  # the proof scanned the new text: later reads of this command use it
                view = Settings(self.path, shrunk.head, frozen=True, index=shrunk.new_index, sites_at=shrunk.sites_at)
                self._loaded, self._scanned = (stamp, view), (stamp, text, shrunk.new_index)


def _scoped_sites(scope: tuple[tuple[str, ...], ...]) -> list[str]:
    """The sites an edit of `scope` touches (the ones its validation checks)."""
    return [p[1] for p in scope if len(p) >= 2 and p[0] == "sites"]


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
    return _rewrite_scoped(path, before_text, before, expected, scope)


def _rewrite_scoped(path: Path, before_text: str, before: dict, expected: dict, scope: tuple[tuple[str, ...], ...]) -> str:
    """When the in-place edit rendered wrongly (e.g. a [table] inserted between dotted keys): edit the original text
    again, deleting changed tables and setting plain values in place, and append new tables at the end; proven to
    parse back to `expected`, else ConfigError."""
    import tomlkit

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


# -- the write path on a big file: tomlkit edits a shrunk copy, the result is spliced back --------------------------
#
# Edits of a big settings file at the cost of a read: tomlkit edits a shrunk copy, the result is spliced back.
#
# tomlkit reads the whole file into its own objects to edit it (~0.5 ms per site entry: 5-7 s for a 10,000-site file).
# An edit changes the top of the file (default_site, [providers.*], [wordpress.*]) and a site or two, so when the read
# path's scan (settings._scan) is sure of the file and its site sections are one run (no other table between them),
# tomlkit gets a shrunk copy instead: each stretch of site sections the edit does not name is replaced by one empty
# placeholder section (`[sites.-aimo-N]`, a name no site of the file has), keeping verbatim the sections the edit's
# `scope` names, their neighbours and the first and last section (where tomlkit puts a new site, and what its removals
# look at). The caller edits that document exactly as it would edit the whole file (SettingsStore.edit), tomlkit renders
# it, and each placeholder is replaced by the text it stood for. tomlkit edits the same neighbourhood either way, so the
# result is the bytes the full round trip writes: tests/test_settings_splice.py compares the two on generated files.
#
# Nothing is written unless proven (Shrunk.render): the rendered copy must scan as a valid file that says exactly the
# edited document, and the runs put back are whole sections of the old file, so the new file scans as the old one did
# for them; nothing outside the edit's scope may change (else the edit is refused, as the full round trip refuses it).
# When the proof fails, the edit is made on the whole file instead (SettingsStore.edit), never written unproven.


class _NotLocal(Exception):
    """The edit cannot be made on a shrunk copy (tomlkit would touch more than the neighbourhood)."""


class _Shrunk:
    """A settings file the scan is sure of, shrunk around the sites an edit names (see above)."""

    def __init__(self, text: str, index: SiteIndex, scope: tuple[tuple[str, ...], ...]) -> None:
        import tomllib

        self.text = text
        self.index = index
        names = index._names
        named = {p[1] for p in scope if len(p) >= 2 and p[0] == "sites"}
        if index.runs > 1:  # `sites` split by other tables: tomlkit gathers its sections on any edit (not local)
            raise _NotLocal
        # kept: the first and last sections (where tomlkit puts a new site, what its removals look at), the named
        # ones and their neighbours
        keep = {0, len(names) - 1} if names else set()
        for name in named:
            if name not in index:
                continue
            i = index._at[name]
            keep.update(range(max(i - 1, 0), min(i + 2, len(names))))
        self.kept = {names[i] for i in keep}
        pieces: list[str] = []
        self.holders: dict[str, tuple[int, int]] = {}  # placeholder name -> (first, last + 1) of the sections it holds
        pos = 0
        kept = sorted(keep)
        for i, j in zip(kept, kept[1:]):
            if j - i < 2:
                continue
            # sections i+1 … j-1 become a site section of their own, of a name no site has: `-aimo-N` (no name aimo
            # accepts starts with "-"), lengthened until it is no name of the file or of the edit
            key = f"-aimo-{len(self.holders)}"
            while key in index or key in named:
                key += "-"
            self.holders[key] = (i + 1, j)
            start, end = self._span(key)
            pieces += [text[pos:start], f"[sites.{key}]\n"]
            pos = end
        pieces.append(text[pos:])
        self.mini = "".join(pieces)
        self.new_index: SiteIndex | None = None  # the scan's reading of the new text, once render proved it
        self.before = tomllib.loads(self.mini)  # the scan proved the file valid; the shrunk copy is too

    def holder(self, name: str) -> str | None:
        """The placeholder that stands for site `name` of the file; None when none does."""
        if name not in self.index or name in self.kept:
            return None
        at = self.index._at[name]
        return next(key for key, (first, last) in self.holders.items() if first <= at < last)

    def held(self, key: str) -> list[str]:
        """The sites placeholder `key` stands for, in file order."""
        first, last = self.holders[key]
        return self.index._names[first:last]

    def _span(self, key: str) -> tuple[int, int]:
        """Where the text placeholder `key` stands for is in the file."""
        first, last = self.holders[key]
        return self.index._starts[first], self.index._ends[last - 1]

    def names(self, sites) -> list[str]:
        """The site names of the (edited) shrunk document, the placeholders expanded."""
        out: list[str] = []
        for key in sites or ():
            key = str(key)
            out.extend(self.held(key) if key in self.holders else (key,))
        return out

    def assemble(self, rendered: str) -> str | None:
        """tomlkit's rendering of the edited shrunk copy with each placeholder's line replaced by the text it stood
        for, unproven; None when a placeholder's line is not there once, in order, at a line start."""
        pieces: list[str] = []
        pos = 0
        for key in self.holders:
            start, end = self._span(key)
            line = f"[sites.{key}]\n"
            at = rendered.find(line, pos)
            if at < 0 or rendered.find(line, at + 1) >= 0 or rendered.rfind(line, 0, pos) >= 0 or (at and rendered[at - 1] != "\n"):
                return None
            pieces += [rendered[pos:at], self.text[start:end]]
            pos = at + len(line)
        pieces.append(rendered[pos:])
        return "".join(pieces)

    def render(self, rendered: str, expected: dict, scope: tuple[tuple[str, ...], ...]) -> str | None:
        """The whole file for tomlkit's rendering of the edited shrunk copy, proven (see above);
        None when it cannot be proven (the caller then redoes the edit on the whole file).

        The proof: the scan reads the rendered shrunk copy as a valid file saying exactly the edited document (its
        top part, its sites in order, each kept section's entry, each placeholder a bare header line). Putting back
        the runs of sections the placeholders stood for changes nothing else the scan sees: each run is whole
        sections of the old file (from a site header to a line starting with "[", no CR, no multi-line string),
        placed at a line start before such a line or the end, among site sections; so the whole new file scans as
        the shrunk copy did, with each run's sections, byte for byte and so entry for entry, as they were."""
        scanned = _scan(rendered)
        if scanned is None:
            return None
        head, sites_at, mini = scanned
        expected_sites = expected.get("sites") or {}
        if _pruned(head) != _pruned({k: v for k, v in expected.items() if k != "sites"}):
            return None
        if mini.names() != [str(k) for k in expected_sites]:
            return None
        for key, table in expected_sites.items():
            if key not in self.holders and mini.table(key) != table:
                return None
        pieces: list[str] = []
        segments: list[tuple] = []  # the new file's sections: (name, start, end, simple) or (first, last, shift) of a run
        mini_text = mini._text
        pos = shift = 0
        for name in mini.names():
            s, e, simple = mini.span(name)
            if name not in self.holders:
                if name in self.index and name not in self.kept:
                    return None  # a site twice (added beside the placeholder that holds it)
                segments.append((name, s + shift, e + shift, simple))
                continue
            if mini_text[s:e] != f"[sites.{name}]\n":
                return None  # something follows the placeholder's header in its section
            start, end = self._span(name)
            pieces += [mini_text[pos:s], self.text[start:end]]
            segments.append((*self.holders[name], s + shift - start))
            shift += (end - start) - (e - s)
            pos = e
        pieces.append(mini_text[pos:])
        full = "".join(pieces)  # as the scan reads it: with a final newline
        old = self.index

        def sections() -> tuple:  # built when a later read of this command needs them (SiteIndex)
            names: list[str] = []
            starts: list[int] = []
            ends: list[int] = []
            not_simple: set[int] = set()
            for segment in segments:
                if len(segment) == 4:
                    name, start, end, simple = segment
                    if not simple:
                        not_simple.add(len(names))
                    names.append(name), starts.append(start), ends.append(end)
                else:
                    first, last, base = segment
                    not_simple.update(i - first + len(names) for i in old._not_simple if first <= i < last)
                    names += old._names[first:last]
                    starts += [at + base for at in old._starts[first:last]]
                    ends += [at + base for at in old._ends[first:last]]
            return names, starts, ends, not_simple, dict(zip(names, range(len(names))))

        self.head, self.sites_at, self.new_index = head, sites_at, SiteIndex(full, sections, mini.runs)
        return full if rendered.endswith("\n") else full[:-1]


class _ShrunkSettings(Settings):
    """The edit view of a shrunk file: `doc` is tomlkit's shrunk document, which the caller edits; reads answer for
    the whole file (a placeholder's sites from the index)."""

    def __init__(self, path: Path, doc, shrunk: _Shrunk) -> None:
        super().__init__(path, doc)
        self._shrunk = shrunk

    def _site_tables(self):
        sites = self._table("sites")
        for key, table in sites.items():
            key = str(key)
            if key in self._shrunk.holders:
                for name in self._shrunk.held(key):
                    yield name, lambda name=name: self._shrunk.index.table(name)
            else:
                yield key, lambda table=table: table

    def site_names(self) -> list[str]:
        return self._shrunk.names(self._table("sites"))

    def site(self, name: str) -> SiteConfig | None:
        sites = self._table("sites")
        if name in sites and name not in self._shrunk.holders:
            return self._site_config(name, sites[name])
        holder = self._shrunk.holder(name)
        if holder is not None and holder in sites:
            return self._site_config(name, self._shrunk.index.table(name))
        return None

    def sites(self) -> dict[str, SiteConfig]:
        return {name: self._site_config(name, table()) for name, table in self._site_tables()}


def _splice_start(path: Path, text: str, index: SiteIndex | None, scope) -> tuple[_ShrunkSettings, _Shrunk] | None:
    """The edit view of a shrunk copy of `text`, or None when the edit must go through the whole file."""
    if scope is None:
        return None
    if index is None:
        scanned = _scan(text)
        if scanned is None:
            return None
        index = scanned[2]
    try:
        shrunk = _Shrunk(text, index, scope)
    except _NotLocal:
        return None

    try:
        doc = _parse(path, shrunk.mini)
    except ConfigError:
        return None
    return _ShrunkSettings(path, doc, shrunk), shrunk


def _splice_finish(settings: _ShrunkSettings, shrunk: _Shrunk, scope) -> str | None:
    """The new text of the file, proven: by the scan (then shrunk.new_index holds its reading), or else, when the
    scan cannot read tomlkit's rendering (say a header it indented), by tomllib on the whole file as the full round
    trip proves it. None when neither proves it (then the edit, as the shrunk document has it, is made on the whole
    file); ConfigError when the caller changed something outside its scope."""
    import tomlkit

    expected = settings.doc.unwrap()
    if _without(shrunk.before, scope) != _without(expected, scope):
        raise _refuse(settings.path, "the edit reached outside " + ", ".join(".".join(p) for p in scope))
    rendered = tomlkit.dumps(settings.doc)
    try:
        text = shrunk.render(rendered, expected, scope)
    except Exception:  # noqa: BLE001 - any surprise means "not proven by the scan"
        text = None
    if text is not None:
        return text
    shrunk.new_index = None
    text = shrunk.assemble(rendered)
    if text is not None and _parses_to(text, _splice_replay(_plain(shrunk.text), expected, shrunk, scope)):
        return text
    return None


def _splice_replay(before: dict, expected_shrunk: dict, shrunk: _Shrunk, scope) -> dict[str, Any]:
    """The whole document the edit means: the file as it was, with the scoped paths as the edited shrunk copy has
    them (for the full round trip when a splice could not be proven)."""
    import copy

    out = copy.deepcopy(before)
    for p in scope:
        new = _get(expected_shrunk, p)
        node = out
        for key in p[:-1]:
            node = node.setdefault(key, {})
        if new is None:
            node.pop(p[-1], None)
        else:
            node[p[-1]] = copy.deepcopy(new)
    return out
