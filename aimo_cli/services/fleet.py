"""Run one job per site concurrently: bounded workers, a progress bar on a TTY, one failing site never stops the others."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
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
    row: str | None = None  # its item of the JSON document, when the process that ran it wrote it (`finish`)

    @property
    def exit_status(self) -> ExitStatus:
        """A failed job's error status; otherwise the value's own status (a sync result with drift, …), if it has one."""
        if not self.ok:
            return self.failure
        return getattr(self.value, "exit_status", ExitStatus.OK)

    @property
    def code(self) -> ExitCode:
        return exit_code(self.exit_status)


class Settled:
    """What is left of a site's value once its JSON item is written (SiteOutcome.row): its exit status, for the
    fleet's exit code (services/sync_render.prerender)."""

    __slots__ = ("exit_status",)

    def __init__(self, exit_status: ExitStatus) -> None:
        self.exit_status = exit_status


def get_site(ctx, name: str | None = None) -> SiteConfig:
    """The named site (else the default one), its entry checked; only that site's entry is read."""
    settings = ctx.settings()
    if not name:
        name = settings.default_site
        if not name:
            names = settings.site_names()
            if len(names) == 1:
                return settings.site(names[0])
            if not names:
                raise ConfigError("no WordPress site is configured", "Add one: aimo site add NAME URL --user USER")
            raise UsageError("several sites are configured and none is the default", "Name the site, or set one: aimo site use NAME")
        if name not in settings.site_names():  # the settings name a site they do not configure
            raise ConfigError(f"the default site {name!r} is not configured", "Pick another: aimo site use NAME (aimo site list shows them)")
    site = settings.site(name)
    if site is None:
        raise unknown_site(name, settings.site_names())
    return site


def unknown_site(name: str, sites) -> UsageError:
    """A site named on the command line that is not configured: a usage error, with the closest names."""
    from ..core.names import did_you_mean

    known = ", ".join(sorted(sites)) or "none"
    return UsageError(f"no site named {name!r} (configured: {known})", did_you_mean(name, sites) + "See aimo site list, or add it: aimo site add NAME URL --user USER")


def select_sites(ctx, names: list[str] | None, group: str | None, all_sites: bool, shard: str | None = None) -> list[SiteConfig]:
    """The sites named, of a group, or all; with `shard` ('K/N'), only this machine's share of them (services/shard.py).

    Only the entries of the sites picked are read and checked (with --all and a shard: this shard's share; with
    --group: every site, to find the group's), so a malformed entry is reported by the commands that use its site."""
    from . import shard as sharding

    part = sharding.parse(shard)  # a bad --shard is reported before anything else

    settings = ctx.settings()
    if sum(bool(x) for x in (names, group, all_sites)) > 1:
        raise UsageError("name sites, or use --group, or --all (only one of them)", "e.g. aimo sync push --group production")
    if all_sites:
        every = settings.site_names()
        if not every:
            raise ConfigError("no WordPress site is configured", "Add one: aimo site add NAME URL --user USER")
        return [settings.site(name) for name in sharding.select(every, part, name=str)]
    if group:
        picked = [s for s in settings.sites().values() if s.group == group]
        if not picked:
            from ..core.names import did_you_mean

            known = ", ".join(sorted(settings.groups())) or "none"
            raise UsageError(f"no site is in group {group!r} (groups: {known})", did_you_mean(group, settings.groups()) + "Put a site in a group: aimo site add NAME URL --user U --group G")
    elif names:
        picked = [get_site(ctx, n) for n in dict.fromkeys(names)]
    else:
        picked = [get_site(ctx, None)]
    return sharding.select(picked, part)


