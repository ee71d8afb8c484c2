"""The Connectors use cases of one site: the overview (`aimo connectors list`), and the managed workflow — enable
(managed mode + one push of every key), take over from another manager, stop (back to observe, no key touched).

Mode switching itself is services/modes.py; the push is services/sync.py. The command module only renders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..stores.settings import SiteConfig
from ..errors import AimoError
from . import credentials


@dataclass(frozen=True)
class ConnectorRow:
    provider: str
    name: str
    registered_by: str  # aimo | plugin | core | none | manager (NAME) | "a provider plugin" without the bridge
    key_source: str
    local: str  # the local key, masked ("" when none)
    state: str  # local vs site (the sync planner's status)
    wordpress: str  # Connected | Set up | not checked | unknown
    reason: str

    def as_dict(self) -> dict:
        """Raw values (docs/json.md): the local key as its tail (or Ollama URL), never the masked display."""
        from ..ui.formats import key_fields

        out = asdict(self)
        out.update(key_fields(out.pop("local"), "local_"))
        if self.key_source == "-":  # the table's placeholder: the setting is not registered, there is no source
            out.update(key_source=None)
        return out


@dataclass(frozen=True)
class ManagerRow:
    name: str
    slug: str
    mode: str | None
    active: bool
    source: str
    version: str = ""
    managing: bool = False  # active and in its own managed mode: it runs the Connectors page


@dataclass
class Overview:
    site: str
    bridge: bool
    mode: str | None
    managers: list[ManagerRow] = field(default_factory=list)
    connectors: list[ConnectorRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "site": self.site,
            "bridge": self.bridge,
            "mode": self.mode,
            "managers": [asdict(m) for m in self.managers],
            "connectors": [c.as_dict() for c in self.connectors],
        }


def overview(ctx, site: SiteConfig, *, check: bool = True) -> Overview:
    """One row per provider: who registered it, key source, local vs remote, WordPress's own state."""
    from ..stores.state import SyncState
    from . import sync

    with ctx.wordpress(site) as client:
        remote = sync.read_remote(client, check=check)
    base = SyncState(ctx.state_dir).load(site.name)
    status = remote.status
    rows = []
    for pid in PROVIDER_IDS:
        local = credentials.resolve(ctx, pid)
        rk = remote.keys[pid]
        state = sync.plan_push(pid, local.first, rk, base.get(pid)).status.value
        c = status.connector(pid) if status is not None else None
        if status is not None:
            registered_by = (c.registered_by if c else "") or "none"
            registrant = c.registrant if c is not None else None
            if c is not None and c.manager:
                registered_by += f" ({(registrant.label if registrant else '') or c.manager})"
            elif registrant is not None and registrant.label and registrant.kind in ("plugin", "mu-plugin"):
                registered_by += f" ({registrant.label})"
            connected = c.connected if c is not None else None
            wp_state = "Connected" if connected else ("Set up" if connected is False else "not checked")
            reason = c.connected_reason if c is not None else ""
            page = c.page if c is not None else None
            if page is not None:  # what Settings → Connectors shows, by the page's own logic
                wp_state = "Connected" if page.connected else ("Set up" if page.visible else "not on the page")
                if connected is not None and connected != page.connected:
                    reason = f"live check: {'connected' if connected else 'not connected'}" + (f" ({reason})" if reason else "")
            if c is not None and c.unreachable_since:  # the bridge's cached failure (retried in the background)
                reason = f"unreachable since {c.unreachable_since}" + (f" ({reason})" if reason else "")
            served = c.served_by if c is not None else None
            if served is not None and served.label and served.kind != "aimo":
                reason = f"served by {served.label}" + (f"; {reason}" if reason else "")
            key_source = (c.key_source if c is not None else "") or "none"
        else:
            registered_by = "a provider plugin" if rk.registered else "none"
            wp_state, reason = "unknown", "needs the aimo bridge"
            key_source = ("database" if rk.present else "none") if rk.registered else "-"
        name = (c.name if c is not None else "") or PROVIDERS[pid].name
        rows.append(ConnectorRow(pid, name, registered_by, key_source, local.display() or "", state, wp_state, reason))
    managers = [ManagerRow(m.name, m.slug, m.mode, m.active, m.source, m.version, m.is_managing) for m in status.managers] if status is not None else []
    return Overview(site.name, status is not None, status.mode if status is not None else None, managers, rows)


@dataclass
class Enabled:
    """`aimo connectors enable|takeover`: the mode change, then the push's result."""

    change: object  # services.modes.ModeChange
    push: object  # services.sync.SiteSync


def enable(ctx, site: SiteConfig, *, take_over: bool = False, from_env: bool = False, dry_run: bool = False) -> Enabled:
    """Managed mode (taking over from another manager only when asked), then one push of every local key (keys from
    the environment only with from_env). `dry_run`: reads only; the mode switch and the push as they would happen."""
    from . import modes, sync

    if dry_run:
        change = modes.plan_mode(ctx, site, "managed", take_over=take_over)
        return Enabled(change, sync.push_site(ctx, site, from_env=from_env, action="enable", dry_run=True, as_if_managed=True))
    change = modes.set_mode(ctx, site, "managed", take_over=take_over)
    try:
        return Enabled(change, sync.push_site(ctx, site, from_env=from_env, action="enable"))
    except AimoError as exc:  # the switch went through and stays: say so, or the admin cannot know who manages now
        if change.previous != change.mode or change.demoted:
            switched = f"mode {change.previous or '?'} → {change.mode}" + "".join(f", {name} demoted to observe" for name in change.demoted)
            exc.message = f"{site.name}: the switch went through ({switched}), but the push did not: {exc.message}"
            exc.args = (exc.message,)
            again = f"aimo connectors {'takeover' if take_over else 'enable'} {site.name}"
            exc.hint = (exc.hint + " " if exc.hint else "") + f"Then rerun {again}: the switch is done, the keys follow."
        raise


def stop(ctx, site: SiteConfig, *, dry_run: bool = False):
    """Back to observe: aimo's connectors are no longer registered; no key is touched anywhere."""
    from . import modes

    if dry_run:
        return modes.plan_mode(ctx, site, "observe")
    return modes.set_mode(ctx, site, "observe")
