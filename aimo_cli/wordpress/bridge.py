"""The bridge plugin's REST contract (aimo/v1): a typed client. Its answers are parsed here, once, into frozen objects;
nothing outside this module reads the bridge's raw JSON.

Routes (the bridge's side of the contract is documented in ONE place, the JSON Schema
aimo_cli/bridge/aimo-bridge/contract/status.schema.json, which tests check real answers and this parser against):
  GET  /aimo/v1/status[?check=1]     -> BridgeStatus
  POST /aimo/v1/mode                 {mode, take_over} -> ModeChange; 409 aimo_conflict -> BridgeConflict
  POST /aimo/v1/models               {text?, image?} ("provider:model" or "") -> ModelPrefs; 400 aimo_disconnected_provider;
                                     409 aimo_conflict while another manager manages -> BridgeConflict
  POST /aimo/v1/credentials          {id: key} -> {id: CredentialResult}; 409 aimo_conflict -> BridgeConflict
  GET  /aimo/v1/credentials/{id}     -> the raw key; 403 aimo_insecure_transport unless https or from loopback
  POST /aimo/v1/base-urls            {id: url|null} -> the stored overrides {id: url}; 400 aimo_insecure_url for http
                                     to a non-loopback host (both: super admin only on multisite)
  POST /aimo/v1/base-urls/check      the same body, permission and validation: the overrides it would store, nothing
                                     written (a dry run; 404 rest_no_route from bridges before it)
  GET  /aimo/v1/models[?refresh=1]   (the Connectors page banner's pickers; not used by aimo)
  POST /aimo/v1/banner               {dismissed: bool} (the Connectors page banner)

Tolerant parsing: an unknown field is kept in `extra` (and given back by `as_dict`), a field of the wrong type gets its
default, so a newer bridge never breaks an older aimo. The version check: the bridge reports `bridge_version`;
aimo speaks to bridges of the same major.minor (`core.versions.BRIDGE_COMPAT`). `status()` refuses an incompatible
bridge (ConfigError, exit 3) unless asked not to (the doctor reports it as a check instead).

A status's change log and a connector's parts (registrant, served_by, page, ollama_host) are built when first read
(`_later`: sync status of a site in sync reads none of them; `change_log_newest` builds only the entry it finds),
the same objects, defaults and skipped entries as an eager parse (tests/test_bridge_parse.py). Until then the object
holds the answer's own value: a document given to the parse is not to be changed afterwards (an answer's is
json.loads's own, held by nothing else).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import MISSING, field, fields
from itertools import repeat
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..core.records import record
from ..core.secrets import looks_masked
from ..core.versions import BRIDGE_COMPAT, parse_version
from ..errors import AimoError, ConfigError, ExitStatus, RemoteError, SafetyError, UsageError

NS = "/aimo/v1"
MODES = ("observe", "managed", "off")
PLUGIN_ROUTE = "/wp/v2/plugins/aimo-bridge/aimo-bridge"
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class BridgeMissing(RemoteError):
    """The site has no aimo/v1 routes: the bridge is not installed or not active."""


class BridgeConflict(SafetyError):
    """Another plugin manages the connectors; taking over needs the admin's say-so."""

    def __init__(self, message: str, hint: str | None = None, *, manager: str = "") -> None:
        super().__init__(message, hint)
        self.manager = manager


class BridgeIncompatible(ConfigError):
    """The bridge on the site speaks another version of the contract."""


# -- tolerant converters: each returns the value or raises _Bad (then the field keeps its default) --------------------


class _Bad(Exception):
    pass


def _str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise _Bad


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise _Bad(f"expected an integer, got {type(v).__name__}")
    try:
        return int(v)
    except ValueError:
        raise _Bad(f"expected an integer, got {v!r}") from None


def _opt_str(v: Any) -> str | None:
    return None if v is None else _str(v)


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v in (0, 1):
        return bool(v)
    raise _Bad


def _opt_bool(v: Any) -> bool | None:
    return None if v is None else _bool(v)


def _list(conv: Callable[[Any], Any]) -> Callable[[Any], tuple]:
    def parse(v: Any) -> tuple:
        if not isinstance(v, list):
            raise _Bad
        out = []
        for item in v:
            try:
                out.append(conv(item))
            except _Bad:
                continue  # one malformed entry does not cost the others
        return tuple(out)

    parse.of = ("list", conv)  # type: ignore[attr-defined]  # read by _compile
    return parse


