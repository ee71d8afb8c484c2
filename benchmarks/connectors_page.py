"""Settings → Connectors on the local WordPress with the bridge managing every provider (fake providers on loopback).

Goals (issue 17, items 1-3), ratios measured in one run:
  slow provider: one provider answers after 6 s (past WordPress's 5 s HTTP timeout); from the second page load on,
                 the page takes ≤ 1.2× the page with every provider healthy.
  cold cache:    every list cold, each provider answering after 300 ms; what the cold page adds to a warm one is
                 ≤ 2× one provider's delay (the lists are fetched together, not one after another).
  queries:       the queries of a warm page (reported; the probe mu-plugin counts them, SAVEQUERIES lists them).

    .venv/bin/python benchmarks/connectors_page.py [--runs 15] [--slow 6] [--delay 0.3] [--list-queries]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bridge import managed_site, median  # noqa: E402

from tests.fakeprovider import PROVIDERS  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--slow", type=float, default=6.0)
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--list-queries", action="store_true")
    a = ap.parse_args()
    ok = True
    with managed_site() as site:
        client = site.admin_client()
        site.page(client)  # warm every list
        healthy = [site.page(client) for _ in range(a.runs)]
        h_wall = median([w for w, _ in healthy])
        h_cpu = median([r.get("cpu", 0) for _, r in healthy])
        h_q = median([r.get("queries", 0) for _, r in healthy])

        # one provider slow, with a new key (so its list is cold, as after a key change)
        site.fake.delay("groq", a.slow)
        site.set_key("groq", site.fake.make_valid_key("groq"))
        first, _ = site.page(client)
        slow = [site.page(client) for _ in range(a.runs)]
        s_wall = median([w for w, _ in slow])
        s_cpu = median([r.get("cpu", 0) for _, r in slow])
        s_q = median([r.get("queries", 0) for _, r in slow])
        site.fake.clear()

        # everything cold, every provider answering after `delay`
        cold = []
        for _ in range(max(3, a.runs // 2)):
            site.clear_caches()
            for p in PROVIDERS:
                site.fake.delay(p, a.delay)
            cold.append(site.page(client)[0])
        site.fake.clear()
        site.page(client)
        warm_again = [site.page(client)[0] for _ in range(a.runs)]
        c_wall = median(cold)
        w_wall = median(warm_again)
        c_ratio = max(c_wall - w_wall, 0.0) / a.delay

        site.php("update_option('aimo_connectors_mode', 'observe');")  # the bridge serves nothing: core's page
        site.page(client)
        observe = [site.page(client) for _ in range(a.runs)]
        base = (median([w for w, _ in observe]), median([r.get("cpu", 0) for _, r in observe]), median([r.get("queries", 0) for _, r in observe]))
        last = healthy[-1][1]

    s_ratio = s_wall / h_wall
    print(f"healthy, warm page:          {h_wall * 1000:.0f} ms wall, {h_cpu * 1000:.0f} ms PHP CPU, {h_q:.0f} queries (medians of {a.runs})")
    print(f"bridge in observe mode:      {base[0] * 1000:.0f} ms wall, {base[1] * 1000:.0f} ms PHP CPU, {base[2]:.0f} queries -> managing {len(PROVIDERS)} keyed "
          f"providers adds {h_q - base[2]:+.0f} queries, {(h_cpu / base[1] - 1) * 100 if base[1] else 0:+.0f} % PHP CPU")
    print(f"one provider {a.slow:.0f} s slow:        first load {first:.2f} s, then {s_wall * 1000:.0f} ms, {s_cpu * 1000:.0f} ms PHP CPU, {s_q:.0f} queries; "
          f"ratio {s_ratio:.2f}x wall (goal <= 1.2x), {s_cpu / h_cpu if h_cpu else 0:.2f}x PHP CPU")
    print(f"cold, 10 x {a.delay * 1000:.0f} ms providers: {c_wall * 1000:.0f} ms vs warm {w_wall * 1000:.0f} ms: +{(c_wall - w_wall) * 1000:.0f} ms = "
          f"{c_ratio:.2f}x one provider's delay (goal <= 2x)")
    if a.list_queries:
        for q in last.get("list", []):
            print("  ", q[:160])
    ok = s_ratio <= 1.2 and c_ratio <= 2.0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
