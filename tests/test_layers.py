"""The import layers of aimo_cli, checked by walking the AST of every module (module-level and lazy, function-level
imports alike: a lazy import is still a dependency, it only runs later).

The rules (RULES below; `check()` applies them to any package, which is how the checker's own tests plant violations):

1. core/ imports only the standard library and core/ itself: pure domain logic, no I/O library, no other layer.
2. providers/, wordpress/, stores/ and catalog/ — the adapters at the edges — never import services/, commands/ or
   the app. Whoever needs them passes what they need (make_adapter takes the credential, it does not resolve it).
3. commands/ import only commands/ (their own helpers: _common, the generated _providers), services/, ui/, the
   context (context), errors, redact (masking what they print) and completion (the shell scripts `aimo completion`
   prints) — plus the standard library and third-party libraries (typer). core, stores, providers, wordpress and
   catalog are reached through a service; a command that needs data from core gets it from a generated helper
   (commands/_providers.py) or a service.
4. No import cycle between aimo_cli modules, lazy imports included.

How imports are resolved: `from .x import y` names module x.y when x/y.py exists, else module x (y is an attribute);
importing a submodule is an edge to that submodule only, not to its parent package's __init__ (Python runs the parent
first, but a package that imports its own submodules would otherwise always be a "cycle"). `if TYPE_CHECKING:`
imports are skipped (they never run).

When this fails: move the import to the layer that may make it (usually: a service does it and passes the result), or
break the cycle by passing a value instead of importing its module. Never add to KNOWN_VIOLATIONS or KNOWN_IMPORTS: they only shrink.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EDGE_LAYERS = ("providers", "wordpress", "stores", "catalog")
COMMAND_MAY_IMPORT = ("commands", "services", "ui", "context", "errors", "redact", "completion")


@dataclass(frozen=True)
class Import:
    source: str  # importing module, e.g. aimo_cli.services.sync
    target: str  # imported module, e.g. aimo_cli.core.providers, or a top-level name for outside modules (httpx)
    line: int
    lazy: bool  # inside a function

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}{' (lazy)' if self.lazy else ''}"


def modules(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package at root/package."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def imports(root: Path, package: str) -> list[Import]:
    mods = modules(root, package)
    out: list[Import] = []
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

        def visit(node: ast.AST, lazy: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    continue
                inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        out.append(Import(name, _resolve(alias.name, mods), child.lineno, lazy))
                elif isinstance(child, ast.ImportFrom):
                    if child.level:
                        base = name.split(".") if is_pkg else name.split(".")[:-1]
                        base = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                        base_name = ".".join(base + ([child.module] if child.module else []))
                    else:
                        base_name = child.module or ""
                    for alias in child.names:
                        full = f"{base_name}.{alias.name}"
                        out.append(Import(name, full if full in mods else _resolve(base_name, mods), child.lineno, lazy))
                visit(child, inner)

        visit(tree, False)
    return out


def _resolve(name: str, mods: dict[str, Path]) -> str:
    """The longest known module prefix of a dotted name, or its top-level name for outside modules."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in mods:
            return candidate
    return parts[0]


def layer(module: str, package: str) -> str | None:
    """core, services, commands, … or the top-level module's name (context, errors); None outside the package."""
    parts = module.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def rule_violations(found: list[Import], package: str) -> list[str]:
    out = []
    for imp in found:
        src, dst = layer(imp.source, package), layer(imp.target, package)
        top = imp.target.split(".")[0]
        if src == "core":
            if dst is None and top not in sys.stdlib_module_names:
                out.append(f"{imp.where}: core imports {imp.target} (core may import only the standard library and core)")
            elif dst is not None and dst != "core":
                out.append(f"{imp.where}: core imports {imp.target} (core may import only the standard library and core)")
        elif src in EDGE_LAYERS and dst in ("services", "commands", "app"):
            out.append(f"{imp.where}: {src} imports {imp.target} ({src} must not depend on services, commands or the app)")
        elif src == "commands" and dst is not None and dst not in COMMAND_MAY_IMPORT:
            out.append(f"{imp.where}: commands import {imp.target} (commands import only {', '.join(COMMAND_MAY_IMPORT)})")
    return out


