"""The bridge contract's compiled parse (wordpress/bridge.py `_compile`: one function per contract class, well-typed
values taken without their converter) against the plain tolerant parse it replaces, kept here as the reference: on
generated, partly malformed documents (wrong types, junk list entries, missing and unknown fields, dict and list
subclasses) both give the same objects, field by field, `extra` included. Every test runs three times: with the
compiled parse's two readings (an object's own keys walked, as for a class whose objects carry few of its fields;
each field read by name, as for one whose objects carry most), and with the plain parse (`_slow_parse`) a process
uses until it has parsed COMPILE_AFTER objects of a class."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimo_cli.core.providers import provider_id_for_setting
from aimo_cli.wordpress import bridge as B

from .fleetstub import STATUS

REAL = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "bridge-status.json"
CLASSES = [B.BridgeStatus, B.Connector, B.Manager, B.Approval, B.ModelPrefs, B.ChangeLogEntry, B.Writer, B.PluginRef, B.ServedBy,
           B.PageState, B.OllamaHost, B.CurrentUser, B.ModeChange, B.CredentialResult, B.ClearResult]


@pytest.fixture(autouse=True, params=["sparse", "dense", "plain"])
def parse_mode(request, monkeypatch):
    monkeypatch.setattr(B, "_PARSERS", {})  # nothing compiled yet in this test
    monkeypatch.setattr(B, "_SEEN", {})
    monkeypatch.setattr(B, "_SIZES", {})
    monkeypatch.setattr(B, "COMPILE_AFTER", 10**9 if request.param == "plain" else 0)
    monkeypatch.setattr(B, "SPARSE", {"sparse": 10**6, "dense": -1}.get(request.param, B.SPARSE))  # every object one way
    return request.param


def test_a_process_compiles_a_class_only_after_many_objects(monkeypatch):
    """A command that reads one status never pays the compilation (~6 ms); a fleet does, once, early."""
    monkeypatch.setattr(B, "COMPILE_AFTER", 200)
    raw = json.loads(REAL.read_text())
    B.parse_status(raw).change_log  # (read: it is built when it is)
    assert B._PARSERS == {}, "one status compiled a parse"
    for _ in range(4):
        B.parse_status(raw).change_log
    assert B.ChangeLogEntry in B._PARSERS and B.Writer in B._PARSERS  # 50 a status: compiled by the fifth
    assert B.BridgeStatus not in B._PARSERS
    assert snapshot(B.parse_status(raw)) == snapshot(ref_parse(B.BridgeStatus, raw))


def test_the_reading_a_class_compiles_to_follows_the_objects_it_has_seen(monkeypatch):
    """A real status's objects carry (nearly) all their fields: read field by field, as before the walk existed; the
    fleet stub's minimal status (4 of 17 fields, connectors with 5 of 20): their own keys walked."""
    monkeypatch.setattr(B, "COMPILE_AFTER", 200)
    monkeypatch.setattr(B, "SPARSE", 0.5)
    real = json.loads(REAL.read_text())
    for _ in range(201):
        got = B.parse_status(real)
        got.change_log  # (read: it is built when it is)
    assert {cls.__name__ for cls in (B.BridgeStatus, B.Connector, B.ChangeLogEntry, B.Writer) if B._PARSERS[cls].__name__ != "parse"} == set()
    assert snapshot(got) == snapshot(ref_parse(B.BridgeStatus, real))
    monkeypatch.setattr(B, "_PARSERS", {})
    monkeypatch.setattr(B, "_SEEN", {})
    monkeypatch.setattr(B, "_SIZES", {})
    for _ in range(201):
        got = B.parse_status(STATUS)
    assert B._PARSERS[B.BridgeStatus].__name__ == B._PARSERS[B.Connector].__name__ == "walk"
    assert snapshot(got) == snapshot(ref_parse(B.BridgeStatus, STATUS))
    assert snapshot(B.parse_status(real)) == snapshot(ref_parse(B.BridgeStatus, real))  # a full object: read straight


# -- the reference: the tolerant parse as it was, field by field through the converters -----------------------------


def _ref_conv(conv, v):
    kind, inner = getattr(conv, "of", (None, None))
    if kind == "obj":
        if not isinstance(v, dict):
            raise B._Bad
        return ref_parse(inner, v)
    if kind == "opt":
        return None if v is None else _ref_conv(inner, v)
    if kind == "list":
        if not isinstance(v, list):
            raise B._Bad
        out = []
        for item in v:
            try:
                out.append(_ref_conv(inner, item))
            except B._Bad:
                continue
        return tuple(out)
    return conv(v)  # a leaf converter (_str, _bool, _int, _str_lists, …): no contract object inside


