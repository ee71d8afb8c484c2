"""Records: dataclasses that compile one method, not six.

`@dataclass` writes the source of every method it adds (__init__, __repr__, __eq__, and for a frozen class __hash__,
__setattr__ and __delattr__) and compiles each one with exec(), class by class, at import time: most of the import
cost of a module of small classes, and dozens of them are on the start-up path of every command. `@record` is a
drop-in for `@dataclass` / `@dataclass(frozen=True)`: the class is a dataclass (dataclasses.fields, replace, asdict,
is_dataclass work on it; field options default, default_factory, init, repr, compare, hash and metadata are
honoured) whose __init__ is compiled; equality, hashing, repr and frozenness are four functions written once, here,
that read the class's field names. They behave as the generated ones: == compares the `compare` fields of two
objects of the same class, a frozen record hashes them (a mutable one is unhashable), repr shows the `repr` fields,
and assigning to or deleting an attribute of a frozen record raises FrozenInstanceError. A method the class defines
itself is kept. Not supported (TypeError): InitVar and keyword-only fields; use @dataclass for those.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError
from typing import Any, Callable, TypeVar

T = TypeVar("T", bound=type)


def record(cls: T | None = None, /, *, frozen: bool = False) -> Any:
    """`@record` (mutable, like `@dataclass`) or `@record(frozen=True)` (like `@dataclass(frozen=True)`)."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)


def _eq(self, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = self.__record_fields__[0]
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self) -> int:
    return hash(tuple(getattr(self, n) for n in self.__record_fields__[1]))


def _repr(self) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__[2])
    return f"{self.__class__.__qualname__}({shown})"


def _setattr(self, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


_SENTINEL = object()  # a default_factory field's parameter default: "not given"


def _build(cls: T, frozen: bool) -> T:
    own = dict(cls.__dict__)
    if not own.get("__doc__"):
        cls.__doc__ = cls.__name__  # (dataclass would describe it with inspect.signature, at a cost)
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    fs = dataclasses.fields(cls)
    if len(fs) != sum(1 for f in cls.__dataclass_fields__.values() if "ClassVar" not in str(f.type)):
        raise TypeError(f"{cls.__name__}: @record does not support InitVar fields; use @dataclass")
    if any(f.kw_only for f in fs):
        raise TypeError(f"{cls.__name__}: @record does not support keyword-only fields; use @dataclass")
    ns: dict[str, Any] = {"__set": object.__setattr__, "__given": _SENTINEL}
    params: list[str] = []
    body: list[str] = []
    # a frozen record's fields are set in the instance's __dict__ (what object.__setattr__ does, at a third of the cost:
    # a fleet builds ~20 a site) unless a slot or another data descriptor holds one of them
    direct = frozen and not any("__slots__" in vars(c) for c in cls.__mro__[:-1]) and not any(
        hasattr(type(vars(c)[f.name]), "__set__") for c in cls.__mro__ for f in fs if f.name in vars(c)
    )
    for i, f in enumerate(fs):
        d, fac = f"__d{i}", f"__f{i}"
        if f.default is not MISSING:
            ns[d] = f.default
        if f.default_factory is not MISSING:
            ns[fac] = f.default_factory
        if f.init:
            if f.default is not MISSING:
                params.append(f"{f.name}={d}")
                value = f.name
            elif f.default_factory is not MISSING:
                params.append(f"{f.name}=__given")
                value = f"{fac}() if {f.name} is __given else {f.name}"
            else:
                params.append(f.name)
                value = f.name
        elif f.default is not MISSING:
            value = d
        elif f.default_factory is not MISSING:
            value = f"{fac}()"
        else:
            continue  # init=False without a default: left unset, as a dataclass does
        if not frozen:
            body.append(f"  self.{f.name} = {value}")
        elif direct:
            body.append(f"  __dict[{f.name!r}] = {value}")
        else:
            body.append(f"  __set(self, {f.name!r}, {value})")
    if direct and body:
        body.insert(0, "  __dict = self.__dict__")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(src, ns)  # noqa: S102 - the one compiled method (the field names come from the class, not from input)
    init: Callable = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    methods: dict[str, Any] = {"__init__": init, "__eq__": _eq, "__repr__": _repr}
    if frozen:
        methods.update(__hash__=_hash, __setattr__=_setattr, __delattr__=_delattr)
    elif "__eq__" not in own:
        methods["__hash__"] = None  # mutable with == by value: unhashable, as a dataclass
    for name, fn in methods.items():
        if name not in own:
            setattr(cls, name, fn)
    cls.__record_fields__ = (
        tuple(f.name for f in fs if f.compare),
        tuple(f.name for f in fs if (f.compare if f.hash is None else f.hash)),
        tuple(f.name for f in fs if f.repr),
    )
    return cls
