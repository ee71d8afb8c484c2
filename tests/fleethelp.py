"""Build a fleet of site entries that all point at the local WordPress test site."""

from __future__ import annotations

from pathlib import Path


def write_fleet(config_path: Path, wp_site, n: int, *, group: str = "fleet", bad: list[str] = ()) -> list[str]:
    """Write n [sites.*] entries for the local site (and `bad` ones that cannot be reached); return all names."""
    lines = []
    names = []
    for i in range(n):
        name = f"s{i:03d}"
        names.append(name)
        lines += [f"[sites.{name}]", f'url = "{wp_site.url}"', f'user = "{wp_site.admin_user}"', f'group = "{group}"', f'rest_root = "{wp_site.url}/wp-json/"', ""]
    for name in bad:
        names.append(name)
        lines += [f"[sites.{name}]", 'url = "http://127.0.0.1:9"', 'user = "admin"', f'group = "{group}"', ""]
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text("\n".join(lines))
    return names


def store_passwords(names: list[str], password: str) -> None:
    from aimo_cli.stores.secrets import MemoryBackend

    for name in names:
        MemoryBackend._data[f"site/{name}"] = password
