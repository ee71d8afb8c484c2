"""The audit trail: aimo's own writes (a local JSONL log) merged with the bridge's change log of each site.

Local log: `$XDG_STATE_HOME/aimo/audit.jsonl`, one JSON object a line, appended under a lock: when, site, provider,
what aimo did (push, pull, clear, rotate), the fingerprints before and after, and the result. Never a key, never a
mask: a fingerprint is a sha256 prefix and says nothing about the key.

The bridge's change log (in its status report) records every change of a connector option on the site: time, user,
channel (admin, rest, cli, cron, php), the writing plugin when the bridge can tell, old and new fingerprints, and
whether aimo made it. `describe_change` turns its newest entry into "changed in wp-admin by alice, 2 h ago".
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from ..core.providers import PROVIDERS, provider_id_for_setting
from ..core.records import record
from ..stores.fileio import locked

_FIELDS = ("time", "site", "provider", "action", "old_fingerprint", "new_fingerprint", "result", "detail")


@record(frozen=True)
class Event:
    time: str  # ISO 8601, UTC
    site: str
    provider: str
    action: str  # local: push | pull | clear | rotate ; remote: set | cleared | deleted
    old_fingerprint: str
    new_fingerprint: str
    result: str  # local: stored | rejected | … ; remote: ""
    origin: str  # "aimo (local log)" | "site"
    user: str = ""
    channel: str = ""
    plugin: str = ""
    by_aimo: bool | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def log_path(ctx) -> Path:
    return ctx.state_dir / "audit.jsonl"


def _now_iso(now: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if now is None else now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(ctx, site: str, provider: str, action: str, old_fp: str, new_fp: str, result: str, detail: str = "") -> None:
    """Append one line to the local audit log. Fingerprints only: callers never pass a key (checked below)."""
    entry = {
        "time": _now_iso(),
        "site": site,
        "provider": provider,
        "action": action,
        "old_fingerprint": old_fp or "",
        "new_fingerprint": new_fp or "",
        "result": result,
        "detail": detail,
    }
    from ..redact import redact

    line = redact(json.dumps(entry, ensure_ascii=False))  # belt and braces: a registered secret never reaches the log
    path = log_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        import os

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)


def record_sync(ctx, site: str, action: str, results, old: dict[str, str], new: dict[str, str]) -> None:
    """One line per provider a push/pull/clear/rotate wrote or tried to write."""
    for r in results:
        if r.outcome in ("", "unchanged", "skipped", "dry-run", "conflict", "drift", "refused") and r.provider not in new:
            continue
        record(ctx, site, r.provider, action, old.get(r.provider, ""), new.get(r.provider, ""), r.outcome or "", r.reason)


def local_events(ctx, sites: set[str] | None = None) -> list[Event]:
    out: list[Event] = []
    try:
        text = log_path(ctx).read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if not isinstance(d, dict) or (sites is not None and d.get("site") not in sites):
            continue
        out.append(Event(**{k: str(d.get(k) or "") for k in _FIELDS}, origin="aimo (local log)", by_aimo=True))
    return out


def site_events(ctx, site) -> list[Event]:
    """One site's change log, read through the bridge (aimo log)."""
    from ..wordpress import bridge as bridge_api

    with ctx.wordpress(site) as client:
        return remote_events(site.name, bridge_api.status(client))


def remote_events(site: str, status, provider: str | None = None) -> list[Event]:
    """The site's change log (a wordpress.bridge.BridgeStatus; None gives nothing) as events; only `provider`'s
    when given (the doctor asks for each provider: the whole log of each one would be built ten times)."""
    out = []
    for e in status.change_log if status is not None else ():
        pid = _provider_of(e.setting)
        if provider is not None and pid != provider:
            continue
        out.append(_site_event(site, pid, e))
    return out


