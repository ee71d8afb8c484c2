"""Bridge modes (observe / managed / off), take-over of another manager, and the connectors overview."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..errors import ConfigError, SafetyError, UsageError
from ..stores.settings import SiteConfig
from ..stores.state import SyncState
from . import credentials

MODES = ("observe", "managed", "off")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", "Modes: observe (report only), managed (aimo runs the Connectors), off.")
    return mode


def _needs_bridge(site: SiteConfig) -> ConfigError:
    return ConfigError(
        f"the aimo bridge is not active on {site.name}, so modes are not available there",
        f"Install it (aimo bridge zip, or aimo bridge install --wp-path DIR), then: aimo bridge activate {site.name}",
    )


def get_status(ctx, site: SiteConfig, client=None, *, check: bool = False) -> dict:
    from ..wordpress import bridge as bridge_api
    from .sites import client_for

    def go(c):
        try:
            return bridge_api.status(c, check=check)
        except bridge_api.BridgeMissing:
            raise _needs_bridge(site) from None

    if client is not None:
        return go(client)
    with client_for(ctx, site) as c:
        return go(c)


def active_competitor(status: dict) -> dict | None:
    for m in status.get("managers") or []:
        if isinstance(m, dict) and m.get("active") and m.get("mode") == "managed":
            return m
    return None


@dataclass
class ModeChange:
    site: str
    previous: str | None
    mode: str
    demoted: list


def set_mode(ctx, site: SiteConfig, mode: str, *, take_over: bool = False, client=None) -> ModeChange:
    from ..wordpress import bridge as bridge_api
    from .sites import client_for

    check_mode(mode)

    def go(c) -> ModeChange:
        try:
            answer = bridge_api.set_mode(c, mode, take_over=take_over)
        except bridge_api.BridgeConflict as exc:
            raise SafetyError(
                f"{exc.manager or 'another plugin'} manages the Connectors on {site.name}",
                f"Take over (it is switched to observe; its keys are untouched): aimo connectors takeover {site.name}"
                f" (or aimo mode managed {site.name} --take-over)",
            ) from None
        except bridge_api.BridgeMissing:
            raise _needs_bridge(site) from None
        return ModeChange(site.name, answer.get("previous"), answer.get("mode", mode), list(answer.get("demoted") or []))

    if client is not None:
        return go(client)
    with client_for(ctx, site) as c:
        return go(c)


def connectors_overview(ctx, site: SiteConfig, *, check: bool = True) -> dict:
    """One row per provider: who registered it, key source, local vs remote, WordPress's own state."""
    from . import sync
    from .sites import client_for

    with client_for(ctx, site) as client:
        remote = sync.read_remote(client, check=check)
    base = SyncState(ctx.state_dir).load(site.name)
    status = remote.status or {}
    by_id = {c.get("id"): c for c in status.get("connectors") or [] if isinstance(c, dict)}
    rows = []
    for pid in PROVIDER_IDS:
        local = credentials.resolve(ctx, pid)
        rk = remote.keys[pid]
        state = sync.plan_push(pid, local.first, rk, base.get(pid)).status.value
        c = by_id.get(pid, {})
        if remote.via_bridge:
            registered_by = c.get("registered_by") or "none"
            registrant = c.get("registrant") if isinstance(c.get("registrant"), dict) else {}
            if c.get("manager"):
                registered_by += f" ({registrant.get('label') or c['manager']})"
            elif registrant.get("label") and registrant.get("kind") in ("plugin", "mu-plugin"):
                registered_by += f" ({registrant['label']})"
            connected = c.get("connected")
            wp_state = "Connected" if connected else ("Set up" if connected is False else "not checked")
            reason = c.get("connected_reason") or ""
            page = c.get("page") if isinstance(c.get("page"), dict) else None
            if page is not None:  # what Settings → Connectors shows, by the page's own logic
                wp_state = "Connected" if page.get("connected") else ("Set up" if page.get("visible") else "not on the page")
                if connected is not None and bool(connected) != bool(page.get("connected")):
                    reason = f"live check: {'connected' if connected else 'not connected'}" + (f" ({reason})" if reason else "")
            served = c.get("served_by") if isinstance(c.get("served_by"), dict) else {}
            if served.get("label") and served.get("kind") != "aimo":
                reason = f"served by {served['label']}" + (f"; {reason}" if reason else "")
            key_source = c.get("key_source") or "none"
        else:
            registered_by = "a provider plugin" if rk.registered else "none"
            wp_state, reason = "unknown", "needs the aimo bridge"
            key_source = ("database" if rk.present else "none") if rk.registered else "-"
        rows.append(
            {
                "provider": pid,
                "name": c.get("name") or PROVIDERS[pid].name,
                "registered_by": registered_by,
                "key_source": key_source,
                "local": local.display() or "",
                "state": state,
                "wordpress": wp_state,
                "reason": reason,
            }
        )
    return {
        "site": site.name,
        "bridge": remote.via_bridge,
        "mode": status.get("mode"),
        "managers": status.get("managers") or [],
        "connectors": rows,
    }
