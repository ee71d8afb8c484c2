"""Every reference in the repository resolves inside it: design references point at a section of docs/design.md that
exists, documents named by path exist, and nothing cites a document outside the repository (a reader of a clone has
only the clone). The only paths outside it are the test inputs CI lays beside the clone (`../shared/tools`: the PHP
linter; `../shared/peers`: the real peer plugins)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()
OLD_DESIGN = re.compile("DESIGN" + r"(\.md)?\s*§")  # written in two pieces so this file does not match itself
SECTION_REF = re.compile(r"design\.md\s*§\s*(\d+)")
DOC_PATH = re.compile(r"(?<![\w./-])((?:docs/[\w./-]+|CONTRIBUTING|README)\.md)\b")
OUTSIDE = re.compile(r"\.\./shared/([\w.-]+)?")
ALLOWED_OUTSIDE = {"tools", "peers"}  # inputs CI provides beside the clone, not documents
TEXT_SUFFIXES = {".py", ".php", ".md", ".txt", ".toml", ".js", ".css", ".sh", ".xml", ".dist", ".json", ".cfg", ".ini", ".1", ""}


def repo_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    files = []
    for name in out.decode().split("\0"):
        path = REPO / name
        if name and path.is_file() and path.resolve() != THIS and (path.suffix in TEXT_SUFFIXES or name.startswith("scripts/")):
            files.append(path)
    assert len(files) > 50, "git listed almost nothing: the scan would pass vacuously"
    return files


def sections() -> set[str]:
    design = REPO / "docs" / "design.md"
    assert design.is_file(), "docs/design.md is missing"
    return set(re.findall(r"^##\s+(\d+)\.", design.read_text(encoding="utf-8"), flags=re.M))


def lines(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return
    for n, line in enumerate(text.splitlines(), 1):
        yield f"{path.relative_to(REPO)}:{n}", line


def test_no_reference_to_the_design_notes_outside_the_repository():
    bad = [where for path in repo_files() for where, line in lines(path) if OLD_DESIGN.search(line) or "DESIGN" + ".md" in line]
    assert bad == [], "cite docs/design.md §N instead: " + ", ".join(bad)


def test_every_design_section_reference_exists():
    have = sections()
    refs = [(where, n) for path in repo_files() for where, line in lines(path) for n in SECTION_REF.findall(line)]
    assert refs, "no docs/design.md § reference found: the check would pass vacuously"
    missing = [f"{where} (§{n})" for where, n in refs if n not in have]
    assert missing == [], f"no such section in docs/design.md (it has §{', §'.join(sorted(have, key=int))}): " + ", ".join(missing)


def test_every_document_named_by_path_exists():
    missing = []
    for path in repo_files():
        for where, line in lines(path):
            for doc in DOC_PATH.findall(line):
                if not (REPO / doc).is_file():
                    missing.append(f"{where}: {doc}")
    assert missing == [], "these documents do not exist: " + ", ".join(missing)


def test_nothing_points_outside_the_repository_but_the_test_inputs():
    bad = []
    for path in repo_files():
        for where, line in lines(path):
            for first in OUTSIDE.findall(line):
                if first not in ALLOWED_OUTSIDE:
                    bad.append(f"{where}: ../shared/{first}")
    assert bad == [], "a reader of the repository cannot follow these (copy what is needed into docs/): " + ", ".join(bad)
