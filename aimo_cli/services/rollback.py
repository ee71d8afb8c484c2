"""Rollbacks: a site key equal to one aimo replaced earlier is an old key put back (AI Engine's environments copy a
key and write it back at every admin page load), never "the site's key is newer".

Evidence, fingerprints only: the bridge's change log (aimo's writes with the fingerprint they replaced; the later
write that restored that fingerprint, with its writer plugin, user, channel and time), and the local store's
previous key (kept when a pull or rotation replaced it).
"""

from __future__ import annotations

from ..core.records import record
from ..core.secrets import fingerprint


@record(frozen=True)
class Rollback:
    provider: str
    fingerprint: str
    writer: str  # "AI Engine 3.6.2", "WordPress core (rest, user admin)", or "" when unknown
    time: str  # when the old key came back ("" when unknown)

    def describe(self) -> str:
        who = f" by {self.writer}" if self.writer else ""
        when = f" at {self.time}" if self.time else ""
        return f"rollback: the site's key (fingerprint {self.fingerprint}) is one aimo replaced earlier, put back{who}{when}"


def writer_label(entry) -> str:
    """Who put a key back, from a change-log entry (a wordpress.bridge.ChangeLogEntry)."""
    w = entry.writer
    kind = w.kind if w is not None else ""
    if kind in ("plugin", "mu-plugin") and w.name:
        name = f"{w.name} {w.version}".strip()
    elif kind == "aimo":
        name = "the aimo bridge"
    else:
        name = "WordPress core"
    extra = ", ".join(p for p in (entry.via, f"user {entry.user}" if entry.user else "") if p)
    return f"{name} ({extra})" if extra else name


def find_rollbacks(status, remote_fingerprints: dict[str, str | None], previous_keys: dict[str, str] | None = None) -> dict[str, Rollback]:
    """Providers whose site key is a key aimo replaced before. `status`: the bridge's BridgeStatus (None: no log);
    `remote_fingerprints`: id → the site's fingerprint."""
    log = status.change_log if status is not None else ()
    previous_fps = {pid: fingerprint(k) for pid, k in (previous_keys or {}).items() if k}
    found: dict[str, Rollback] = {}
    by_setting: dict[str, list] | None = None  # the log's entries by option, oldest first (sorted once, when needed)
    for pid, fp in remote_fingerprints.items():
        if not fp:
            continue
        if by_setting is None:
            by_setting = {}
            for e in log:
                by_setting.setdefault(e.setting, []).append(e)
        entries = by_setting.get(f"connectors_ai_{pid}_api_key", [])
        replaced_at = None
        for i, e in enumerate(entries):
            if e.by_aimo and e.previous_fingerprint == fp and e.fingerprint != fp:
                replaced_at = i
        if replaced_at is None and previous_fps.get(pid) != fp:
            continue
        back = [e for e in entries[(replaced_at + 1) if replaced_at is not None else 0 :] if e.fingerprint == fp and not e.by_aimo]
        if replaced_at is None and not back:
            # only the local store remembers this key as replaced, and no write on the site brought it back
            # through the bridge's log: still an old key, with no writer to name
            found[pid] = Rollback(pid, fp, "", "")
            continue
        if not back:
            continue
        last = back[-1]
        found[pid] = Rollback(pid, fp, writer_label(last), last.time)
    return found


def rollbacks_of(ctx, status, remote_keys: dict, previous: dict[str, str] | None = None) -> dict[str, Rollback]:
    """find_rollbacks for a site as aimo reads it: `remote_keys` (provider → sync's RemoteKey) against the bridge's
    change log and the local store's previous key of each provider (`previous`, when the caller read them already)."""
    from .credentials import previous_entry

    if previous is None:
        previous = {pid: ctx.secrets.get(previous_entry(pid)) or "" for pid in remote_keys}
    return find_rollbacks(status, {pid: k.fingerprint for pid, k in remote_keys.items()}, previous)