def _site_event(site: str, pid: str, e) -> Event:
    """One change-log entry (a wordpress.bridge.ChangeLogEntry) of provider `pid` as an event."""
    return Event(
        time=e.time,
        site=site,
        provider=pid,
        action=e.action,
        old_fingerprint=e.previous_fingerprint,
        new_fingerprint=e.fingerprint,
        result="",
        origin="site",
        user=e.user,
        channel=e.via,
        plugin=_plugin_name(e.writer) or str(e.extra.get("plugin") or ""),
        by_aimo=e.by_aimo,
    )


_PROVIDER_OF: dict[str, str] = {}  # a change log's option name -> its provider (a site's log names a dozen at most)


def _provider_of(setting: str) -> str:
    """The provider a change-log entry's option is the key of (the option itself when it names none; "?" for none)."""
    pid = _PROVIDER_OF.get(setting)
    if pid is None:
        pid = provider_id_for_setting(setting) or setting or "?"
        if len(_PROVIDER_OF) < 1024:
            _PROVIDER_OF[setting] = pid
    return pid


def _plugin_name(writer) -> str:
    """The plugin that wrote a key (a bridge.Writer); "" for WordPress itself, the bridge, or nobody known."""
    if writer is None or writer.kind in ("core", "aimo", "other"):
        return ""
    return writer.name or writer.plugin


def merged(local: list[Event], remote: list[Event]) -> list[Event]:
    return sorted(local + remote, key=lambda e: (e.time, 0 if e.origin == "site" else 1))


_CHANNELS = {"admin": "in wp-admin", "rest": "over the REST API", "cli": "with WP-CLI", "cron": "by a scheduled task", "php": "by PHP code on the site"}


_ISO_UTC = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z")


def ago(iso: str, now: float | None = None) -> str:
    # not datetime.strptime: its first call imports _strptime and builds locale regexes (tens of ms in a doctor run)
    m = _ISO_UTC.fullmatch(iso or "")
    try:
        then = datetime(*map(int, m.groups()), tzinfo=timezone.utc).timestamp() if m else None
    except ValueError:  # a day or month out of range
        then = None
    if then is None:
        return iso or "at an unknown time"
    secs = max(0, int((time.time() if now is None else now) - then))
    if secs < 90:
        return f"{secs} s ago"
    if secs < 90 * 60:
        return f"{round(secs / 60)} min ago"
    if secs < 36 * 3600:
        return f"{round(secs / 3600)} h ago"
    return f"{round(secs / 86400)} days ago"


def checked_when(checked_at, connected=None, now: float | None = None) -> str:
    """When the bridge last checked a connection: "12 min ago (2026-11-29T10:00:00Z)", or "never"."""
    if checked_at in (None, "", 0):
        return "never" if connected is None else "unknown"
    if isinstance(checked_at, (int, float)):
        checked_at = _now_iso(float(checked_at))
    return f"{ago(str(checked_at), now)} ({checked_at})"


def who(e: Event) -> str:
    """'in wp-admin by alice', 'by AI Engine (plugin) over the REST API', 'by aimo'."""
    if e.by_aimo:
        return "by aimo" + (f" (as {e.user})" if e.user else "")
    parts = []
    if e.plugin:
        parts.append(f"by the plugin {e.plugin}")
    parts.append(_CHANNELS.get(e.channel, f"via {e.channel}" if e.channel else "on the site"))
    if e.user:
        parts.append(f"by {e.user}")
    return " ".join(parts)


def describe_change(status, provider: str, *, now: float | None = None) -> str | None:
    """The newest change the site's change log records for a provider's key that aimo did not make, as a phrase:
    "changed in wp-admin by alice, 2 h ago" (None when the log has nothing)."""
    if not status:
        return None
    # the latest time, the later entry within one second; an unread log builds that entry alone
    newest = status.change_log_newest(lambda setting: _provider_of(setting) == provider)
    if newest is None or newest.by_aimo:
        return None
    last = _site_event("", provider, newest)
    verb = {"set": "changed", "cleared": "emptied", "deleted": "deleted"}.get(last.action, "changed")
    return f"{verb} {who(last)}, {ago(last.time, now)}"


def provider_name(pid: str) -> str:
    info = PROVIDERS.get(pid)
    return info.name if info else pid
