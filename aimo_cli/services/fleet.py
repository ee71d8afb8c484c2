"""Run one job per site concurrently: bounded workers, a progress bar on a TTY, one failing site never stops the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import AimoError, ConfigError, ExitCode, UsageError
from ..stores.settings import SiteConfig

DEFAULT_JOBS = 8


@dataclass
class SiteOutcome:
    site: str
    ok: bool
    code: int = 0
    value: Any = None
    error: str | None = None
    hint: str | None = None
    extra: dict = field(default_factory=dict)


def select_sites(ctx, names: list[str] | None, group: str | None, all_sites: bool) -> list[SiteConfig]:
    from .sites import get_site

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
            known = ", ".join(sorted(settings.groups())) or "none"
            raise ConfigError(f"no site is in group {group!r} (groups: {known})", "Put a site in a group: aimo site add NAME URL --user U --group G")
    elif names:
        picked = [get_site(ctx, n) for n in dict.fromkeys(names)]
    else:
        picked = [get_site(ctx, None)]
    return picked


def once_per_wordpress(ctx, sites: list[SiteConfig]) -> list[SiteConfig]:
    """For commands that write: each WordPress once, however many profiles point at it (home URL / bridge site id)."""
    from .sites import dedupe_sites

    kept, twins = dedupe_sites(sites)
    for skipped, first in twins:
        ctx.out.info(f"Site {skipped} is the same WordPress as site {first}: handled once, as {first}.")
    return kept


def run_fleet(ctx, sites: list[SiteConfig], job: Callable[[SiteConfig], Any], *, jobs: int = DEFAULT_JOBS, label: str = "sites") -> list[SiteOutcome]:
    """Run `job(site)` for every site; errors become failed outcomes (with their exit code), never exceptions."""
    if jobs < 1:
        raise UsageError("--jobs must be at least 1", "e.g. --jobs 8")

    def one(site: SiteConfig) -> SiteOutcome:
        try:
            return SiteOutcome(site.name, True, 0, job(site))
        except AimoError as exc:
            return SiteOutcome(site.name, False, int(exc.code), None, exc.message, exc.hint)
        except Exception as exc:  # noqa: BLE001 - one site's bug must not stop the fleet
            return SiteOutcome(site.name, False, int(ExitCode.UNEXPECTED), None, f"unexpected {type(exc).__name__}: {exc}")

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


def fleet_exit_code(outcomes: list[SiteOutcome]) -> int:
    codes = [o.code for o in outcomes if not o.ok]
    if not codes:
        return 0
    return codes[0] if len(set(codes)) == 1 else max(codes)