def _opt(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(v: Any) -> Any:
        return None if v is None else conv(v)

    parse.of = ("opt", conv)  # type: ignore[attr-defined]
    return parse


def _obj(cls: type) -> Callable[[Any], Any]:
    def parse(v: Any) -> Any:
        if not isinstance(v, dict):
            raise _Bad
        return _parse(cls, v)

    parse.of = ("obj", cls)  # type: ignore[attr-defined]
    return parse


def _later(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A field read when it is first read, not when its document is parsed: `conv` is what it would be read with,
    `_list(_obj(cls))` (a list of objects) or `_opt(_obj(cls))` (an object or None). The field holds a _Later until
    then, which _Lazy (the class's descriptor for the field, installed by @_lazy_fields) turns into what `conv` makes
    of the value. Only the shape is checked at once: not a list (an object or None): the field's default, as `conv`'s
    _Bad gives, by the same isinstance test. Past it nothing in `conv` fails (an entry that is not an object is
    skipped, every object gives one), so the value read later is the eager one exactly. A status's change log (50
    entries and their writers in a real one) is read only when a provider's state calls for it; a connector's
    registrant, served_by, page and ollama_host only by the commands that show them (not by sync status)."""
    kind, inner = conv.of  # type: ignore[attr-defined]
    cls = inner.of[1]
    if kind == "list":

        def parse(v: Any) -> Any:
            if not isinstance(v, list):
                raise _Bad
            return _Later(cls, v, True)

    else:  # "opt": an object, or None

        def parse(v: Any) -> Any:
            if v is None:
                return None
            if not isinstance(v, dict):
                raise _Bad
            return _Later(cls, v, False)

    parse.of = conv.of  # type: ignore[attr-defined]  # what it gives (the tests' reference reads it so)
    parse.later = cls  # type: ignore[attr-defined]  # (so _compile takes no shortcut that would read it at once)
    return parse


class _Later:
    """A _later field's value as the document gave it (a list of objects, or one object), until the field is read.
    `newest` finds one entry of a list without building the others; an entry so built is kept (`made`, by place) for
    the whole list's reading: no entry is built twice."""

    __slots__ = ("cls", "raw", "many", "done", "made")

    def __init__(self, cls: type, raw: Any, many: bool) -> None:
        self.cls, self.raw, self.many, self.done, self.made = cls, raw, many, None, None

    def value(self) -> Any:
        done = self.done
        if done is None:
            cls, made = self.cls, self.made
            if not self.many:
                done = _parse(cls, self.raw)
            else:
                parser = _PARSERS.get(cls) or (lambda x: _parse(cls, x))
                if made:
                    done = tuple([made[i] if i in made else parser(x) for i, x in enumerate(self.raw) if isinstance(x, dict)])
                else:
                    done = tuple([parser(x) for x in self.raw if isinstance(x, dict)])
            self.done, self.made = done, None
        return done

    def newest(self, attr: str, keep: Callable[[Any], bool], by: str) -> Any:
        """Of the entries whose field `attr` passes `keep` (a pure test of the value), the one whose field `by` is the
        greatest, the later in the list on a tie (None: no entry passes): the same object as the loop over
        self.value() would pick, built alone (its fields read from the answer as the parse reads them)."""
        if self.done is not None:
            return _newest(self.done, attr, keep, by)
        raw = self.raw
        name, kind, read = _field_reader(self.cls, attr)
        by_name, by_kind, by_read = _field_reader(self.cls, by)
        if set(map(type, raw)) <= _DICT:  # every entry a plain object (a bridge's log): their values read in C
            values = list(map(dict.get, raw, repeat(name)))
            order = list(map(dict.get, raw, repeat(by_name)))
            if set(map(type, values)) <= {kind} and set(map(type, order)) <= {by_kind}:  # (each of the type taken as it is)
                wanted = {v for v in set(values) if keep(v)}  # keep asked once per value
                best = None
                for i in [i for i, v in enumerate(values) if v in wanted]:
                    if best is None or order[i] >= order[best]:
                        best = i
                return None if best is None else self._entry(best)
        asked: dict[Any, bool] = {}
        best, top = None, None
        for i, x in enumerate(raw):
            if not isinstance(x, dict):
                continue  # not an entry (_list skips it)
            v = x.get(name, _MISSING)
            if type(v) is not kind:
                v = read(x)
            k = asked.get(v)
            if k is None:
                k = asked[v] = bool(keep(v))
            if k:
                w = x.get(by_name, _MISSING)
                if type(w) is not by_kind:
                    w = by_read(x)
                if best is None or w >= top:
                    best, top = i, w
        return None if best is None else self._entry(best)

    def _entry(self, i: int) -> Any:
        """The object of the list's entry i (an object), built once."""
        made = self.made
        if made is None:
            made = self.made = {}
        entry = made.get(i)
        if entry is None:
            entry = made[i] = _parse(self.cls, self.raw[i])
        return entry


_DICT = frozenset({dict})  # (the type of every entry of a bridge's change log)


def _newest(entries: Any, attr: str, keep: Callable[[Any], bool], by: str) -> Any:
    """Of built `entries`, the one whose `attr` passes `keep` and whose `by` is the greatest, the later on a tie."""
    best = None
    for e in entries:
        if keep(getattr(e, attr)) and (best is None or getattr(e, by) >= getattr(best, by)):
            best = e
    return best


_READERS: dict[tuple[type, str], tuple[str, type, Callable[[Mapping[str, Any]], Any]]] = {}


def _field_reader(cls: type, attr: str) -> tuple[str, type, Callable[[Mapping[str, Any]], Any]]:
    """How one field of a `cls` object parsed from `raw` is read from `raw` alone, as the plain parse reads it (its
    converter, else its default): (its JSON name, the type its value is taken as it is when it has it (_TAKEN),
    `read(raw)`: the field's value for any object)."""
    reader = _READERS.get((cls, attr))
    if reader is None:
        f = next(f for f in fields(cls) if f.name == attr and "conv" in f.metadata)
        name, conv = json_name(f), f.metadata["conv"]
        factory = f.default_factory if f.default is MISSING else None
        default = f.default

        def read(raw: Mapping[str, Any]) -> Any:
            v = raw.get(name, _MISSING)
            if v is _MISSING:
                return factory() if factory is not None else default
            return _convert(conv, v, default, factory)

        reader = _READERS[(cls, attr)] = (name, _TAKEN.get(conv, _Never), read)
    return reader


class _Lazy:
    """The descriptor of a _later field: reading it turns the _Later its object holds into the value, kept in the
    object's __dict__ in its place (a frozen record's __init__ writes there too)."""

    def __init__(self, name: str, default: Any) -> None:
        self.name, self.default = name, default

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self.default  # the class's attribute: the field's default, as a dataclass has it
        d = obj.__dict__
        v = d.get(self.name, self.default)  # (unset: the class's default, as for any dataclass field)
        if type(v) is _Later:
            v = d[self.name] = v.value()
        return v

    def __set__(self, obj: Any, value: Any) -> None:  # object.__setattr__ (a frozen record's own refuses before this)
        obj.__dict__[self.name] = value


def _lazy_fields(cls: type) -> type:
    """After @record: a _Lazy descriptor for each field whose converter is a _later."""
    for f in fields(cls):
        if getattr(f.metadata.get("conv"), "later", None) is not None:
            setattr(cls, f.name, _Lazy(f.name, f.default))
    return cls


def _str_lists(v: Any) -> Mapping[str, tuple[str, ...]]:
    """{key: [str, …]}; PHP sends an empty object as [] when it has no keys."""
    if v == []:
        return _EMPTY
    if not isinstance(v, dict):
        raise _Bad
    out = {}
    for k, items in v.items():
        try:
            out[str(k)] = _list(_str)(items)
        except _Bad:
            continue
    return MappingProxyType(out)


def _str_map(v: Any) -> Mapping[str, str]:
    if v == []:
        return _EMPTY
    if not isinstance(v, dict):
        raise _Bad
    return MappingProxyType({str(k): x for k, x in v.items() if isinstance(x, str)})


def _f(conv: Callable[[Any], Any], default: Any, *, key: str | None = None) -> Any:
    """A contract field: its converter and the default it takes when missing or malformed. `key`: the JSON name when it
    is not a Python identifier (a served_by's `class`)."""
    meta = {"conv": conv, "key": key} if key else {"conv": conv}
    if isinstance(default, (Mapping, _Contract)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


def json_name(f: Any) -> str:
    """A contract field's name in the bridge's JSON."""
    return f.metadata.get("key") or f.name


def _extra() -> Any:
    return field(default_factory=lambda: _EMPTY, compare=False, repr=False)


_PLANS: dict[type, tuple[tuple[tuple[str, str, Callable[[Any], Any]], ...], dict[str, tuple[str, Callable[[Any], Any]]]]] = {}


def _plan(cls: type) -> tuple[tuple[tuple[str, str, Callable[[Any], Any]], ...], dict[str, tuple[str, Callable[[Any], Any]]]]:
    """A contract class's (field name, JSON name, converter) triples, and its JSON names → (field name, converter),
    worked out once per class (a fleet parses one status, a dozen objects, per site)."""
    plan = _PLANS.get(cls)
    if plan is None:
        triples = tuple((f.name, json_name(f), f.metadata["conv"]) for f in fields(cls) if "conv" in f.metadata)
        plan = _PLANS[cls] = (triples, {name: (attr, conv) for attr, name, conv in triples})
    return plan


_PARSERS: dict[type, Callable[[Mapping[str, Any]], Any]] = {}


_SEEN: dict[type, int] = {}
# objects of a class parsed the plain way (_slow_parse) before its parse is compiled: compiling the contract costs ~6 ms
# in a process, more than one status's parse saves (~0.2 ms), so a command that reads one or two statuses never pays
# it; a fleet (a status per site, ~120 objects each) compiles within its first few sites
COMPILE_AFTER = 200
_SIZES: dict[type, int] = {}  # the keys of those objects, in all (which reading the compiled parse starts with)


def _parse(cls: type, raw: Mapping[str, Any]) -> Any:
    """A contract object from its JSON object (tolerant: see the module docstring)."""
    parser = _PARSERS.get(cls)
    if parser is None:
        seen = _SEEN.get(cls, 0)
        if seen < COMPILE_AFTER:
            _SEEN[cls] = seen + 1
            _SIZES[cls] = _SIZES.get(cls, 0) + len(raw)
            return _slow_parse(cls, raw)
        parser = _parser(cls)
    return parser(raw)


def _parser(cls: type) -> Callable[[Mapping[str, Any]], Any]:
    parser = _PARSERS.get(cls)
    if parser is None:
        parser = _PARSERS[cls] = _compile(cls)
    return parser


# Each contract class's parse is compiled once a process has parsed COMPILE_AFTER objects of it (a fleet parses a
# status per site: a real one is ~120 objects, most of them the change_log's entries and their writers). Two readings
# (_compile picks one per class, from the sizes of the objects seen): the straight one, one generated function, each
# field read by its JSON name; and the walk of an object's own keys (a minimal bridge status's objects carry few of
# their fields). Either way a well-typed value (the common case) is taken without its converter, anything else goes
# through the converter (a malformed value keeps the default, exactly as before), the unknown fields are gathered into
# `extra` only when the object has any, and the frozen object is built without its __init__ (every field set: its
# value, else its default, as the dataclass's __init__ would). tests/test_bridge_parse.py compares both readings with
# the plain tolerant parse.

_MISSING = object()
_TAKEN = {_str: str, _opt_str: str, _bool: bool, _opt_bool: bool, _int: int}  # a value of this type is taken as it is
_OPTIONAL = (_opt_str, _opt_bool)  # (and None)
# converter -> the test (source) under which it gives the value back as it is
_SAME = {conv: ("v is None or " if conv in _OPTIONAL else "") + f"type(v) is {kind.__name__}" for conv, kind in _TAKEN.items()}


def _compile(cls: type) -> Callable[[Mapping[str, Any]], Any]:
    """A class's compiled parse. When the objects of it this process has parsed so far carried on average at most
    SPARSE of its fields (a minimal or older bridge's status): each object's own keys walked (_walk), an object that
    carries more read the straight way; else (a real status's full objects) the straight reading alone (_straight)."""
    fs = fields(cls)
    if any(f.default is MISSING and f.default_factory is MISSING for f in fs):  # the class's own __init__ (none today)
        return lambda raw: _slow_parse(cls, raw)
    known = sum(1 for f in fs if "conv" in f.metadata)
    if _SIZES.get(cls, 0) <= SPARSE * known * _SEEN.get(cls, 0):
        return _walk(cls, int(SPARSE * known))
    return _straight(cls)


def _straight(cls: type) -> Callable[[Mapping[str, Any]], Any]:
    # two lines per field, the rest in _convert: short source, quick to compile (~0.1 ms a class)
    ns: dict[str, Any] = {"_new": object.__new__, "_M": _MISSING, "_cls": cls, "_cv": _convert, "_Proxy": MappingProxyType, "_EMPTY": _EMPTY}
    known = []
    lines = ["def parse(raw):", " o = _new(_cls)", " d = o.__dict__", " get = raw.get"]
    for i, f in enumerate(fields(cls)):
        if f.default is not MISSING:
            ns[f"D{i}"], ns[f"F{i}"] = f.default, None
            default = f"D{i}"
        else:
            ns[f"D{i}"], ns[f"F{i}"] = None, f.default_factory
            default = f"F{i}()"
        if "conv" not in f.metadata:
            if f.name != "extra":
                lines.append(f" d[{f.name!r}] = {default}")
            continue
        ns[f"C{i}"] = conv = f.metadata["conv"]
        name = json_name(f)
        known.append(name)
        other = f"{default} if v is _M else _cv(C{i}, v, D{i}, F{i})"
        fast = _fast(conv, i, ns)
        value = f"{fast[1]} if {fast[0]} else {other}" if fast else other
        lines += [f" v = get({name!r}, _M)", f" d[{f.name!r}] = {value}"]
    ns["_known"] = frozenset(known)
    lines += [
        " if raw.keys() <= _known:",
        "  d['extra'] = _EMPTY",
        " else:  # fields this aimo does not know, kept in the answer's order",
        "  d['extra'] = _Proxy({k: x for k, x in raw.items() if k not in _known})",
        " return o",
    ]
    exec(compile("\n".join(lines), f"<contract parse of {cls.__name__}>", "exec"), ns)  # noqa: S102 - our own source
    return ns["parse"]


def _walk(cls: type, most: int) -> Callable[[Mapping[str, Any]], Any]:
    """The compiled parse of a class whose objects carry few of their fields: the defaults copied in at once, then the
    object's own keys walked (`table`: JSON name -> (field, the type taken as it is, what makes any other value)); an
    object with more than `most` keys is read the straight way (compiled when one comes)."""
    plain: dict[str, Any] = {}
    made = []  # the fields made by a factory
    table: dict[str, tuple[str, type, Callable[[Any], Any]]] = {}
    for f in fields(cls):
        if f.name == "extra":
            continue
        if f.default is not MISSING:
            plain[f.name] = f.default
        else:
            made.append((f.name, f.default_factory))
        if "conv" in f.metadata:
            conv = f.metadata["conv"]
            table[json_name(f)] = (f.name, *_sparse(conv, f.default, f.default_factory if f.default is MISSING else None))
    new = object.__new__
    straight = None

    def walk(raw: Mapping[str, Any]) -> Any:
        if len(raw) > most:
            nonlocal straight
            if straight is None:
                straight = _straight(cls)
            return straight(raw)
        o = new(cls)
        d = o.__dict__
        d.update(plain)
        for name, factory in made:
            d[name] = factory()
        x = None
        for k, v in raw.items():
            e = table.get(k)
            if e is None:
                if x is None:
                    x = {}
                x[k] = v  # a field this aimo does not know, kept in the answer's order
            elif type(v) is e[1]:
                d[e[0]] = v
            else:
                d[e[0]] = e[2](v)
        d["extra"] = _EMPTY if x is None else MappingProxyType(x)
        return o

    return walk


# the sparse walk (see _compile) for a class whose objects carry at most this share of its fields
SPARSE = 0.5


class _Never:
    """No value is of this type: a field whose every value goes through its converter."""



def _sparse(conv: Callable[[Any], Any], default: Any, factory: Callable[[], Any] | None) -> tuple[type, Callable[[Any], Any]]:
    """A field's (type, else) for the walk: a value of the type is the field's value as it is; any other value becomes
    what `else` makes of it: the same as the straight reading's (_fast, then _convert)."""

    def other(v: Any) -> Any:
        return _convert(conv, v, default, factory)

    kind, inner = getattr(conv, "of", (None, None))
    if getattr(conv, "later", None) is not None:
        return _Never, other  # read when the field is
    if conv in _OPTIONAL:
        return _TAKEN[conv], lambda v: None if v is None else other(v)
    if conv in _TAKEN:
        return _TAKEN[conv], other
    if kind == "obj":
        nested = _parser(inner)
        return _Never, lambda v: nested(v) if type(v) is dict else other(v)
    inner_kind, cls = getattr(inner, "of", (None, None))
    if inner_kind == "obj" and kind == "opt":
        nested = _parser(cls)
        return _Never, lambda v: None if v is None else (nested(v) if type(v) is dict else other(v))
    if inner_kind == "obj" and kind == "list":
        nested = _parser(cls)  # a non-object entry is skipped, as _obj's _Bad does in _list
        return _Never, lambda v: tuple([nested(x) for x in v if isinstance(x, dict)]) if type(v) is list else other(v)
    return _Never, other  # no shortcut: every value through the converter


def _convert(conv: Callable[[Any], Any], v: Any, default: Any, factory: Callable[[], Any] | None) -> Any:
    """A value that is not what its field holds as it is: through its converter, else the field's default."""
    try:
        return conv(v)
    except _Bad:
        return factory() if factory is not None else default


def _fast(conv: Callable[[Any], Any], i: int, ns: dict[str, Any]) -> tuple[str, str] | None:
    """(test, value): when `v` passes the test, the converter would give `value` (no _Bad possible); None: no shortcut."""
    if conv in _SAME:
        return _SAME[conv], "v"
    kind, inner = getattr(conv, "of", (None, None))
    if getattr(conv, "later", None) is not None:  # read when the field is: kept as it is until then
        ns["_Later"], ns[f"L{i}"] = _Later, conv.later  # type: ignore[attr-defined]
        if kind == "list":
            return "type(v) is list", f"_Later(L{i}, v, True)"
        return "v is None or type(v) is dict", f"None if v is None else _Later(L{i}, v, False)"
    if kind == "obj":
        ns[f"P{i}"] = _parser(inner)
        return "type(v) is dict", f"P{i}(v)"
    if kind == "opt" and getattr(inner, "of", (None,))[0] == "obj":
        ns[f"P{i}"] = _parser(inner.of[1])
        return "v is None or type(v) is dict", f"None if v is None else P{i}(v)"
    if kind == "list" and getattr(inner, "of", (None,))[0] == "obj":
        ns[f"P{i}"] = _parser(inner.of[1])  # a non-object entry is skipped, as _obj's _Bad does in _list
        return "type(v) is list", f"tuple([P{i}(x) for x in v if isinstance(x, dict)])"
    return None


def _slow_parse(cls: type, raw: Mapping[str, Any]) -> Any:
    """The same object as the compiled parse, field by field through the converters (nested objects through _parse)."""
    by_name = _plan(cls)[1]
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in raw.items():  # the answer's own fields: a field it lacks keeps its default
        known = by_name.get(name)
        if known is None:
            extra[name] = value
            continue
        try:
            values[known[0]] = known[1](value)
        except _Bad:
            pass
    values["extra"] = MappingProxyType(extra) if extra else _EMPTY
    defaults = _defaults(cls)
    if defaults is None:
        return cls(**values)
    obj = object.__new__(cls)  # what the frozen dataclass's __init__ does (every field set: its value, else its default)
    state = obj.__dict__
    state.update(defaults[0])
    for name, factory in defaults[1]:
        state[name] = factory()
    state.update(values)
    return obj


_DEFAULTS: dict[type, tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]] | None] = {}


def _defaults(cls: type) -> tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]] | None:
    """A contract class's field defaults and default factories, or None when a field has neither (then __init__)."""
    if cls not in _DEFAULTS:
        plain: dict[str, Any] = {}
        factories = []
        for f in fields(cls):
            if f.default is not MISSING:
                plain[f.name] = f.default
            elif f.default_factory is not MISSING:
                factories.append((f.name, f.default_factory))
            else:
                _DEFAULTS[cls] = None
                return None
        _DEFAULTS[cls] = (plain, tuple(factories))
    return _DEFAULTS[cls]


