"""core/records.py: a @record behaves as the @dataclass it replaces (fields, defaults, factories, ==, hash, repr,
frozenness, replace, asdict, __post_init__), and refuses what it does not support."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import field

import pytest

from aimo_cli.core.records import record


@record(frozen=True)
class Point:
    """A frozen record."""

    x: int
    tags: tuple = ()
    notes: list = field(default_factory=list)
    label: str = field(default="p", compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class PointDC:
    x: int
    tags: tuple = ()
    notes: list = field(default_factory=list)
    label: str = field(default="p", compare=False, repr=False)


def test_a_frozen_record_is_the_dataclass_it_replaces():
    p, q = Point(1, ("a",)), PointDC(1, ("a",))
    assert repr(p) == repr(q).replace("PointDC(", "Point(")
    assert [f.name for f in dataclasses.fields(Point)] == [f.name for f in dataclasses.fields(PointDC)]
    assert dataclasses.is_dataclass(p) and dataclasses.asdict(p) == dataclasses.asdict(q)
    assert Point.__match_args__ == PointDC.__match_args__
    assert p == Point(1, ("a",), label="other")  # label is not compared
    assert p != Point(2, ("a",)) and p != q  # another class is never equal
    assert Point(1).notes is not Point(1).notes  # a fresh default per object
    assert dataclasses.replace(p, x=5) == Point(5, ("a",))
    assert copy.deepcopy(p) == p
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x  # type: ignore[misc]
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]  (x is required)


def test_a_frozen_record_sets_a_slot_or_descriptor_field_through_it():
    """A frozen record's __init__ writes its fields straight into the instance's __dict__, except where a slot or another
    data descriptor holds a field: there it goes through the descriptor, as object.__setattr__ does."""

    class Slotted:
        __slots__ = ("x",)

    @record(frozen=True)
    class FromSlots(Slotted):
        x: int
        y: int = 0

    class Checked:
        @property
        def x(self):
            return self.__dict__["_x"] * 10

        @x.setter
        def x(self, value):
            self.__dict__["_x"] = value

    @record(frozen=True)
    class FromProperty(Checked):
        x: int
        y: int = 0

    s, p = FromSlots(4, 5), FromProperty(4, 5)
    assert (s.x, s.y, vars(s)) == (4, 5, {"y": 5})
    assert (p.x, p.y, vars(p)) == (40, 5, {"_x": 4, "y": 5})
    assert vars(Point(1, ("a",))) == {"x": 1, "tags": ("a",), "notes": [], "label": "p"}  # the plain case: __dict__ itself


def test_a_frozen_record_hashes_its_compared_fields():
    @record(frozen=True)
    class Key:
        name: str
        parts: tuple = ()
        label: str = field(default="", compare=False)

    assert {Key("a", (1,)), Key("a", (1,), label="x")} == {Key("a", (1,))}
    assert hash(Key("a")) == hash(Key("a", label="q")) and Key("a") != Key("b")
    with pytest.raises(TypeError):
        hash(Point(1))  # a list field: hash(PointDC(1)) raises too


def test_a_mutable_record_compares_by_value_and_is_unhashable():
    @record
    class Facts:
        a: int = 0
        derived: int = field(default=0, init=False)

        def __post_init__(self) -> None:
            self.derived = self.a * 2

    f = Facts(2)
    assert f.derived == 4 and f == Facts(2) and f != Facts(3)
    f.a = 5
    assert f.a == 5 and Facts.__hash__ is None
    assert repr(Facts(1)).endswith(".Facts(a=1, derived=2)")


def test_a_method_the_class_defines_is_kept():
    @record(frozen=True)
    class Named:
        name: str = ""

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("x")) == "<x>"


def test_unsupported_fields_are_refused():
    with pytest.raises(TypeError, match="keyword-only"):

        @record
        class KwOnly:
            a: int = field(default=0, kw_only=True)

    with pytest.raises(TypeError, match="InitVar"):

        @record
        class WithInitVar:
            a: dataclasses.InitVar[int] = 0
