"""Atomic, private, serialised file writes shared by every store that writes a file.

A write goes to a temporary file in the same folder, is fsynced, then replaces the target: a reader (or a crash, or
kill -9) sees the old file or the new one, never half of one. Files are created 0600. `locked()` serialises
read-modify-write cycles between aimo processes with an advisory lock on a sidecar file (opened with O_NOFOLLOW: a
symlink planted in its place is refused, never followed).

aimo's own folders (config, data, state, cache) are private (docs/security.md, "other local users"): created 0700; an
existing one that other users could write to is tightened when it is ours (group/other write removed, reported on
stderr), and refused when it is not ours or is a shared sticky folder like /tmp (ConfigError naming the folder).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def ensure_private_dir(path: Path) -> None:
    """Create `path` (0700), or check an existing one: nobody but its owner, the current user, may write to it."""
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):  # every folder aimo creates is 0700, not only the last one (Path.mkdir's parents=True)
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass
    if os.name != "posix":  # pragma: no cover - Windows ACLs are another model
        return
    import stat

    st = os.stat(path)
    loose = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not loose and st.st_uid == os.geteuid():
        return
    from ..errors import ConfigError

    mode = f"{stat.S_IMODE(st.st_mode):04o}"
    if st.st_uid != os.geteuid():
        if not loose:
            return  # e.g. a root-owned folder the admin chose, not writable by others: nobody else can plant files
        raise ConfigError(
            f"refusing to use {path}: it is writable by other users (mode {mode}) and owned by uid {st.st_uid}, not by you",
            "Another local user could plant or replace aimo's files there. Point aimo at a folder of your own "
            "(XDG_CONFIG_HOME / XDG_STATE_HOME / XDG_CACHE_HOME, or --config).",
        )
    if st.st_mode & stat.S_ISVTX:
        raise ConfigError(
            f"refusing to use {path}: it is a shared folder (mode {mode}, sticky) that other users can create files in",
            "Keep aimo's files in a private folder of your own (e.g. the defaults under your home directory).",
        )
    new = stat.S_IMODE(st.st_mode) & ~(stat.S_IWGRP | stat.S_IWOTH)
    os.chmod(path, new)
    import sys

    sys.stderr.write(f"Note: tightened {path} from mode {mode} to {new:04o}: other users could write to it; check that it holds only aimo's files.\n")


def _ensure_parent(path: Path) -> None:
    """The folder of a file that is not aimo's own (e.g. a --junit report): created if missing, never re-moded."""
    path.parent.mkdir(parents=True, exist_ok=True)


def atomic_write(path: Path, data: str | bytes, mode: int = 0o600, *, private_dir: bool = True) -> None:
    """Replace `path` atomically; `private_dir=False` for files the user places anywhere (reports), not aimo's own."""
    ensure_private_dir(path.parent) if private_dir else _ensure_parent(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    import tempfile  # only writes need it (start-up time of read-only commands)

    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        os.fchmod(fd, mode) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(str(path.parent), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path`.lock for a read-modify-write cycle."""
    ensure_private_dir(path.parent)
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(str(lock_path), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        import errno

        if exc.errno != errno.ELOOP:
            raise
        from ..errors import ConfigError

        raise ConfigError(
            f"refusing to open the lock file {lock_path}: it is a symbolic link",
            f"Someone replaced aimo's lock file with a link; remove it (rm {lock_path}) and check who can write to {path.parent}.",
        ) from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