def run_fleet(
    ctx,
    sites: list[SiteConfig],
    job: Callable[[SiteConfig], Any],
    *,
    jobs: int = DEFAULT_JOBS,
    label: str = "sites",
    processes: bool = False,
    prepare: Callable[[list[SiteConfig]], None] | None = None,
    steps: Callable[[SiteConfig], Any] | None = None,
    finish: Callable[[list[SiteOutcome]], list[SiteOutcome]] | None = None,
) -> list[SiteOutcome]:
    """Run `job(site)` for every site; errors become failed outcomes (with their exit code), never exceptions.

    `processes`: the job may run in worker processes (a read that changes nothing locally, whose value can be
    pickled; `sync status`). A large fleet is then split over the machine's cores (workers_for): one Python process
    runs one core at a time however many threads it has, and a fleet of fast sites is CPU-bound. The --jobs sites at
    once are shared out between the processes; the outcomes come back in the sites' order, as with threads alone.
    `prepare(sites)` runs first, in this process, when there are workers: what they should inherit rather than each
    do again (imports, secrets).

    `steps(site)`: the job as a generator of request steps (WordPressClient.request_steps), when it has one: the
    sites of each process then run on one event loop (services/fleet_loop.py) instead of threads, where every site
    gets the client's own transport (no proxy settings, no injected transport). `finish(outcomes)`: what each process
    makes of the outcomes of its share before they come back (services/sync_render.prerender: their JSON text)."""
    if jobs < 1:
        raise UsageError("--jobs must be at least 1", "e.g. --jobs 8")

    def one(site: SiteConfig) -> SiteOutcome:
        try:
            return SiteOutcome(site.name, True, job(site))
        except Exception as exc:  # noqa: BLE001 - one site's bug must not stop the fleet
            return outcome(site.name, None, exc)

    if not sites:
        return []
    if len(sites) == 1:
        return finish([one(sites[0])]) if finish is not None else [one(sites[0])]
    progress = None
    if ctx.out.rich_ok and not ctx.out.quiet:
        from rich.progress import Progress

        progress = Progress(transient=True, console=None)
    looped = steps is not None and ctx.transport is None and not _proxies()
    if looped:
        from . import fleet_loop

        def run_only(share: list, jobs: int, advance) -> list[SiteOutcome]:
            return fleet_loop.run(share, steps, outcome, jobs=jobs, advance=advance)
    else:

        def run_only(share: list, jobs: int, advance) -> list[SiteOutcome]:
            return run_threads(share, one, jobs=jobs, advance=advance)

    def run_share(share: list, jobs: int, advance) -> list[SiteOutcome]:
        outcomes = run_only(share, jobs, advance)
        return finish(outcomes) if finish is not None else outcomes

    workers = workers_for(ctx, len(sites), jobs) if processes else 1
    if workers > 1:
        if prepare is not None:
            prepare(sites)
        return _run_processes(sites, run_share, jobs=jobs, workers=workers, progress=progress, label=label, handed_out=looped)
    if progress is None:
        return run_share(sites, jobs, None)
    with progress:
        task = progress.add_task(label, total=len(sites))
        return run_share(sites, jobs, lambda: progress.advance(task))  # Rich's progress is thread-safe


def _proxies() -> bool:
    from ..tls import env_proxies

    return env_proxies()


def outcome(site: str, value: Any = None, error: Exception | None = None) -> SiteOutcome:
    """A site's outcome: ok with the job's value, or its error (an AimoError's message, hint and exit status; any
    other exception as "unexpected", exit 1)."""
    if error is None:
        return SiteOutcome(site, True, value)
    if isinstance(error, AimoError):
        return SiteOutcome(site, False, None, error.message, error.hint, error.exit_status)
    return SiteOutcome(site, False, None, f"unexpected {type(error).__name__}: {error}", failure=ExitStatus.UNEXPECTED)


def run_threads(sites: list[SiteConfig], one: Callable[[SiteConfig], SiteOutcome], *, jobs: int, progress=None, label: str = "sites", advance=None) -> list[SiteOutcome]:
    """`one(site)` for every site on `jobs` threads, the outcomes in the sites' order; a Rich `progress` (its own
    task), or an `advance()` to call as each site finishes."""
    tick = advance

    def run(site: SiteConfig) -> SiteOutcome:
        outcome = one(site)
        if tick is not None:
            tick()
        return outcome

    with ThreadPoolExecutor(max_workers=min(jobs, len(sites))) as pool:
        if progress is None:
            return list(pool.map(run, sites))
        with progress:
            task = progress.add_task(label, total=len(sites))
            tick = lambda: progress.advance(task)  # noqa: E731 - Rich's progress is thread-safe
            return list(pool.map(run, sites))


