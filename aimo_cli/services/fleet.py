"""Run one job per site concurrently: bounded workers, a progress bar on a TTY, one failing site never stops the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import AimoError, ConfigError, ExitCode, ExitStatus, UsageError, exit_code
from ..stores.settings import SiteConfig

DEFAULT_JOBS = 8


@dataclass
class SiteOutcome:
    """One site's result in a fleet run: `ok` with the job's value, or the error (message, hint, its exit status)."""

    site: str
    ok: bool
    value: Any = None
    error: str | None = None
    hint: str | None = None
    failure: ExitStatus = ExitStatus.OK  # the error's exit status when not ok
    extra: dict = field(default_factory=dict)

    @property
    def exit_status(self) -> ExitStatus:
        """A failed job's error status; otherwise the value's own status (a sync result with drift, …), if it has one."""
        if not self.ok:
            return self.failure
        return getattr(self.value, "exit_status", ExitStatus.OK)

    @property
    def code(self) -> ExitCode:
        return exit_code(self.exit_status)


def get_site(ctx, name: str | None = None) -> SiteConfig:
    settings = ctx.settings()
    sites = settings.sites()
    if not name:
        name = settings.default_site
        if not name:
            if len(sites) == 1:
                return next(iter(sites.values()))
            if not sites:
                raise ConfigError("no WordPress site is configured", "Add one: aimo site add NAME URL --user USER")
            raise UsageError("several sites are configured and none is the default", "Name the site, or set one: aimo site use NAME")
        if name not in sites:  # the settings name a site they do not configure
            raise ConfigError(f"the default site {name!r} is not configured", "Pick another: aimo site use NAME (aimo site list shows them)")
    if name not in sites:
        raise unknown_site(name, sites)
    return sites[name]


def unknown_site(name: str, sites) -> UsageError:
    """A site named on the command line that is not configured: a usage error, with the closest names."""
    from ..core.names import did_you_mean

    known = ", ".join(sorted(sites)) or "none"
    return UsageError(f"no site named {name!r} (configured: {known})", did_you_mean(name, sites) + "See aimo site list, or add it: aimo site add NAME URL --user USER")


def select_sites(ctx, names: list[str] | None, group: str | None, all_sites: bool, shard: str | None = None) -> list[SiteConfig]:
    """The sites named, of a group, or all; with `shard` ('K/N'), only this machine's share of them (services/shard.py)."""
    from . import shard as sharding

    part = sharding.parse(shard)  # a bad --shard is reported before anything else

    settings = ctx.settings()
    sites = settings.sites()
    picked: list[SiteConfig] = []
    if sum(bool(x) for x in (names, group, all_sites)) > 1:
        raise UsageError("name sites, or use --group, or --all (only one of them)", "e.g. aimo sync push --group production")
    if all_sites:
        picked = list(sites.values())
        if not picked:
            raise ConfigError("no WordPress site is configured", "Add one: aimo site add NAME URL --user USER")
    elif group:
        picked = [s for s in sites.values() if s.group == group]
        if not picked:
            from ..core.names import did_you_mean

            known = ", ".join(sorted(settings.groups())) or "none"
            raise UsageError(f"no site is in group {group!r} (groups: {known})", did_you_mean(group, settings.groups()) + "Put a site in a group: aimo site add NAME URL --user U --group G")
    elif names:
        picked = [get_site(ctx, n) for n in dict.fromkeys(names)]
    else:
        picked = [get_site(ctx, None)]
    return sharding.select(picked, part)


def run_fleet(ctx, sites: list[SiteConfig], job: Callable[[SiteConfig], Any], *, jobs: int = DEFAULT_JOBS, label: str = "sites") -> list[SiteOutcome]:
    """Run `job(site)` for every site; errors become failed outcomes (with their exit code), never exceptions."""
    if jobs < 1:
        raise UsageError("--jobs must be at least 1", "e.g. --jobs 8")

    def one(site: SiteConfig) -> SiteOutcome:
        try:
            return SiteOutcome(site.name, True, job(site))
        except AimoError as exc:
            return SiteOutcome(site.name, False, None, exc.message, exc.hint, exc.exit_status)
        except Exception as exc:  # noqa: BLE001 - one site's bug must not stop the fleet
            return SiteOutcome(site.name, False, None, f"unexpected {type(exc).__name__}: {exc}", failure=ExitStatus.UNEXPECTED)

    if not sites:
        return []
    if len(sites) == 1:
        return [one(sites[0])]
    results: dict[str, SiteOutcome] = {}
    progress = None
    if ctx.out.rich_ok and not ctx.out.quiet:
        from rich.progress import Progress

        progress = Progress(transient=True, console=None)
    with ThreadPoolExecutor(max_workers=min(jobs, len(sites))) as pool:
        futures = {pool.submit(one, s): s for s in sites}
        if progress is not None:
            with progress:
                task = progress.add_task(label, total=len(sites))
                for fut in as_completed(futures):
                    results[futures[fut].name] = fut.result()
                    progress.advance(task)
        else:
            for fut in as_completed(futures):
                results[futures[fut].name] = fut.result()
    return [results[s.name] for s in sites]


def fleet_exit_code(outcomes: list[SiteOutcome]) -> ExitCode:
    """The fleet rule (core/exits.py): the most severe site wins, so an auth or configuration failure on any site is
    never hidden behind another site's drift, remote failure or refusal."""
    return exit_code(o.exit_status for o in outcomes)