def cycles(found: list[Import], package: str) -> list[list[str]]:
    """Every strongly connected group of modules (Tarjan), each as one concrete cycle through its modules."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if layer(imp.target, package) is not None:
            graph.setdefault(imp.source, set()).add(imp.target)
            graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def strongconnect(v: str) -> None:  # recursion depth is bounded by the module count (~100)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph[v]:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_a_cycle(group, graph) for group in groups]


def _a_cycle(group: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One path start -> … -> start inside a strongly connected group (for the message)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return group


def check(root: Path, package: str, allowed_cycles: tuple[frozenset[str], ...] = ()) -> list[str]:
    """Every rule violation and every import cycle of the package, as messages ([] = the layers hold)."""
    found = imports(root, package)
    problems = rule_violations(found, package)
    for cycle in cycles(found, package):
        if frozenset(cycle) in allowed_cycles:
            continue
        edges = [next(i.where for i in found if i.source == a and i.target == b) for a, b in zip(cycle, cycle[1:])]
        problems.append("import cycle " + " -> ".join(cycle) + "  [" + "; ".join(edges) + "]")
    return problems


# -- the rules applied to aimo_cli ------------------------------------------------------------------------------------

# The violations that existed when this test was written, each named; the list may only shrink (a stale entry fails).
KNOWN_VIOLATIONS: tuple[frozenset[str], ...] = ()  # (services/sync <-> services/modes went with issue 12 item 1)


# Rule-3 imports that landed with other issue work before this test, each named (source module, imported module).
# They are to move behind a service; the list may only shrink (a stale entry fails).
KNOWN_IMPORTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("aimo_cli.commands.bridge", "aimo_cli.core.checks"),  # bridge status: base_url_override() per connector
        ("aimo_cli.commands.bridge", "aimo_cli.core.providers"),  # bridge status: provider info per connector
        ("aimo_cli.commands.keys", "aimo_cli.core.secrets"),  # keys set/previous: fingerprint() and mask() to print a pool
        ("aimo_cli.commands.keys", "aimo_cli.core.providers"),  # keys import: the provider list for unknown variables
    }
)


def _known(problem: str) -> bool:
    return any(problem.startswith(src + ":") and f" import {dst} " in problem for src, dst in KNOWN_IMPORTS)


def test_aimo_cli_layers_hold():
    problems = [p for p in check(REPO, "aimo_cli", allowed_cycles=KNOWN_VIOLATIONS) if not _known(p)]
    assert not problems, "import-layer violations (see this file's docstring for the rules):\n" + "\n".join(problems)


def test_known_violations_still_exist():
    """An entry whose cycle is gone must be deleted, so the allow-list cannot hide a new cycle between the same modules."""
    found = {frozenset(c) for c in cycles(imports(REPO, "aimo_cli"), "aimo_cli")}
    stale = [sorted(v) for v in KNOWN_VIOLATIONS if v not in found]
    pairs = {(i.source, i.target) for i in imports(REPO, "aimo_cli")}
    stale += [list(pair) for pair in sorted(KNOWN_IMPORTS - pairs)]
    assert not stale, f"these import cycles are gone: delete them from KNOWN_VIOLATIONS in tests/test_layers.py: {stale}"


def test_the_walk_sees_aimo_cli_as_it_is():
    """The checker really reads aimo_cli: known imports, lazy ones included, are found (an empty walk passes every rule)."""
    found = imports(REPO, "aimo_cli")
    pairs = {(i.source, i.target, i.lazy) for i in found}
    assert ("aimo_cli.providers.base", "aimo_cli.core.providers", False) in pairs
    assert ("aimo_cli.commands.keys", "aimo_cli.services.credentials", True) in pairs
    assert ("aimo_cli.commands.keys", "aimo_cli.commands._providers", False) in pairs
    assert len({i.source for i in found}) >= 60


# -- the checker itself, on a small synthetic package with planted violations -----------------------------------------


def _package(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


CLEAN = {
    "__init__.py": "",
    "errors.py": "class Boom(Exception): ...\n",
    "context.py": "from .stores import settings\n",
    "core/__init__.py": "",
    "core/rules.py": "import json\nfrom dataclasses import dataclass\nfrom . import names\n",
    "core/names.py": "import re\n",
    "stores/__init__.py": "",
    "stores/settings.py": "import tomlkit\nfrom ..core import names\n",
    "providers/__init__.py": "def make(cred):\n    from .base import Adapter\n    return Adapter(cred)\n",
    "providers/base.py": "import httpx\nfrom ..core.rules import dataclass\nclass Adapter: ...\n",
    "services/__init__.py": "",
    "services/keys.py": "from ..providers import make\nfrom ..stores import settings\n",
    "services/sync.py": "from . import keys\n",
    "commands/__init__.py": "",
    "commands/_common.py": "import typer\nfrom ..context import *\n",
    "commands/keys.py": "import typer\nfrom ._common import *\ndef run():\n    from ..services import keys\n    from ..errors import Boom\n",
}


def test_checker_passes_a_clean_package(tmp_path):
    _package(tmp_path, CLEAN)
    assert check(tmp_path, "pkg") == []


def test_checker_fails_on_each_planted_violation(tmp_path):
    _package(
        tmp_path,
        {
            **CLEAN,
            "core/rules.py": "import json\nimport httpx\nfrom . import names\n",  # rule 1: a third-party library in core
            "core/names.py": "import re\ndef f():\n    from .. import errors\n",  # rule 1: another layer, lazily
            "providers/__init__.py": "def make(ctx):\n    from ..services.keys import resolve\n",  # rule 2: an edge reaches up
            "commands/keys.py": "import typer\nfrom ..core.rules import x\n",  # rule 3: a command skips the services
            "services/sync.py": "from . import keys\n",
            "services/keys.py": "def f():\n    from .sync import g\n",  # rule 4: a cycle through a lazy import
        },
    )
    problems = check(tmp_path, "pkg")
    text = "\n".join(problems)
    assert "pkg.core.rules:2: core imports httpx" in text
    assert "pkg.core.names:3 (lazy): core imports pkg.errors" in text
    assert "pkg.providers:2 (lazy): providers imports pkg.services.keys" in text
    assert "pkg.commands.keys:2: commands import pkg.core.rules" in text
    assert "import cycle pkg.services.keys -> pkg.services.sync -> pkg.services.keys" in text
    assert len(problems) == 5, problems  # exactly the planted ones
    assert check(tmp_path, "pkg", allowed_cycles=(frozenset({"pkg.services.keys", "pkg.services.sync"}),)) == problems[:4]


def test_checker_resolves_relative_imports_and_skips_type_checking(tmp_path):
    _package(
        tmp_path,
        {
            **CLEAN,
            "core/rules.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..services import keys\nfrom .names import *\n",
            "services/deep/__init__.py": "from ...core import rules\nfrom . import leaf\n",
            "services/deep/leaf.py": "from .. import keys\n",
        },
    )
    found = {(i.source, i.target) for i in imports(tmp_path, "pkg")}
    assert ("pkg.services.deep", "pkg.core.rules") in found and ("pkg.services.deep", "pkg.services.deep.leaf") in found
    assert ("pkg.services.deep.leaf", "pkg.services.keys") in found and ("pkg.core.rules", "pkg.core.names") in found
    assert not any(s == "pkg.core.rules" and t.startswith("pkg.services") for s, t in found)
    assert check(tmp_path, "pkg") == []