PROCESS_SITES = 100  # at least this many sites per worker process: below, a fork costs more than it saves
MAX_PROCESSES = 8


def workers_for(ctx, sites: int, jobs: int) -> int:
    """How many processes a fleet of `sites` at `jobs` at once runs in: one per core the process may use, at most one
    per PROCESS_SITES sites and per job. Only where fork is safe and cheap (Linux), and never with an injected
    transport (tests, embedding programs: their transport lives in this process)."""
    if ctx.transport is not None or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES, jobs, sites // PROCESS_SITES))


def fleet_exit_code(outcomes: list[SiteOutcome]) -> ExitCode:
    """The fleet rule (core/exits.py): the most severe site wins, so an auth or configuration failure on any site is
    never hidden behind another site's drift, remote failure or refusal."""
    return exit_code(o.exit_status for o in outcomes)


# -- a fleet over several processes ---------------------------------------------------------------------------------
# run_fleet with `processes=True`: fork, share the sites out, gather the outcomes back in order. Each worker is a fork
# of this process after the command has set itself up (settings read, secrets read and registered for redaction,
# modules imported): it runs its share of the sites on its share of the --jobs threads, writes one byte per finished
# site (the progress bar) and at the end its outcomes (_pack) to a pipe, and leaves with os._exit (no atexit
# handler, no buffered output of the parent flushed twice). This process runs a share itself meanwhile. A worker that
# dies before it answers costs its sites an "unexpected" outcome (exit 1), never the fleet. Ctrl-C at the terminal
# reaches every process of the group: the workers stop at once (default SIGINT), this one reports the interruption
# (exit 130) as without workers; a worker whose parent is gone is ended by the kernel (PR_SET_PDEATHSIG).

_DONE = b"."  # one site finished
_RESULT = b"!"  # the outcomes follow (_pack), to the end of the pipe