def ref_parse(cls, raw):
    by_name = {B.json_name(f): f for f in fields(cls) if "conv" in f.metadata}
    values, extra = {}, {}
    for name, value in raw.items():
        f = by_name.get(name)
        if f is None:
            extra[name] = value
            continue
        try:
            values[f.name] = _ref_conv(f.metadata["conv"], value)
        except B._Bad:
            pass
    return cls(**values, extra=MappingProxyType(extra) if extra else B._EMPTY)


def snapshot(v):
    """Everything an object holds, recursively, types included (== on contract objects skips `extra`)."""
    if isinstance(v, B._Contract):
        return (type(v).__name__, {f.name: snapshot(getattr(v, f.name)) for f in fields(v)}, sorted(vars(v)))
    if isinstance(v, tuple):
        return ("tuple", [snapshot(x) for x in v])
    if isinstance(v, MappingProxyType):
        return ("proxy", [(type(k).__name__, k, snapshot(x)) for k, x in v.items()])
    return (type(v).__name__, v)


# -- generated documents -------------------------------------------------------------------------------------------------


class _List(list):
    pass


# -- every field of every class, with each edge value ------------------------------------------------------------------


def test_every_field_with_each_edge_value():
    for cls in CLASSES:
        for f in fields(cls):
            for value in TRICKY + ["extra"]:
                raw = {B.json_name(f): value}
                assert snapshot(B._parse(cls, raw)) == snapshot(ref_parse(cls, raw)), (cls.__name__, f.name, value)


_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4),
                    st.sampled_from(["0", "1", "12", "x1", ""]))
TRICKY = [0, 1, 2, -1, 0.0, 1.0, 2.5, True, False, None, "", "x", "1", "07", [], {}, [1], {"a": 1}, ["x", 1, None, {}], _List(), OrderedDict(a=[1])]
_tricky = st.sampled_from(TRICKY)  # each converter's edges
junk = st.one_of(_tricky, st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)), max_leaves=6))


def _good(conv, depth):
    kind, inner = getattr(conv, "of", (None, None))
    if kind == "obj":
        return document(inner, depth + 1)
    if kind == "opt":
        return st.one_of(st.none(), _good(inner, depth))
    if kind == "list":
        items = st.one_of(_good(inner, depth), junk) if depth < 2 else _good(inner, depth)
        return st.lists(items, max_size=4 if depth < 2 else 2).flatmap(lambda xs: st.sampled_from([xs, _List(xs)]))
    leaf = {
        B._str: st.text(max_size=5), B._bool: st.booleans(), B._opt_str: st.one_of(st.none(), st.text(max_size=5)),
        B._opt_bool: st.one_of(st.none(), st.booleans()), B._int: st.one_of(st.integers(-5, 5), st.sampled_from(["7", "-2", "x"])),
        B._str_lists: st.one_of(st.just([]), st.dictionaries(st.text(max_size=3), st.one_of(st.lists(st.one_of(st.text(max_size=3), junk), max_size=3), junk), max_size=3)),
        B._str_map: st.one_of(st.just([]), st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), junk), max_size=3)),
    }
    return leaf[conv]


def document(cls, depth=0):
    contract = [f for f in fields(cls) if "conv" in f.metadata]
    value = {B.json_name(f): st.one_of(_good(f.metadata["conv"], depth), junk) if depth < 2 else _good(f.metadata["conv"], depth) for f in contract}
    known = st.fixed_dictionaries({}, optional=value)  # any subset of the fields, each well typed or junk
    unknown = st.dictionaries(st.sampled_from(["extra", "served_since", "x", "_", "Class"]), junk, max_size=2)
    return st.tuples(known, unknown, st.booleans(), st.randoms(use_true_random=False)).map(_assemble)


def _assemble(parts):
    known, unknown, ordered, rnd = parts
    items = list(known.items()) + list(unknown.items())
    rnd.shuffle(items)
    return OrderedDict(items) if ordered and len(items) % 3 == 0 else dict(items)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_the_compiled_parse_gives_what_the_tolerant_parse_gives(data):
    cls = data.draw(st.sampled_from(CLASSES))
    raw = data.draw(document(cls))
    assert snapshot(B._parse(cls, raw)) == snapshot(ref_parse(cls, raw))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(document(B.BridgeStatus))
def test_parse_status_of_generated_documents(raw):
    got = B.parse_status(raw)
    assert snapshot(got) == snapshot(ref_parse(B.BridgeStatus, raw))
    assert got == ref_parse(B.BridgeStatus, raw)


