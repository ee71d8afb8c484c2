"""--shard K/N (issue 17 item 6): a stable, balanced split of the sites by a hash of their names, on every fleet
command, and bad values refused with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from aimo_cli.errors import UsageError
from aimo_cli.services import shard

NAMES = [f"client-{i:05d}.example" for i in range(10_000)]


def test_every_site_is_in_exactly_one_shard_and_shards_are_balanced():
    n = 10
    parts = [shard.select(NAMES, (k, n), name=str) for k in range(1, n + 1)]
    assert sorted(sum(parts, [])) == sorted(NAMES)  # a partition: nothing lost, nothing twice
    sizes = [len(p) for p in parts]
    # a hash split is binomial: 1,000 ± 30 per shard (one standard deviation); none is off by more than 10 %
    assert all(abs(size - 1000) <= 100 for size in sizes), sizes
    # small fleets too: 100 sites in 4 shards
    small = Counter(shard.shard_of(name, 4) for name in NAMES[:100])
    assert set(small) == {1, 2, 3, 4} and max(small.values()) - min(small.values()) <= 15, small


def test_the_split_is_stable_across_order_processes_and_additions():
    n = 7
    before = {name: shard.shard_of(name, n) for name in NAMES[:500]}
    # another process, another hash seed: the same answer (no use of Python's salted hash())
    code = "import json,sys; from aimo_cli.services.shard import shard_of; print(json.dumps({x: shard_of(x, 7) for x in json.load(sys.stdin)}))"
    other = subprocess.run([sys.executable, "-c", code], input=json.dumps(NAMES[:500]), capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    assert json.loads(other.stdout) == before
    # order does not matter, and adding sites moves none of the others
    assert shard.select(list(reversed(NAMES[:500])), (3, n), name=str) == list(reversed(shard.select(NAMES[:500], (3, n), name=str)))
    grown = {name: shard.shard_of(name, n) for name in NAMES[:1000]}
    assert all(grown[name] == k for name, k in before.items())
    # one shard of one is everything
    assert shard.select(NAMES[:50], (1, 1), name=str) == NAMES[:50]


@pytest.mark.parametrize("bad", ["0/10", "11/10", "3", "a/b", "3/0", "-1/4", "1/10001", "3/10/2"])
def test_bad_shards_are_usage_errors(bad):
    with pytest.raises(UsageError) as exc:
        shard.parse(bad)
    assert "--shard" in exc.value.message and exc.value.hint


def test_parse():
    assert shard.parse(None) is None and shard.parse("") is None
    assert shard.parse("3/10") == (3, 10) and shard.parse(" 1 / 1 ") == (1, 1)
