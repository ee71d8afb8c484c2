"""The bridge status parse: `wordpress.bridge.parse_status` of a real status document (23 KB, captured from the test
site in managed mode: benchmarks/data/bridge-status.json, 10 connectors, a 50-entry change_log), and of the document
without its change_log. A fleet parses one per site (issue 17, `benchmarks/fleet.py --status real`).

    .venv/bin/python benchmarks/parse_status.py [--runs 7] [--number 300]

Reports the median over --runs of the mean time per parse (ms), json.loads of the document apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aimo_cli.wordpress.bridge import parse_status  # noqa: E402


def _median_ms(fn, runs: int, number: int) -> float:
    return statistics.median(t / number * 1000 for t in timeit.repeat(fn, number=number, repeat=runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--number", type=int, default=300)
    args = ap.parse_args()
    raw = (Path(__file__).resolve().parent / "data" / "bridge-status.json").read_text()
    doc = json.loads(raw)
    short = {k: v for k, v in doc.items() if k != "change_log"}
    parse_status(doc)  # warm: each contract class's parser is worked out once per process
    rows = [
        ("json.loads (23 KB)", lambda: json.loads(raw)),
        ("parse_status (real document)", lambda: parse_status(doc)),
        ("parse_status (without change_log)", lambda: parse_status(short)),
        ("json.loads + parse_status", lambda: parse_status(json.loads(raw))),
    ]
    for label, fn in rows:
        print(f"{label:36} {_median_ms(fn, args.runs, args.number):7.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
