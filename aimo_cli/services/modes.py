"""Bridge modes (observe / managed / off) and take-over of another manager. The Connectors use cases built on them
(overview, enable, stop) are services/connectors.py."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError, SafetyError, UsageError
from ..stores.settings import SiteConfig

MODES = ("observe", "managed", "off")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        from ..core.names import did_you_mean

        raise UsageError(f"unknown mode {mode!r}", did_you_mean(mode, MODES) + "Modes: observe (report only), managed (aimo runs the Connectors), off.")
    return mode


def unknown_mode_or_site(ctx, word: str) -> UsageError:
    """`aimo mode WORD` where WORD is neither a mode nor a configured site: the closest of either."""
    from ..core.names import did_you_mean

    sites = ctx.settings().sites()
    known = ", ".join(sorted(sites)) or "none"
    hint = did_you_mean(word, MODES, "aimo mode {}") or did_you_mean(word, sites, "aimo mode {}")
    return UsageError(
        f"{word!r} is neither a mode (observe, managed, off) nor a configured site ({known})",
        hint + "Show a site's mode: aimo mode [SITE]; switch it: aimo mode observe|managed|off [SITE]",
    )


def _needs_bridge(site: SiteConfig) -> ConfigError:
    return ConfigError(
        f"the aimo bridge is not active on {site.name}, so modes are not available there",
        f"Install it (aimo bridge zip, or aimo bridge install --wp-path DIR), then: aimo bridge activate {site.name}",
    )


def get_status(ctx, site: SiteConfig, client=None, *, check: bool = False):
    """The bridge's typed status (wordpress.bridge.BridgeStatus); ConfigError when the bridge is not active."""
    from ..wordpress import bridge as bridge_api

    def go(c):
        try:
            return bridge_api.status(c, check=check)
        except bridge_api.BridgeMissing:
            raise _needs_bridge(site) from None

    if client is not None:
        return go(client)
    with ctx.wordpress(site) as c:
        return go(c)


@dataclass
class ModeChange:
    site: str
    previous: str | None
    mode: str
    demoted: list


def _conflict(site: SiteConfig, manager: str | None) -> SafetyError:
    return SafetyError(
        f"{manager or 'another plugin'} manages the Connectors on {site.name}",
        f"Take over (it is switched to observe; its keys are untouched): aimo connectors takeover {site.name}"
        f" (or aimo mode managed {site.name} --take-over)",
    )


def plan_mode(ctx, site: SiteConfig, mode: str, *, take_over: bool = False) -> ModeChange:
    """What switching to `mode` would do, from one read and no write (the dry run of set_mode): the current mode and
    the manager that would be demoted; refused (SafetyError) where the switch itself would be."""
    check_mode(mode)
    status = get_status(ctx, site)
    competitor = status.active_competitor
    if mode == "managed" and competitor is not None and not take_over:
        raise _conflict(site, competitor.name)
    demoted = [competitor.name] if mode == "managed" and competitor is not None else []
    return ModeChange(site.name, status.mode, mode, demoted)


def describe_change(change: ModeChange, *, dry_run: bool = False, note: str = "") -> list[str]:
    """The lines that say what a mode switch did (or, in a dry run, would do); honest when nothing changes."""
    lines = []
    if change.previous == change.mode:
        state = {"observe": "in observe mode"}.get(change.mode, change.mode)  # already managed, already off
        lines.append(f"{change.site}: already {state}{note}" + (" (nothing to do)" if dry_run else ""))
    elif dry_run:
        lines.append(f"{change.site}: would switch mode {change.previous or '?'} → {change.mode}{note}")
    else:
        lines.append(f"{change.site}: mode {change.previous or '?'} → {change.mode}{note}")
    for name in change.demoted:
        lines.append(f"  {'would demote' if dry_run else 'demoted'} {name} to observe (its keys are untouched)")
    return lines


def set_mode(ctx, site: SiteConfig, mode: str, *, take_over: bool = False, client=None) -> ModeChange:
    from ..wordpress import bridge as bridge_api

    check_mode(mode)

    def go(c) -> ModeChange:
        try:
            answer = bridge_api.set_mode(c, mode, take_over=take_over)
        except bridge_api.BridgeConflict as exc:
            raise _conflict(site, exc.manager) from None
        except bridge_api.BridgeMissing:
            raise _needs_bridge(site) from None
        return ModeChange(site.name, answer.previous, answer.mode or mode, list(answer.demoted))

    if client is not None:
        return go(client)
    with ctx.wordpress(site) as c:
        return go(c)
