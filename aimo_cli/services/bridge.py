"""The bridge plugin: package it (zip), install it into a local WordPress, activate it over REST, report its status."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import AimoError, ExitStatus, RemoteError, UsageError

SLUG = "aimo-bridge"
BASENAME = "aimo-bridge/aimo-bridge.php"
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed timestamps: the same plugin gives the same zip


def source_dir() -> Path:
    """The plugin as shipped in the package (package data)."""
    return Path(__file__).resolve().parent.parent / "bridge" / SLUG


def plugin_files() -> list[tuple[str, Path]]:
    """(path inside the plugin folder, file) for every file of the plugin, sorted; no dotfiles or caches."""
    root = source_dir()
    if not (root / "aimo-bridge.php").is_file():
        raise AimoError(f"the bridge plugin is missing from this aimo installation ({root})", "Reinstall aimo.")
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            out.append((rel.as_posix(), path))
    return out


def version() -> str:
    text = (source_dir() / "aimo-bridge.php").read_text(encoding="utf-8")
    m = re.search(r"define\(\s*'AIMO_BRIDGE_VERSION',\s*'([^']+)'", text)
    return m.group(1) if m else "unknown"


def write_zip(dest) -> None:
    """The upload-ready zip (the aimo-bridge/ folder at its root) into `dest`: a path or a binary file object."""
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        dirs = sorted({f"{SLUG}/"} | {f"{SLUG}/{p}/" for rel, _ in plugin_files() for p in _parents(rel)})
        for d in dirs:
            info = zipfile.ZipInfo(d, _ZIP_TIME)
            info.external_attr = (0o40755 << 16) | 0x10
            zf.writestr(info, b"")
        for rel, path in plugin_files():
            info = zipfile.ZipInfo(f"{SLUG}/{rel}", _ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def make_zip(output: str | os.PathLike | None = None) -> Path:
    """Write an upload-ready zip (the aimo-bridge/ folder at its root); atomic replace of the target."""
    target = Path(output) if output else Path.cwd() / f"{SLUG}-{version()}.zip"
    if target.is_dir():
        target = target / f"{SLUG}-{version()}.zip"
    if not target.parent.is_dir():
        raise UsageError(f"no such directory: {target.parent}", "Create it first, or give another -o FILE.")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        write_zip(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True)
class InstallResult:
    path: Path
    version: str
    previous_version: str | None


def is_wordpress(path: Path) -> bool:
    return (path / "wp-includes" / "version.php").is_file() and (path / "wp-content").is_dir() and (path / "wp-load.php").exists()


def install(wp_path: str | os.PathLike, *, dry_run: bool = False) -> InstallResult:
    """Copy the plugin into WP/wp-content/plugins/aimo-bridge: into a temp dir first, then renamed into place.
    `dry_run`: the same checks; where it would go and what it would replace, nothing written."""
    root = Path(wp_path).expanduser()
    if not root.is_dir():
        raise UsageError(f"no such directory: {root}", "Give the WordPress root (the directory with wp-load.php) with --wp-path.")
    if not is_wordpress(root):
        raise UsageError(
            f"{root} is not a WordPress installation (no wp-includes/version.php, wp-content/ and wp-load.php)",
            "Give the WordPress root (the directory with wp-load.php) with --wp-path.",
        )
    plugins = root / "wp-content" / "plugins"
    target = plugins / SLUG
    previous = _installed_version(target)
    if dry_run:
        return InstallResult(target, version(), previous)
    plugins.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{SLUG}.new-", dir=plugins))
    old: Path | None = None
    try:
        for rel, path in plugin_files():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        staging.chmod(0o755)
        if target.exists() or target.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{SLUG}.old-", dir=plugins))
            os.rmdir(old)
            os.rename(target, old)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not target.exists():
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return InstallResult(target, version(), previous)


def _installed_version(target: Path) -> str | None:
    main = target / "aimo-bridge.php"
    if not main.is_file():
        return None
    m = re.search(r"define\(\s*'AIMO_BRIDGE_VERSION',\s*'([^']+)'", main.read_text(encoding="utf-8", errors="replace"))
    return m.group(1) if m else "unknown"


def activate(ctx, site_name: str | None = None, *, dry_run: bool = False) -> dict:
    """Activate the installed bridge through core's plugins route. `dry_run`: the plugin's state read from that route
    (GET), nothing written."""
    from ..wordpress.bridge import PLUGIN_ROUTE
    from .sites import get_site

    site = get_site(ctx, site_name)
    with ctx.wordpress(site) as client:
        try:
            if dry_run:
                data = client.request("GET", PLUGIN_ROUTE).data
            else:
                data = client.request("POST", PLUGIN_ROUTE, body={"status": "active"}, retry=False).data
        except RemoteError as exc:
            if getattr(exc, "status", None) == 404:
                raise AimoError(
                    f"the aimo bridge is not installed on {site.name} ({client.site})",
                    "Install it first: aimo bridge install --wp-path DIR, or aimo bridge zip and upload it in wp-admin → Plugins.",
                    status=ExitStatus.CONFIG,
                ) from None
            raise
    return data if isinstance(data, dict) else {}


def status(ctx, site_name: str | None = None, *, check: bool = False):
    """(site name, the bridge's typed status). Shown even when its version is not compatible (the doctor says so)."""
    from ..wordpress import bridge as wpbridge
    from .sites import get_site

    site = get_site(ctx, site_name)
    with ctx.wordpress(site, timeout=60.0 if check else None) as client:
        report = wpbridge.status(client, check=check, require_compatible=False)
    return site.name, report


@dataclass
class BaseUrlChange:
    site: str
    provider: str
    url: str | None  # the override asked for; None: the provider's own endpoint
    previous: str | None  # the override the site had (None: none)
    changed: bool  # False: the site already had it (nothing was written)
    checked: bool = True  # a dry run: False when the site's bridge has no check route (an older bridge) to check it with


def set_base_url(ctx, site_name: str | None, provider_id: str, url: str | None, *, dry_run: bool = False) -> BaseUrlChange:
    """Store (or, with None, remove) the site's base URL override for one provider: gateways, proxies, tests.
    The site's override is read first; one it already has is not written again. `dry_run`: nothing written; the
    site's bridge checks the change as it would the write (its permission: a super admin on multisite; its URL rules),
    so a dry run fails where the write would."""
    from ..core.providers import PROVIDERS
    from ..core.secrets import validate_url
    from ..errors import UsageError
    from ..wordpress import bridge as wpbridge
    from . import credentials
    from .sites import get_site

    info = credentials.provider_info(provider_id)
    if info.credential == "url":
        raise UsageError("Ollama's server URL is its credential", "Set it with aimo keys set ollama, then aimo sync push.")
    if url is not None:
        reason = validate_url(url)
        if reason:
            raise UsageError(f"base URL {url!r} {reason}", f"e.g. {PROVIDERS[info.id].default_base_url}")
    site = get_site(ctx, site_name)
    url = url.rstrip("/") if url else None
    with ctx.wordpress(site) as client:
        try:
            connector = wpbridge.status(client).connector(info.id)
            previous = connector.base_url.rstrip("/") if connector is not None and connector.base_url_source == "option" and connector.base_url else None
            change = BaseUrlChange(site.name, info.id, url, previous, previous != url)
            if change.changed and not dry_run:
                change.url = wpbridge.set_base_urls(client, {info.id: url}).get(info.id) or None
            elif change.changed:  # the site's own permission and validation, as the write would meet them
                change.checked = wpbridge.check_base_urls(client, {info.id: url}) is not None
            return change
        except wpbridge.BridgeMissing:
            raise AimoError(
                f"the aimo bridge is not active on {site.name}",
                f"Install and activate it first: aimo bridge install --wp-path DIR (or aimo bridge zip), then aimo bridge activate {site.name}",
                status=ExitStatus.CONFIG,
            ) from None
