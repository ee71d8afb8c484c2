"""Fleet throughput: `aimo sync status --all --json` over N site entries vs `aimo sync status ONE --json`.

Goals: issue 17, 1,000 sites at --jobs 32 against the stub ≤ 2.5x one site (`--target stub --sites 1000 --jobs 32`);
earlier, issues 6 and 9: 200 entries at --jobs 16 ≤ 3x one site against the local WordPress, 500 at --jobs 32
without errors and with bounded memory (peak RSS reported). The figure is the median of --runs, the fleet run and
the one-site run interleaved so both see the same machine; the script says PASS or FAIL against its target's goal
and exits 1 on FAIL.

    .venv/bin/python benchmarks/fleet.py [--sites 200] [--jobs 16] [--runs 3] [--target wordpress|stub] [--status minimal|real]

`--target wordpress` (default) points every entry at the one local WordPress (php -S, 4 workers, on the same 2
cores): the server is then the bottleneck, not aimo. `--target stub` gives every site its own origin on a tiny
asyncio stub (tests/fleetstub.py: one loopback address per site, 127.77.x.y, so no connection can be shared between
two sites, as between real hosts) that answers the bridge's status route at once: it measures aimo's own fleet cost.
The stub runs in this process, on the same cores as aimo (real sites are other machines): its CPU per site is
reported apart, with aimo's (the fleet run's CPU, worker processes included, per site).

`--status minimal` (default; the issue's figure) has the stub answer its own small document (~1 KB, no key anywhere,
the same for every site). `--status real` has every site answer its own copy of a real bridge's status document (23 KB,
benchmarks/data/bridge-status.json) with its own keys, most in sync with the local store's nine, some drift: what a
managed fleet answers, to see how much of the figure the small document flatters.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _wp  # noqa: E402

GOALS = {"stub": 2.5, "wordpress": 3.0}


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def timed(env, args) -> tuple[float, dict, int, float, float]:
    """(wall seconds, the JSON document, peak RSS of the children, aimo's CPU seconds, this process's CPU seconds
    meanwhile: the stub's, plus reading aimo's output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    c0, s0 = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
    t = time.perf_counter()
    proc = _wp.aimo(env, *args)
    elapsed = time.perf_counter() - t
    cpu, own = _cpu(resource.RUSAGE_CHILDREN) - c0, _cpu(resource.RUSAGE_SELF) - s0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    errors = [s for s in data.get("sites", []) if s.get("error")]
    if errors or proc.returncode not in (0, 7):
        raise SystemExit(f"run failed (exit {proc.returncode}): {errors[:3] or proc.stderr[-500:]}")
    return elapsed, data, max(peak, before), cpu, own


def stub_fleet(n: int, status: str = "minimal") -> dict:
    """n sites, each on its own origin of the stub (left running until the benchmark exits), each with its own
    application password (as real sites: aimo registers every one for redaction), in the file backend. No WordPress
    needed: the stub takes any user and password. `status`: minimal (the stub's own small document: no keys anywhere)
    or real (a real bridge document per site, and local keys: real_documents)."""
    sys.path.insert(0, str(_wp.REPO))
    from tests.fleetstub import StubSites, fleet_toml

    rnd = random.Random(17)
    alphabet = string.ascii_letters + string.digits
    keys = {p: f"bench-{p}-" + "".join(rnd.choice(alphabet) for _ in range(40)) for p in keyed()} if status == "real" else {}
    if keys:
        stub = StubSites(hosts=n, documents=real_documents(keys))
    else:
        stub = StubSites(hosts=n)
    env = _wp.isolated_env()
    names = [f"s{i:03d}" for i in range(n)]
    cfg = Path(env["XDG_CONFIG_HOME"]) / "aimo" / "aimo.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(fleet_toml(stub.url, names, origins=stub.origins))
    secrets = Path(env["XDG_DATA_HOME"]) / "aimo" / "secrets.json"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    passwords = {f"site/{name}": " ".join("".join(rnd.choice(alphabet) for _ in range(4)) for _ in range(6)) for name in names}
    secrets.write_text(json.dumps({**passwords, **{f"provider/{p}": key for p, key in keys.items()}}))
    os.chmod(secrets, 0o600)
    return env


DOCUMENT = Path(__file__).resolve().parent / "data" / "bridge-status.json"


def keyed() -> list[str]:
    """The providers whose credential is a key (Ollama's is its server URL: left empty on both sides here)."""
    from aimo_cli.core.providers import PROVIDER_IDS, PROVIDERS

    return [p for p in PROVIDER_IDS if PROVIDERS[p].credential != "url"]


def real_documents(keys: dict[str, str]):
    """Host i's status document: the real bridge's answer in benchmarks/data/bridge-status.json (23 KB: every field,
    a full change log; captured from the test site in managed mode with nine keys set, bridge 0.1.0 on WordPress
    7.1.4; its keys blanked), with each site's own address (home, site_id), WordPress version and keys: most in sync
    with the local ones, a site here and there holding another key (drift) or none (to push), as in a fleet aimo has
    been managing."""
    from aimo_cli.core.secrets import fingerprint

    base = json.loads(DOCUMENT.read_text())
    ids = keyed()

    def document(i: int) -> dict:
        doc = json.loads(json.dumps(base))
        doc["home"] = doc["site_id"] = f"http://127.77.{i // 250 + 1}.{i % 250 + 1}"  # the stub's address for host i
        doc["wordpress_version"] = ("7.1.4", "7.1.3", "7.0.2")[i % 3]
        if doc.get("change_log"):
            doc["change_log"][0]["time"] = f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
        for c in doc["connectors"]:
            j = ids.index(c["id"]) if c["id"] in ids else -1
            if j < 0 or (2 * i + j) % 17 == 0:
                continue  # none on the site
            value = keys[c["id"]] if (i + 3 * j) % 13 else f"another-{c['id']}-key-{i:05d}"
            c.update(key_source="database", fingerprint=fingerprint(value), mask_tail=value[-4:])
        return doc

    return document


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--target", choices=("wordpress", "stub"), default="wordpress")
    ap.add_argument("--status", choices=("minimal", "real"), default="minimal", help="the stub's answers (see stub_fleet)")
    a = ap.parse_args()
    if a.target == "stub":
        env = stub_fleet(a.sites, a.status)
    else:
        env = _wp.isolated_env()
        _wp.write_fleet(env, _wp.site(), a.sites)
    one, many, one_cpu, many_cpu, stub_cpu, rss = [], [], [], [], [], 0
    for _ in range(a.runs):  # interleaved, so both see the same machine state
        t, _data, _peak, cpu, _own = timed(env, ["sync", "status", "s000", "--json"])
        one.append(t)
        one_cpu.append(cpu)
        t, data, peak, cpu, own = timed(env, ["sync", "status", "--all", "--jobs", str(a.jobs), "--json"])
        assert len(data["sites"]) == a.sites
        many.append(t)
        many_cpu.append(cpu)
        stub_cpu.append(own)
        rss = max(rss, peak)
    m1, mn = statistics.median(one), statistics.median(many)
    c1, cn = statistics.median(one_cpu), statistics.median(many_cpu)
    ratio, goal = mn / m1, GOALS[a.target]
    print(f"target:              {a.target}" + (f" ({a.status} status documents)" if a.target == "stub" else ""))
    print(f"one site:            {m1:.3f} s (median of {a.runs}; runs {', '.join(f'{x:.3f}' for x in one)}), {c1:.3f} s CPU")
    print(f"{a.sites} sites, --jobs {a.jobs}: {mn:.3f} s (median of {a.runs}; runs {', '.join(f'{x:.3f}' for x in many)}), {cn:.3f} s CPU")
    print(f"aimo CPU per site:   {cn / a.sites * 1000:.2f} ms ({(cn - c1) / (a.sites - 1) * 1000:.2f} ms beyond the one-site run), worker processes included")
    if a.target == "stub":
        print(f"stub CPU per site:   {statistics.median(stub_cpu) / a.sites * 1000:.2f} ms (this process while the fleet ran: the stub, and reading aimo's output)")
    print(f"peak RSS (children): {rss / 1024:.1f} MiB")
    print(f"ratio:               {ratio:.2f}x")
    ok = ratio <= goal
    print(f"{'PASS' if ok else 'FAIL'}: {a.sites} sites at --jobs {a.jobs} take {ratio:.2f}x one site (goal <= {goal}x against the {a.target})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