def _run_processes(
    sites: list, run_share: Callable[[Any, int, Any], list[SiteOutcome]], *, jobs: int, workers: int, progress=None, label: str = "sites", handed_out: bool = False
) -> list[SiteOutcome]:
    """`handed_out`: the sites are handed out one at a time to whichever process asks (each runs an event loop that
    takes a site as a connection frees up: fleet_loop), so a process that gets less of the machine takes fewer sites;
    else each process gets a fixed, interleaved share (threads take theirs at once)."""
    shares = [list(range(k, len(sites), workers)) for k in range(workers)]  # interleaved: each share as mixed as the fleet
    threads = [max(1, (jobs + k) // workers) for k in range(workers)]  # the --jobs shared out (32 over 2: 16 + 16)
    task = None
    lock = threading.Lock()

    def advance() -> None:
        if task is not None:
            with lock:
                progress.advance(task)

    prctl = _prctl()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # nothing buffered may be written twice (parent and child)
        except (OSError, ValueError):
            pass
    children: list[tuple[int, int]] = []
    results: list[SiteOutcome | None] = [None] * len(sites)
    queue = _SiteQueue(len(sites)) if handed_out else None
    # what exists now (modules, settings, secrets) lives to the end: out of the collector's sight, its full passes walk
    # only what the sites make, and a worker never touches the inherited objects' pages for it (each touched page is
    # copied on write); the sites' own cycles are collected as before
    gc.freeze()
    try:
        parent = os.getpid()
        for k in range(1, workers):
            read_end, write_end = os.pipe()
            _widen(write_end)  # a worker's answer written at once, not in turns with this process's reads
            pid = os.fork()
            if pid == 0:  # the worker
                os.close(read_end)
                share = queue.taker(sites, child=True) if queue is not None else _Share(sites, shares[k])
                _worker(parent, prctl, share, run_share, threads[k], write_end, progress is not None)
            os.close(write_end)
            children.append((pid, read_end))
        if queue is not None:
            queue.start()  # after the forks: the thread that hands out the sites is this process's alone
        if progress is not None:  # started after the forks: its refresh thread is this process's alone
            progress.start()
            task = progress.add_task(label, total=len(sites))
        # with a progress bar, a thread per worker reads its pipe as it goes (a byte per finished site); without,
        # the workers write only their answers, read once this process has run its own share
        readers = [threading.Thread(target=_gather, args=(child, results, advance), daemon=True) for child in children] if progress is not None else []
        for reader in readers:
            reader.start()
        share = queue.taker(sites) if queue is not None else _Share(sites, shares[0])
        mine = run_share(share, threads[0], advance)
        for i, outcome in zip(share.taken, mine):
            results[i] = outcome
        for reader in readers:
            reader.join()
        if not readers:
            for child in children:
                _gather(child, results, advance)
    finally:
        for pid, read_end in children:
            try:
                os.kill(pid, signal.SIGTERM)  # a no-op for a worker that has answered and gone
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            try:
                os.close(read_end)
            except OSError:
                pass
        if queue is not None:
            queue.close()
        if progress is not None:
            progress.stop()
        gc.unfreeze()  # (this process goes on: a program that embeds aimo keeps its collector as it was)
    for i, outcome in enumerate(results):  # taken by a worker that stopped before it answered
        if outcome is None:
            results[i] = _lost(sites[i].name, "the worker process running it stopped before it answered")
    return results  # type: ignore[return-value]


class _Share(list):
    """A process's fixed share of the sites: the sites, and which of the fleet's they are (`taken`)."""

    def __init__(self, sites: list, indices: list[int]) -> None:
        super().__init__(sites[i] for i in indices)
        self.taken = indices


class _SiteQueue:
    """The fleet's site numbers in a pipe, written by this process (at once when they fit in the pipe, else by a
    thread of its own as they are taken), read by every process as its loop
    frees a connection: whoever runs faster takes more. A number is 4 bytes; every write is whole numbers and at most
    PIPE_BUF (atomic), every read asks for one number, so a read gets one whole number or the end."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.read_end, self.write_end = os.pipe()
        self.thread: threading.Thread | None = None
        self.room = _widen(self.write_end)  # what the pipe holds: every number at once (no thread) when they fit

    def taker(self, sites: list, *, child: bool = False) -> "_Taker":
        if child:  # only this process's thread writes: a worker must not hold the pipe open (its end would never come)
            os.close(self.write_end)
            self.write_end = -1
        return _Taker(self.read_end, sites)

    def start(self) -> None:
        if 4 * self.n <= self.room:  # every number fits: written now (and the pipe's end with it), no thread
            self._write()
            return
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def _write(self) -> None:
        try:
            for start in range(0, self.n, 1024):  # 1,024 numbers: 4,096 bytes, one atomic write
                _write_all(self.write_end, b"".join(i.to_bytes(4, "little") for i in range(start, min(self.n, start + 1024))))
        except OSError:
            pass  # the readers are gone (interrupted)
        finally:
            self._close_write()

    def _close_write(self) -> None:
        if self.write_end >= 0:
            try:
                os.close(self.write_end)
            except OSError:
                pass
            self.write_end = -1

    def close(self) -> None:
        try:
            os.close(self.read_end)  # a writer still blocked on a full pipe gets EPIPE and ends
        except OSError:
            pass
        if self.thread is not None:
            self.thread.join(5)
        self._close_write()


class _Taker:
    """The sites this process takes from a _SiteQueue, one at a time; `taken`: which of the fleet's they were."""

    def __init__(self, fd: int, sites: list) -> None:
        self.fd = fd
        self.sites = sites
        self.taken: list[int] = []

    def __iter__(self) -> "_Taker":
        return self

    def __next__(self):
        data = os.read(self.fd, 4)
        if len(data) != 4:  # the end (b""): every site is taken
            raise StopIteration
        i = int.from_bytes(data, "little")
        self.taken.append(i)
        return self.sites[i]


def _worker(parent: int, prctl, share, run_share, jobs: int, out: int, report_progress: bool) -> None:
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: stop at once; the parent reports it
        if prctl is not None:
            prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG: the kernel ends this worker when the parent dies
        if os.getppid() != parent:  # the parent went before the line above
            return
        lock = threading.Lock()

        def advance() -> None:
            with lock:
                os.write(out, _DONE)

        outcomes = run_share(share, jobs, advance if report_progress else None)
        answer = _RESULT + _pack(list(share.taken), outcomes)
        try:
            sys.stderr.flush()  # a --debug log written by this worker, before the parent may go on
        except (OSError, ValueError):
            pass
        _write_all(out, answer)
        os.close(out)  # the answer's end: the parent reads on without waiting for this process to be torn down
        code = 0
    finally:
        try:
            sys.stderr.flush()  # a --debug log written by this worker
        finally:
            os._exit(code)


def _prctl():
    """libc's prctl (Linux), looked up before the forks (no import in a worker), or None."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PIPE_ROOM = 1 << 20  # asked of the kernel for a fleet's pipes (Linux's default most an unprivileged process gets)


def _widen(fd: int) -> int:
    """Ask for a pipe of _PIPE_ROOM bytes (Linux); what it holds now."""
    try:
        import fcntl

        try:
            return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_ROOM)
        except OSError:  # more than this system allows: what it has
            return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
    except (ImportError, AttributeError, OSError):
        return 4096  # (PIPE_BUF, what POSIX promises)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _gather(child: tuple[int, int], results: list, advance: Callable[[], None]) -> None:
    """Read one worker's pipe to its end: progress bytes, then its outcomes with the sites' numbers. A worker that
    stopped before it answered leaves its sites' results empty (run_processes says they were lost)."""
    _, read_end = child
    chunks: list[bytes] = []
    answered = False
    while True:
        try:
            data = os.read(read_end, 1 << 16)
        except OSError:
            break
        if not data:
            break
        if not answered:
            mark = data.find(_RESULT)
            done = data[: mark if mark >= 0 else len(data)]
            for _ in range(len(done)):
                advance()
            if mark >= 0:
                answered = True
                chunks.append(data[mark + 1 :])
        else:
            chunks.append(data)
    if not answered:
        return
    try:
        taken, outcomes = _unpack(b"".join(chunks))
    except Exception:  # noqa: BLE001 - a cut-off answer (the worker was killed while writing)
        return
    for i, outcome in zip(taken, outcomes):
        results[i] = outcome


# A worker's outcomes, as they travel back: settled ones (each a JSON row already written, its value only its exit
# status, no extra: a --json fleet's) as plain tuples in marshal's format (~3x quicker both ways than pickling
# the objects, and no pickle import); any other value pickled (from a fork of this very process).
_MARSHAL, _PICKLE = b"m", b"p"
_STATUS = {s.value: s for s in ExitStatus}


def _pack(taken: list[int], outcomes: list[SiteOutcome]) -> bytes:
    import marshal

    plain = []
    for o in outcomes:
        value = o.value
        if o.extra or type(o.row) is not str or type(o.failure) is not ExitStatus or not (value is None or (type(value) is Settled and type(value.exit_status) is ExitStatus)):
            break
        plain.append((o.site, o.ok, o.error, o.hint, o.failure.value, o.row, None if value is None else value.exit_status.value))
    else:
        try:
            return _MARSHAL + marshal.dumps((taken, plain))
        except ValueError:  # a text of a str subclass (marshal takes exact types only)
            pass
    import pickle

    try:
        return _PICKLE + pickle.dumps((taken, outcomes), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - a value that cannot travel: said per site, never a lost fleet
        return _PICKLE + pickle.dumps((taken, [_lost(o.site, f"its result could not be passed back from a worker process ({type(exc).__name__})") for o in outcomes]))


def _unpack(data: bytes) -> tuple[list[int], list[SiteOutcome]]:
    if data[:1] == _MARSHAL:
        import marshal

        taken, plain = marshal.loads(data[1:])
        status = _STATUS
        return taken, [
            SiteOutcome(site, ok, None if settled is None else Settled(status[settled]), error, hint, status[failure], row=row)
            for site, ok, error, hint, failure, row, settled in plain
        ]
    import pickle

    return pickle.loads(data[1:])


def _lost(site: str, why: str) -> SiteOutcome:
    return SiteOutcome(site, False, None, f"unexpected: {why}", "Run the command again; report it if it persists (aimo --debug).", ExitStatus.UNEXPECTED)
