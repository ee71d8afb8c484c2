"""`aimo keys import FILE`: provider keys from a .env file, each line's fate reported, verified before storing.

Known names are the variables WordPress core and aimo read (`OPENAI_API_KEY` … `HUGGINGFACE_API_KEY`, `OLLAMA_HOST`).
Anything else is refused by name (the value is never shown). Every accepted value goes through the same checks as
`aimo keys set` (quotes, limits, masks, white space) and, unless --no-verify, through the provider's own check; the
keys that pass are stored, each replacing its provider's pool (a dropped key is kept as previous and said).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core.providers import PROVIDERS
from ..core.secrets import MAX_INPUT_BYTES, fingerprint, parse_env_file
from ..errors import AimoError, ConfigError, ExitCode, UsageError
from . import credentials


@dataclass
class LineFate:
    line: int
    name: str
    fate: str  # stored | unchanged | would store | skipped | refused | rejected | unverified
    detail: str = ""
    provider: str = ""


@dataclass
class ImportReport:
    lines: list[LineFate] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        fates = {f.fate for f in self.lines}
        if "rejected" in fates:
            return int(ExitCode.AUTH)
        if "refused" in fates:
            return int(ExitCode.USAGE)
        return 0

    def as_dict(self) -> dict:
        return {"exit_code": self.exit_code, "lines": [f.__dict__ for f in self.lines], "unknown": self.unknown}


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read(MAX_INPUT_BYTES * 4 + 1)
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_INPUT_BYTES * 4:
            raise UsageError(f"{path} is {size:,} bytes: too big to be a .env file of provider keys", "Give a .env file with NAME=value lines.")
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no such file: {path}", "Give the path of a .env file (or - for standard input).") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text", "Give a .env file with NAME=value lines.") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory", "Give the path of a .env file.") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", "Check its permissions.") from None


def import_file(ctx, path: str, *, dry_run: bool = False, verify: bool = True) -> ImportReport:
    from .verify import REJECTED, UNREACHABLE, verify_key

    by_var = {p.env_var: p for p in PROVIDERS.values()}
    report = ImportReport()
    seen: dict[str, int] = {}
    accepted: list[tuple[LineFate, list[str]]] = []
    for entry in parse_env_file(_read(path)):
        if entry.kind in ("blank", "comment"):
            continue
        fate = LineFate(entry.number, entry.name, "refused")
        report.lines.append(fate)
        if entry.kind == "malformed":
            fate.detail = entry.reason
            continue
        info = by_var.get(entry.name)
        if info is None:
            fate.detail = "unknown name: not a provider variable aimo reads"
            report.unknown.append(entry.name)
            continue
        fate.provider = info.id
        if entry.name in seen:
            fate.detail = f"{entry.name} was already given on line {seen[entry.name]}"
            continue
        seen[entry.name] = entry.number
        try:
            pool, notes = credentials.check_pool_notes(info, entry.value)
        except AimoError as exc:
            fate.detail = exc.message
            continue
        if len(pool) != 1:
            fate.detail = "one value per line"
            continue
        fate.detail = "; ".join(notes)
        current = credentials.resolve(ctx, info.id, include_env=False)
        if current.pool and current.pool[0] == pool[0]:
            fate.fate, fate.detail = "unchanged", _join(fate.detail, f"already the stored {info.name} key ({fingerprint(pool[0])})")
            continue
        if verify:
            outcome = verify_key(ctx, info.id, pool[0])
            if outcome.status == REJECTED:
                fate.fate, fate.detail = "rejected", _join(fate.detail, f"{info.name} refused it: {outcome.message}")
                continue
            if outcome.status == UNREACHABLE:
                fate.detail = _join(fate.detail, f"not verified ({outcome.message})")
        fate.fate = "would store" if dry_run else "accepted"
        accepted.append((fate, pool))
    if dry_run:
        for fate, pool in accepted:
            fate.detail = _join(fate.detail, f"{credentials.Credential(fate.provider, '', tuple(pool)).display()} ({fingerprint(pool[0])})")
        return report
    for fate, pool in accepted:
        res = credentials.store_pool(ctx, fate.provider, pool=pool, reason="replaced by aimo keys import")
        fate.fate = "stored"
        fate.detail = _join(fate.detail, f"{res.credential.display()} ({fingerprint(pool[0])})")
        if res.dropped:
            fate.detail = _join(fate.detail, f"{len(res.dropped)} key(s) of the old pool kept as previous (aimo keys previous {fate.provider})")
    return report


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
