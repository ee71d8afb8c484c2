"""`--shard K/N`: split a fleet across machines (a CI matrix), each taking a stable, balanced subset of the sites.

A site belongs to shard 1 + (the first 8 bytes of sha256(site name), as an integer) mod N. The same name lands in
the same shard on every machine, whatever the order of the settings file, and adding or removing a site moves no
other site (so a per-shard cache of sync state stays valid). sha256 spreads names evenly, as a fair die would: 10,000
sites in 10 shards give 1,000 +/- 30 per shard (one standard deviation), 100,000 give 10,000 +/- 100.

K counts from 1, like GitHub Actions matrix values and GitLab's CI_NODE_INDEX (`--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable, TypeVar

from ..errors import UsageError

MAX_SHARDS = 10_000
_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

T = TypeVar("T")


def parse(text: str | None) -> tuple[int, int] | None:
    """'K/N' → (K, N); None when not given. A malformed or out-of-range value is a usage error (exit 2)."""
    if text is None or text == "":
        return None
    m = _FORM.match(text)
    if not m:
        raise UsageError(f"--shard {text!r} is not K/N", "e.g. --shard 3/10 (this machine takes the third of ten shares of the sites).")
    k, n = int(m.group(1)), int(m.group(2))
    if not 1 <= n <= MAX_SHARDS:
        raise UsageError(f"--shard {text}: N must be between 1 and {MAX_SHARDS}", "e.g. --shard 3/10.")
    if not 1 <= k <= n:
        raise UsageError(f"--shard {text}: K must be between 1 and {n} (shards count from 1)", f"e.g. --shard 1/{n} … --shard {n}/{n}.")
    return k, n


def shard_of(name: str, n: int) -> int:
    """The shard (1…n) a site name belongs to."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def select(items: Iterable[T], shard: tuple[int, int] | None, name=lambda s: s.name) -> list[T]:
    """The items of shard K of N, in their original order (all of them without a shard)."""
    items = list(items)
    if shard is None:
        return items
    k, n = shard
    # shard_of, inlined: a shard of a big fleet hashes every name (10,000 in ~8 ms this way, ~12 ms through calls)
    sha256, from_bytes, k = hashlib.sha256, int.from_bytes, k - 1
    return [item for item in items if from_bytes(sha256(name(item).encode("utf-8")).digest()[:8]) % n == k]  # big-endian
