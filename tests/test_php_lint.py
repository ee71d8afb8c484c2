"""The bridge's lint step (scripts/lint-php, run by scripts/test): PHP_CodeSniffer with the WordPress standards and the
repository's ruleset (phpcs.xml.dist). Proves the ruleset catches what it is there for, that every `phpcs:ignore` in the
plugin names an exact sniff, gives a reason and still silences a real report, and that the plugin's scripts parse."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "aimo_cli" / "bridge" / "aimo-bridge"
PHPCS = REPO.parent / "shared" / "tools" / "phpcs"
ANNOTATION = re.compile(r"phpcs:(ignore|disable|enable)\b([^\n]*)")


def phpcs(*args: str) -> dict:
    if not PHPCS.exists():
        pytest.fail(f"PHP_CodeSniffer is missing at {PHPCS} (the shared tools folder beside the checkout)", pytrace=False)
    proc = subprocess.run([str(PHPCS), "-q", "--report=json", *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1, 2), proc.stdout[-2000:] + proc.stderr[-2000:]  # 1/2: problems found (fixable or not)
    return json.loads(proc.stdout)


def messages(report: dict) -> list[tuple[str, int, str]]:
    return [(Path(f).name, m["line"], m["source"]) for f, data in report["files"].items() for m in data["messages"]]


def annotations() -> list[tuple[Path, int, str, str]]:
    """(file, line, kind, rest of the comment) for every phpcs annotation in the plugin."""
    out = []
    for path in sorted(PLUGIN.rglob("*.php")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in ANNOTATION.finditer(line):
                out.append((path, n, m.group(1), m.group(2)))
    return out


def test_the_ruleset_catches_unescaped_output_unsanitised_input_and_short_ternaries(tmp_path):
    planted = tmp_path / "planted.php"
    planted.write_text(
        "<?php\n"
        "function aimo_bridge_planted() {\n"
        "\techo $_GET['name'];\n"
        "\treturn get_option( 'x' ) ?: 'y';\n"
        "}\n"
    )
    found = {source for _f, _l, source in messages(phpcs("--standard=phpcs.xml.dist", str(planted)))}
    assert "WordPress.Security.EscapeOutput.OutputNotEscaped" in found
    assert "WordPress.Security.ValidatedSanitizedInput.InputNotSanitized" in found
    assert "Universal.Operators.DisallowShortTernary.Found" in found


def test_every_phpcs_annotation_names_an_exact_sniff_and_a_reason():
    found = annotations()
    assert found, "no annotation found: the scan would pass vacuously"
    for path, line, kind, rest in found:
        where = f"{path.relative_to(REPO)}:{line}"
        sniffs, _, reason = rest.partition(" -- ")
        names = [s.strip() for s in sniffs.split(",") if s.strip()]
        assert names, f"{where}: phpcs:{kind} without a sniff name silences every sniff; name the exact one"
        for name in names:
            assert name.count(".") >= 2, f"{where}: {name!r} is a whole standard or category; name the sniff (Standard.Category.Sniff[.Code])"
        if kind != "enable":
            assert reason.strip(), f"{where}: say why after ' -- '"


def test_every_phpcs_ignore_still_silences_a_real_report():
    """With the annotations ignored, each `phpcs:ignore` line reports the sniff it names: none is stale."""
    ignores = [(p, n, rest.partition(" -- ")[0]) for p, n, kind, rest in annotations() if kind == "ignore"]
    assert ignores
    files = sorted({str(p) for p, _n, _s in ignores})
    reported = messages(phpcs("--ignore-annotations", *files))
    for path, line, sniffs in ignores:
        own_line = path.read_text(encoding="utf-8").splitlines()[line - 1].lstrip().startswith("//")
        target = line + 1 if own_line else line  # a comment on its own line covers the next one
        for name in (s.strip() for s in sniffs.split(",")):
            hits = [s for f, n, s in reported if f == path.name and n == target and (s == name or s.startswith(name + "."))]
            assert hits, f"{path.relative_to(REPO)}:{line}: phpcs:ignore {name} silences nothing; remove it"


def test_the_bridge_is_clean():
    """What scripts/lint-php checks, from the tests too (so a pytest run alone sees a lint failure)."""
    assert messages(phpcs()) == []


@pytest.mark.parametrize("script", sorted(p.name for p in (PLUGIN / "assets").glob("*.js")))
def test_the_bridge_scripts_parse(script):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        pytest.fail("node is not installed: run scripts/test-deps", pytrace=False)
    proc = subprocess.run([node, "--check", str(PLUGIN / "assets" / script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