def _to_json(v: Any) -> Any:
    if isinstance(v, _Contract):
        return v.as_dict()
    if isinstance(v, tuple):
        return [_to_json(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _to_json(x) for k, x in v.items()}
    return v


class _Contract:
    """Shared by every contract object: `extra` holds the fields this aimo does not know; `as_dict` gives the JSON back."""

    extra: Mapping[str, Any]

    def as_dict(self) -> dict:
        out = {name: _to_json(getattr(self, attr)) for attr, name, _ in _plan(type(self))[0]}
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out


# -- the contract ------------------------------------------------------------------------------------------------------


@record(frozen=True)
class Manager(_Contract):
    """Another plugin that manages AI connectors (AI Engine, AI Puffer, a "… via X" connector)."""

    name: str = _f(_str, "")
    slug: str = _f(_str, "")
    file: str = _f(_str, "")  # the plugin's main file ("" for a manager known only by its connector's name)
    version: str = _f(_str, "")
    mode: str | None = _f(_opt_str, None)  # managed | observe | None when unknown
    active: bool = _f(_bool, False)
    managing: bool | None = _f(_opt_bool, None)  # active and in its own managed mode (None: a bridge too old to say)
    state: str = _f(_str, "")  # its mode, or "installed, inactive"
    source: str = _f(_str, "")  # plugin | connector
    connectors: tuple[str, ...] = _f(_list(_str), ())  # connector ids it registered
    serves: tuple[str, ...] = _f(_list(_str), ())  # provider ids its AI Client classes serve
    extra: Mapping[str, Any] = _extra()

    @property
    def label(self) -> str:
        name = self.name or self.slug or "?"
        return f"{name} {self.version}" if self.version else name

    @property
    def is_managing(self) -> bool:
        """It runs the Connectors page now: the bridge's `managing`, or (older bridges) active in managed mode."""
        if self.managing is not None:
            return self.managing
        return self.mode == "managed" and (self.active or self.source == "connector")


@record(frozen=True)
class PluginRef(_Contract):
    """A plugin (or core, or aimo) as the bridge names it: who registered a connector, or who wrote a key."""

    kind: str = _f(_str, "other")  # core | aimo | plugin | mu-plugin | other
    file: str = _f(_str, "")
    name: str = _f(_str, "")
    version: str = _f(_str, "")
    label: str = _f(_str, "")  # e.g. "AI Puffer 2.4.71"
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class ServedBy(_Contract):
    """The AI Client class that serves a provider, and the plugin it comes from."""

    class_name: str = _f(_str, "", key="class")
    kind: str = _f(_str, "other")  # core | aimo | plugin | mu-plugin | other
    plugin: str = _f(_str, "")  # the plugin's main file
    name: str = _f(_str, "")
    version: str = _f(_str, "")
    gateway: bool = _f(_bool, False)  # a manager's class serving through its own gateway
    label: str = _f(_str, "")  # e.g. "AI Provider for OpenAI 1.0.3", "AI Engine 3.6.2 (gateway)"
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class PageState(_Contract):
    """What Settings → Connectors shows for a connector, by the page's own logic."""

    visible: bool = _f(_bool, False)
    connected: bool = _f(_bool, False)
    name: str = _f(_str, "")
    extra: Mapping[str, Any] = _extra()

    @property
    def shown(self) -> str:
        return "connected" if self.connected else ("not connected" if self.visible else "absent")


@record(frozen=True)
class OllamaHost(_Contract):
    """Where AI Provider for Ollama (Fueled) takes its server from, when that plugin serves Ollama."""

    plugin: str = _f(_str, "")
    label: str = _f(_str, "")
    host: str = _f(_str, "")
    source: str = _f(_str, "default")  # env | setting | default
    setting: str = _f(_str, "")
    extra: Mapping[str, Any] = _extra()


@_lazy_fields
@record(frozen=True)
class Connector(_Contract):
    """One AI connector on the site, as the bridge sees it. Keys never travel: only a fingerprint and the mask's tail."""

    id: str = _f(_str, "")
    name: str = _f(_str, "")
    type: str = _f(_str, "ai_provider")
    registered_by: str = _f(_str, "none")  # aimo | plugin | core | manager | none
    manager: str | None = _f(_opt_str, None)  # the managing plugin's name when registered_by is "manager"
    provider_registered: bool = _f(_bool, False)
    setting_name: str = _f(_str, "")
    key_source: str = _f(_str, "none")  # database | env | constant | none
    fingerprint: str = _f(_str, "")
    mask_tail: str = _f(_str, "")
    connected: bool | None = _f(_opt_bool, None)  # None: never checked
    connected_reason: str = _f(_str, "")
    checked_at: str | None = _f(_opt_str, None)  # when the bridge last checked it (ISO 8601, UTC)
    unreachable_since: str | None = _f(_opt_str, None)  # the bridge's cached failure: unreachable since (ISO 8601, UTC)
    base_url: str | None = _f(_opt_str, None)
    base_url_source: str | None = _f(_opt_str, None)  # default | option (aimo bridge base-url) | constant (wp-config.php)
    registrant: PluginRef | None = _f(_later(_opt(_obj(PluginRef))), None)  # who registered the connector
    served_by: ServedBy | None = _f(_later(_opt(_obj(ServedBy))), None)  # whose AI Client class serves it
    page: PageState | None = _f(_later(_opt(_obj(PageState))), None)  # None: a bridge too old to say
    ollama_host: OllamaHost | None = _f(_later(_opt(_obj(OllamaHost))), None)  # only for ollama under Fueled's plugin
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class Approval(_Contract):
    """The WordPress AI plugin's Connector Approval: whether it is on, and which connectors each plugin may use."""

    active: bool = _f(_bool, False)
    approved: Mapping[str, tuple[str, ...]] = _f(_str_lists, _EMPTY)  # plugin basename -> connector ids
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class ModelPrefs(_Contract):
    """WordPress AI's preferred models ("provider:model", "" for Automatic)."""

    text: str = _f(_str, "")
    image: str = _f(_str, "")
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class Writer(_Contract):
    """The code that wrote a key option, from the call stack: WordPress core, aimo's bridge, or a plugin."""

    kind: str = _f(_str, "other")  # core | aimo | plugin | mu-plugin | other
    plugin: str = _f(_str, "")  # the plugin's main file
    name: str = _f(_str, "")
    version: str = _f(_str, "")
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class ChangeLogEntry(_Contract):
    """One change of a connector key option on the site (fingerprints only, never a key)."""

    time: str = _f(_str, "")  # ISO 8601, UTC
    user: str = _f(_str, "")  # the WordPress login that made it ("" for none, e.g. cron or PHP)
    setting: str = _f(_str, "")  # the option, e.g. connectors_ai_groq_api_key
    action: str = _f(_str, "")  # set | cleared | deleted | refused_clear | refused_delete | refused_rollback (the key guard)
    fingerprint: str = _f(_str, "")
    previous_fingerprint: str = _f(_str, "")
    refused_fingerprint: str = _f(_str, "")  # refused_*: the value the key guard kept out
    via: str = _f(_str, "")  # rest | admin | cli | cron | php
    by_aimo: bool = _f(_bool, False)
    app_password: str = _f(_str, "")  # the name of the application password that made the change ("" for none)
    writer: Writer | None = _f(_opt(_obj(Writer)), None)  # the code that wrote it (None: an older bridge)
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class CurrentUser(_Contract):
    """The user the status answered (the application password's): the doctor's login check without GET users/me."""

    id: int = _f(_int, 0)
    slug: str = _f(_str, "")
    roles: tuple[str, ...] = _f(_list(_str), ())
    manage_options: bool = _f(_bool, False)
    extra: Mapping[str, Any] = _extra()

    def as_me(self) -> dict:
        """What GET /wp/v2/users/me?context=edit says of these fields (the doctor's and site test's reading of it)."""
        return {"id": self.id, "slug": self.slug, "roles": list(self.roles), "capabilities": {"manage_options": self.manage_options}}


@_lazy_fields
@record(frozen=True)
class BridgeStatus(_Contract):
    """GET /aimo/v1/status: everything aimo needs about a site in one request."""

    bridge_version: str = _f(_str, "")
    wordpress_version: str = _f(_str, "")
    php_version: str = _f(_str, "")
    mode: str | None = _f(_opt_str, None)  # observe | managed | off
    ai_supported: bool = _f(_bool, False)
    environment_type: str | None = _f(_opt_str, None)
    https: bool = _f(_bool, False)
    home: str = _f(_str, "")  # home_url(): with site_id, what tells two profiles of one WordPress apart
    site_id: str = _f(_str, "")  # a random id the bridge keeps for this site ("" from a bridge too old to have one)
    wpai_active: bool = _f(_bool, False)
    connectors: tuple[Connector, ...] = _f(_list(_obj(Connector)), ())
    managers: tuple[Manager, ...] = _f(_list(_obj(Manager)), ())
    approval: Approval = _f(_obj(Approval), Approval())
    models: ModelPrefs = _f(_obj(ModelPrefs), ModelPrefs())
    no_sampling_prefixes: tuple[str, ...] | None = _f(_opt(_list(_str)), None)  # None: the bridge did not say
    # oldest first, capped by the bridge; built when first read (_later: an in-sync site never reads it)
    change_log: tuple[ChangeLogEntry, ...] = _f(_later(_list(_obj(ChangeLogEntry))), ())
    current_user: CurrentUser | None = _f(_opt(_obj(CurrentUser)), None)  # None: a bridge too old to say
    extra: Mapping[str, Any] = _extra()

    def connector(self, provider_id: str) -> Connector | None:
        return self.connectors_by_id.get(provider_id)

    def change_log_newest(self, keep: Callable[[str], bool]) -> ChangeLogEntry | None:
        """The newest change-log entry whose `setting` passes `keep` (a pure test of a setting): the latest `time`, the
        later in the log within one second (the log is oldest first); None when none passes. While the log is unread
        only that entry is built (a site's sync status asks for a provider's newest change)."""
        log = self.__dict__.get("change_log")
        if type(log) is _Later:
            return log.newest("setting", keep, "time")
        return _newest(self.change_log, "setting", keep, "time")

    @property
    def connectors_by_id(self) -> dict[str, Connector]:
        return {c.id: c for c in self.connectors if c.id}

    @property
    def active_competitor(self) -> Manager | None:
        """The first other manager that is active and in managed mode: it runs the Connectors page too."""
        return next((m for m in self.managers if m.is_managing), None)

    @property
    def compatible(self) -> bool | None:
        """Same major.minor as this aimo's BRIDGE_COMPAT; None when the bridge did not report its version."""
        return compatible(self.bridge_version)

    def check_compatible(self, site: str = "the site") -> "BridgeStatus":
        if self.compatible is False:
            got, want = parse_version(self.bridge_version), parse_version(BRIDGE_COMPAT)
            newer = bool(got and want and got[:2] > want[:2])
            raise BridgeIncompatible(
                f"{site}: the aimo bridge {self.bridge_version} speaks another contract than this aimo (expects {BRIDGE_COMPAT}.x)",
                "Upgrade aimo (pip install -U aimo)." if newer else "Update the bridge: aimo bridge install --wp-path DIR (or aimo bridge zip), then aimo bridge activate.",
            )
        return self


@record(frozen=True)
class ModeChange(_Contract):
    """POST /aimo/v1/mode's answer."""

    mode: str = _f(_str, "")
    previous: str | None = _f(_opt_str, None)
    demoted: tuple[str, ...] = _f(_list(_str), ())  # names of the managers switched to observe
    replaced: tuple[str, ...] = _f(_list(_str), ())  # connector ids aimo now registers instead
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class CredentialResult(_Contract):
    """One provider's result of POST /aimo/v1/credentials (the safe write)."""

    status: str = _f(_str, "")  # stored | rejected | unchanged | unreachable
    reason: str = _f(_str, "")
    fingerprint: str = _f(_str, "")  # of what the site holds after the write
    cause: str = _f(_str, "")  # with "rejected": "unreachable" when the site could not reach the provider to check the key
    url: str = _f(_str, "")  # the provider URL the site tried
    http_status: int = _f(_int, 0)  # the provider's HTTP status (0: none)
    extra: Mapping[str, Any] = _extra()


@record(frozen=True)
class ClearResult(_Contract):
    """One provider's result of POST /aimo/v1/credentials/clear (aimo's explicit removal route)."""

    status: str = _f(_str, "")  # cleared | absent | refused
    reason: str = _f(_str, "")
    previous_fingerprint: str = _f(_str, "")
    extra: Mapping[str, Any] = _extra()


def compatible(version: str | None, compat: str = BRIDGE_COMPAT) -> bool | None:
    if compat is BRIDGE_COMPAT and version in _COMPATIBLE:
        return _COMPATIBLE[version]
    got, want = parse_version(version), parse_version(compat)
    found = None if got is None or want is None else got[:2] == want[:2]
    if compat is BRIDGE_COMPAT and isinstance(version, str) and len(_COMPATIBLE) < 64:
        _COMPATIBLE[version] = found
    return found


_COMPATIBLE: dict[str, bool | None] = {}  # bridge version -> compatible() with this aimo (a fleet's sites report a few)


def parse_status(data: Any) -> BridgeStatus:
    """Parse a status document (tolerant; see the module docstring). Raises RemoteError for a non-object."""
    if not isinstance(data, dict):
        raise RemoteError("the bridge's /status answer is not a JSON object", "Update the bridge: aimo bridge install.")
    return _parse(BridgeStatus, data)


def parse_connector(data: Mapping[str, Any]) -> Connector:
    return _parse(Connector, data)


def parse_manager(data: Mapping[str, Any]) -> Manager:
    return _parse(Manager, data)


def parse_approval(data: Mapping[str, Any]) -> Approval:
    return _parse(Approval, data)


# -- the client --------------------------------------------------------------------------------------------------------


def _call(client, method: str, route: str, *, body: Any = None, params: dict | None = None) -> Any:
    with _missing(client):
        if method == "GET":
            return client.get(NS + route, params)
        return client.request(method, NS + route, params=params, body=body, retry=False).data


@contextmanager
def _missing(client):
    """A site without the aimo/v1 routes (404 rest_no_route) raises BridgeMissing."""
    try:
        yield
    except RemoteError as exc:
        _raise_missing(client, exc)
        raise


def _raise_missing(client, exc: RemoteError) -> None:
    """BridgeMissing for a site's 404 rest_no_route (`exc`); anything else is left to the caller to raise."""
    if getattr(exc, "status", None) == 404 and getattr(exc, "wp_code", "") == "rest_no_route":
        raise BridgeMissing(
            f"{client.site} has no aimo bridge (no aimo/v1 routes)",
            "Install and activate it: aimo bridge install --wp-path DIR (or aimo bridge zip and upload), then aimo bridge activate.",
        ) from None


def _object(client, data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise RemoteError(f"{client.site}: the bridge answered {what} with something other than a JSON object", "Update the bridge: aimo bridge install.")
    return data


def status(client, check: bool | str = False, *, require_compatible: bool = True) -> BridgeStatus:
    """The bridge's status report. `check`: True checks every keyed provider through the bridge's model-list cache
    (calls only for lists not cached or past their time, all at once); "fresh" asks every provider live.
    An incompatible bridge raises BridgeIncompatible unless `require_compatible` is false (the doctor reports it)."""
    from .client import drive

    return drive(status_steps(client, check, require_compatible=require_compatible))


def status_steps(client, check: bool | str = False, *, require_compatible: bool = True):
    """`status` as the steps of its request (WordPressClient.request_steps): for the fleet's event loop."""
    params = {"check": "fresh"} if check == "fresh" else ({"check": 1} if check else None)
    try:  # (_missing's check, without a context manager's cost: a fleet reads a status per site)
        data = yield from client.get_steps(NS + "/status", params)
    except RemoteError as exc:
        _raise_missing(client, exc)
        raise
    report = _parse(BridgeStatus, _object(client, data, "/status"))
    return report.check_compatible(str(client.site)) if require_compatible else report


def set_mode(client, mode: str, take_over: bool = False) -> ModeChange:
    """Switch the bridge's mode. Raises BridgeConflict when another manager is in charge and take_over is false."""
    if mode not in MODES:
        raise UsageError(f"unknown bridge mode {mode!r}", "Use observe, managed or off.")
    try:
        data = _call(client, "POST", "/mode", body={"mode": mode, "take_over": bool(take_over)})
    except RemoteError as exc:
        if getattr(exc, "status", None) == 409:
            manager = _conflict_manager(exc)
            raise BridgeConflict(
                f"{client.site}: {manager or 'another plugin'} manages the connectors",
                "Take over with --take-over (it is switched to observe; its keys are untouched), or leave it in charge.",
                manager=manager,
            ) from None
        raise
    return _parse(ModeChange, _object(client, data, "/mode"))


def _write_conflict(client, exc: RemoteError) -> BridgeConflict:
    """The bridge refused a write because another manager runs the Connectors (409 aimo_conflict)."""
    manager = _conflict_manager(exc)
    return BridgeConflict(
        f"{client.site}: {manager or 'another plugin'} manages the Connectors; aimo writes nothing through it",
        "Take over with aimo connectors takeover SITE (it is switched to observe; its keys are untouched), or leave it in charge.",
        manager=manager,
    )


def _conflict_manager(exc: RemoteError) -> str:
    """The manager's name from the bridge's 409 message ("NAME is managing the connectors. …")."""
    m = re.search(r"aimo_conflict: (.+?) is managing the connectors", exc.message)
    return m.group(1) if m else ""


def set_models(client, text: str | None = None, image: str | None = None) -> ModelPrefs:
    """Set WordPress AI model preferences ("provider:model", or "" for Automatic); None leaves one unchanged."""
    body = {k: v for k, v in (("text", text), ("image", image)) if v is not None}
    if not body:
        raise UsageError("nothing to set", "Give a text and/or an image model (provider:model, or '' for Automatic).")
    try:
        return _parse(ModelPrefs, _object(client, _call(client, "POST", "/models", body=body), "/models"))
    except RemoteError as exc:
        if getattr(exc, "status", None) == 409 and getattr(exc, "wp_code", "") == "aimo_conflict":
            raise _write_conflict(client, exc) from None
        if getattr(exc, "wp_code", "") == "aimo_disconnected_provider":
            raise AimoError(exc.message, "Connect the provider first: aimo keys set ID, then aimo sync push.", status=ExitStatus.REFUSED) from None
        raise


def put_credentials(client, credentials: Mapping[str, str]) -> dict[str, CredentialResult]:
    """Safe write of several keys at once: {id: CredentialResult}. Empty or masked values never leave aimo."""
    for pid, key in credentials.items():
        if not isinstance(key, str) or not key.strip():
            raise SafetyError(f"refusing to send an empty credential for {pid}", "An empty value never replaces a key; remove it from the request.")
        if looks_masked(key):
            raise SafetyError(f"refusing to send a masked credential for {pid}", "Only real keys are sent; a masked value would wipe the key.")
    if not credentials:
        return {}
    try:
        data = _object(client, _call(client, "POST", "/credentials", body=dict(credentials)), "/credentials")
    except RemoteError as exc:
        if getattr(exc, "status", None) == 409 and getattr(exc, "wp_code", "") == "aimo_conflict":
            raise _write_conflict(client, exc) from None
        raise
    results = data.get("results")
    if not isinstance(results, dict):
        raise RemoteError(f"{client.site}: the bridge's /credentials answer has no results", "Update the bridge: aimo bridge install.")
    return {str(pid): _parse(CredentialResult, r) for pid, r in results.items() if isinstance(r, dict)}


def clear_credentials(client, provider_ids: list[str]) -> dict[str, ClearResult]:
    """aimo's explicit removal path: POST /credentials/clear {providers: [...]} -> {id: ClearResult}.
    The only request by which aimo empties a connector; the bridge refuses it outside managed mode."""
    if not provider_ids:
        return {}
    data = _object(client, _call(client, "POST", "/credentials/clear", body={"providers": list(provider_ids)}), "/credentials/clear")
    results = data.get("results")
    if not isinstance(results, dict):
        raise RemoteError(f"{client.site}: the bridge's /credentials/clear answer has no results", "Update the bridge: aimo bridge install.")
    return {str(k): _parse(ClearResult, v) for k, v in results.items() if isinstance(v, dict)}


def get_credential(client, provider_id: str) -> str:
    """The raw stored key of one connector (bridge refuses unless the site is https or local; aimo unless https or loopback)."""
    client.require_private_transport(f"the raw {provider_id} key")
    try:
        data = _object(client, _call(client, "GET", f"/credentials/{provider_id}"), "/credentials")
    except RemoteError as exc:
        if getattr(exc, "wp_code", "") == "aimo_insecure_transport":
            raise SafetyError(
                f"{client.site} refuses to send raw keys over plain http",
                "Use the site over https (or a local development site with WP_ENVIRONMENT_TYPE=local).",
            ) from None
        raise
    key = data.get("key")
    return key if isinstance(key, str) else ""


def set_base_urls(client, urls: Mapping[str, str | None]) -> dict[str, str]:
    """Store (url) or remove (None) per-provider base URL overrides on the site; returns all stored overrides."""
    data = _call(client, "POST", "/base-urls", body=dict(urls))
    return dict(_str_map(data if data == [] else _object(client, data, "/base-urls")))


def check_base_urls(client, urls: Mapping[str, str | None]) -> dict[str, str] | None:
    """A dry run of set_base_urls on the site: the same permission (a super admin on multisite) and validation (https
    unless loopback), the overrides it would store; nothing written. None: this bridge predates the check route."""
    try:
        data = _call(client, "POST", "/base-urls/check", body=dict(urls))
    except BridgeMissing:  # the status answered, so the bridge is there: an older one, without this route
        return None
    return dict(_str_map(data if data == [] else _object(client, data, "/base-urls/check")))