def test_the_real_document_parses_as_before():
    raw = json.loads(REAL.read_text())
    got = B.parse_status(raw)
    assert snapshot(got) == snapshot(ref_parse(B.BridgeStatus, raw))
    assert len(got.change_log) == 50 and len(got.connectors) == len(raw["connectors"]) and got.change_log[0].writer.kind == "core"
    # one malformed value in each kind of field: the same defaults and skipped entries as the reference
    raw["change_log"][3] = "junk"
    raw["change_log"][4]["writer"] = ["not", "an", "object"]
    raw["change_log"][5]["by_aimo"] = "yes"
    raw["connectors"][0]["page"] = 7
    raw["connectors"][1]["connected"] = 1
    raw["current_user"]["id"] = "3"
    raw["managers"] = _List(raw["managers"])
    raw["new_field"] = {"a": 1}
    got = B.parse_status(raw)
    assert snapshot(got) == snapshot(ref_parse(B.BridgeStatus, raw))
    assert len(got.change_log) == 49 and got.change_log[3].writer is None and got.change_log[4].by_aimo is False
    assert (got.connectors[0].page, got.connectors[1].connected, got.current_user.id) == (None, True, 3)
    assert got.extra == {"new_field": {"a": 1}} and got.as_dict()["new_field"] == {"a": 1}


def test_the_reference_sees_a_change_of_meaning(monkeypatch):
    """The comparison can fail: a compiled parse that kept a wrong-typed value is caught."""
    raw = {"id": "groq", "connected": "maybe"}
    assert snapshot(B._parse(B.Connector, raw)) == snapshot(ref_parse(B.Connector, raw))
    monkeypatch.setitem(B._PARSERS, B.Connector, lambda r: B.Connector(**{"id": r["id"], "connected": r["connected"]}))
    assert snapshot(B._parse(B.Connector, raw)) != snapshot(ref_parse(B.Connector, raw))


# -- the change log, built when it is read (bridge._later) ---------------------------------------------------------------
# A status's change_log holds the answer's list until something reads it: the whole log (`change_log`) or the newest
# entry of some settings (`change_log_newest`, a site's sync status asks for a provider's). Either way, the same objects as
# the eager parse (the reference above) and the same defaults and skipped entries; a value that is not a list is the
# default at once, as before. Nothing in a change log's parse raises (every malformed value has its default, every
# entry that is not an object is skipped), so there is no error to defer: the whole status stays as valid as before.

_REAL_LOG = json.loads(REAL.read_text())["change_log"]
_SETTINGS = sorted({e["setting"] for e in _REAL_LOG}) + ["siteurl", "groq", ""]


def _mutated_entry():
    """A real entry, maybe with a field made junk, removed, or an odd setting; as a dict subclass now and then."""
    field_names = sorted({k for e in _REAL_LOG for k in e})
    return st.tuples(
        st.sampled_from(_REAL_LOG), st.lists(st.tuples(st.sampled_from(field_names), st.one_of(junk, st.just(_MISSING_MARK))), max_size=2),
        st.one_of(st.none(), st.sampled_from(_SETTINGS), st.sampled_from([1, 2.5, True, None, [], {}])), st.sampled_from([dict, dict, dict, OrderedDict]),
    ).map(_mutate)


_MISSING_MARK = object()


def _mutate(parts):
    base, changes, setting, kind = parts
    e = json.loads(json.dumps(base))
    for name, value in changes:
        if value is _MISSING_MARK:
            e.pop(name, None)
        else:
            e[name] = value
    if setting is not None:
        e["setting"] = setting
    return kind(e)


_logs = st.lists(st.one_of(_mutated_entry(), _mutated_entry(), _mutated_entry(), junk), max_size=12).flatmap(lambda xs: st.sampled_from([xs, _List(xs)]))
_keeps = st.one_of(
    st.just(lambda s: True), st.just(lambda s: False),
    st.sets(st.sampled_from(_SETTINGS + ["1", "2.5"])).map(lambda chosen: (lambda s: s in chosen)),
    st.sampled_from(["groq", "openai", "siteurl", "?"]).map(lambda pid: (lambda s: (provider_id_for_setting(s) or s or "?") == pid)),  # describe_change's
)


def _newest(log, keep):
    """describe_change's reading of a whole log, as it was: the latest time, the later entry within one second."""
    newest = None
    for e in log:
        if keep(e.setting) and (newest is None or e.time >= newest.time):
            newest = e
    return newest


