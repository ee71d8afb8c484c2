"""Rollbacks: a site key equal to one aimo replaced earlier is an old key put back (AI Engine's environments copy a
key and write it back at every admin page load), never "the site's key is newer".

Evidence, fingerprints only: the bridge's change log (aimo's writes with the fingerprint they replaced; the later
write that restored that fingerprint, with its writer plugin, user, channel and time), and the local store's
previous key (kept when a pull or rotation replaced it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.secrets import fingerprint


@dataclass(frozen=True)
class Rollback:
    provider: str
    fingerprint: str
    writer: str  # "AI Engine 3.6.2", "WordPress core (rest, user admin)", or "" when unknown
    time: str  # when the old key came back ("" when unknown)

    def describe(self) -> str:
        who = f" by {self.writer}" if self.writer else ""
        when = f" at {self.time}" if self.time else ""
        return f"rollback: the site's key (fingerprint {self.fingerprint}) is one aimo replaced earlier, put back{who}{when}"


def writer_label(entry: dict) -> str:
    w = entry.get("writer") if isinstance(entry.get("writer"), dict) else {}
    kind = str(w.get("kind") or "")
    if kind in ("plugin", "mu-plugin") and w.get("name"):
        name = f"{w.get('name')} {w.get('version') or ''}".strip()
    elif kind == "aimo":
        name = "the aimo bridge"
    else:
        name = "WordPress core"
    extra = ", ".join(p for p in (str(entry.get("via") or ""), f"user {entry['user']}" if entry.get("user") else "") if p)
    return f"{name} ({extra})" if extra else name


def find_rollbacks(status: dict | None, remote_fingerprints: dict[str, str | None], previous_keys: dict[str, str] | None = None) -> dict[str, Rollback]:
    """Providers whose site key is a key aimo replaced before. `remote_fingerprints`: id → the site's fingerprint."""
    log = [e for e in ((status or {}).get("change_log") or []) if isinstance(e, dict)]
    previous_fps = {pid: fingerprint(k) for pid, k in (previous_keys or {}).items() if k}
    found: dict[str, Rollback] = {}
    for pid, fp in remote_fingerprints.items():
        if not fp:
            continue
        setting = f"connectors_ai_{pid}_api_key"
        entries = [e for e in log if e.get("setting") == setting]
        replaced_at = None
        for i, e in enumerate(entries):
            if e.get("by_aimo") and e.get("previous_fingerprint") == fp and e.get("fingerprint") != fp:
                replaced_at = i
        if replaced_at is None and previous_fps.get(pid) != fp:
            continue
        back = [e for e in entries[(replaced_at + 1) if replaced_at is not None else 0 :] if e.get("fingerprint") == fp and not e.get("by_aimo")]
        if replaced_at is None and not back:
            # only the local store remembers this key as replaced, and no write on the site brought it back
            # through the bridge's log: still an old key, with no writer to name
            found[pid] = Rollback(pid, fp, "", "")
            continue
        if not back:
            continue
        last = back[-1]
        found[pid] = Rollback(pid, fp, writer_label(last), str(last.get("time") or ""))
    return found