def _unread(status) -> bool:
    return type(vars(status)["change_log"]) is B._Later


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.one_of(_logs, junk), st.lists(st.one_of(st.none(), _keeps), max_size=4), st.sampled_from(["status", "real"]))
def test_the_change_log_read_late_is_the_eager_one(log, reads, around):
    """Whatever is read first (the whole log, or the newest entry of a few settings), in any order: the eager parse's
    objects (an entry found first and the whole log read after: the same object in both)."""
    raw = json.loads(REAL.read_text()) if around == "real" else {}
    raw["change_log"] = log
    eager = ref_parse(B.BridgeStatus, raw).change_log
    status = B.parse_status(raw)
    assert _unread(status) == isinstance(log, list)  # a list waits to be read; anything else is the default at once
    for keep in reads:
        if keep is None:
            assert snapshot(status.change_log) == snapshot(eager)
        else:
            assert snapshot(status.change_log_newest(keep)) == snapshot(_newest(eager, keep))
    found = [status.change_log_newest(keep) for keep in reads if keep is not None]
    assert snapshot(status) == snapshot(ref_parse(B.BridgeStatus, raw))
    assert not _unread(status) and all(e is None or any(e is x for x in status.change_log) for e in found)


def test_a_status_with_its_log_unread_is_the_same_status():
    """==, repr, as_dict, dataclasses.replace and a copy see the log as read (and read it)."""
    import copy
    import dataclasses

    raw = json.loads(REAL.read_text())
    raw["change_log"][2] = "junk"
    eager = ref_parse(B.BridgeStatus, raw)

    def fresh():
        status = B.parse_status(raw)
        assert _unread(status)
        return status

    assert fresh() == eager and hash(fresh().change_log) == hash(eager.change_log) and repr(fresh()) == repr(eager)
    assert fresh().as_dict() == eager.as_dict() and len(fresh().as_dict()["change_log"]) == len(raw["change_log"]) - 1
    assert dataclasses.replace(fresh(), mode="off").change_log == eager.change_log
    copied = copy.copy(fresh())
    assert snapshot(copied) == snapshot(eager)
    status = fresh()
    assert status.change_log is status.change_log  # built once, then kept
    assert B.BridgeStatus.change_log == () and B.BridgeStatus().change_log == () and B.BridgeStatus(change_log=eager.change_log).change_log == eager.change_log
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.change_log = ()


def test_the_reference_sees_a_late_log_that_differs(monkeypatch):
    """The comparison can fail: a late reading that dropped an entry, or found the first of a tie, is caught."""
    raw = json.loads(REAL.read_text())
    eager = ref_parse(B.BridgeStatus, raw).change_log
    keep = lambda s: s == "connectors_ai_groq_api_key"  # noqa: E731
    assert snapshot(B.parse_status(raw).change_log_newest(keep)) == snapshot(_newest(eager, keep))
    real_value, real_newest = B._Later.value, B._Later.newest
    monkeypatch.setattr(B._Later, "value", lambda self: real_value(self)[1:])
    assert snapshot(B.parse_status(raw).change_log) != snapshot(eager)
    tie = json.loads(REAL.read_text())
    tie["change_log"] = [dict(e, time="2026-11-29T19:06:11Z", user=str(i)) for i, e in enumerate(tie["change_log"])]
    assert B.parse_status(tie).change_log_newest(keep).user == str(max(i for i, e in enumerate(tie["change_log"]) if keep(e["setting"])))
    monkeypatch.setattr(B._Later, "newest", lambda self, attr, k, by: real_newest(self, attr, k, by) and self.value()[[e.setting for e in self.value()].index("connectors_ai_groq_api_key")])
    assert snapshot(B.parse_status(tie).change_log_newest(keep)) != snapshot(_newest(ref_parse(B.BridgeStatus, tie).change_log, keep))


LATE = {cls: [f for f in fields(cls) if getattr(f.metadata.get("conv"), "later", None) is not None] for cls in CLASSES}


def test_the_fields_read_late():
    assert {cls.__name__: [f.name for f in fs] for cls, fs in LATE.items() if fs} == {
        "BridgeStatus": ["change_log"], "Connector": ["registrant", "served_by", "page", "ollama_host"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_late_field_holds_the_answer_until_read_then_the_eager_value(data):
    """Unread, a late field holds the answer's value when its shape is right (a list; an object) and its default or
    None at once otherwise; read in any order, each is what the eager parse gives."""
    cls = data.draw(st.sampled_from([B.BridgeStatus, B.Connector]))
    raw = data.draw(document(cls))
    got, ref = B._parse(cls, raw), ref_parse(cls, raw)
    for f in LATE[cls]:
        value = raw.get(B.json_name(f))
        waits = isinstance(value, list) if f.metadata["conv"].of[0] == "list" else isinstance(value, dict)
        assert (type(vars(got)[f.name]) is B._Later) == waits, (f.name, value)
    for f in data.draw(st.permutations(LATE[cls])):
        assert snapshot(getattr(got, f.name)) == snapshot(getattr(ref, f.name))
        assert type(vars(got)[f.name]) is not B._Later
    assert snapshot(got) == snapshot(ref) and got == ref
