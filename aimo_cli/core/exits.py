"""The exit-code policy: the one place that decides what aimo exits with.

Every outcome type exposes an `ExitStatus` (`exit_status`): a command error (`AimoError.exit_status`), a doctor check
(`Check.exit_status(strict)`), a sync result (`SiteSync.exit_status`), a fleet result (`SiteOutcome.exit_status`),
a key verification (`VerifyOutcome.exit_status`). `exit_code(statuses)` is the only function that turns statuses
into an `ExitCode`; nothing else in aimo names an exit code by its number.

Several statuses (a doctor run, a fleet of sites, a push of several keys) make one code: the most severe status
wins, in this order (`SEVERITY`):

  interrupted 130 > usage 2 > config 3 > auth 4 > refused 6 > remote 5 > unexpected 1 > drift 7 > ok 0

The fleet rule follows from it: a site whose settings are invalid (3) or whose credentials are refused (4) is never
hidden behind another site's drift (7), remote failure (5) or refusal (6) — a job in CI must page someone about the
site that cannot be reached at all, not report "drift". An aimo bug (1) outranks drift, so it is never mistaken for
"only differences found". Pure: no I/O, stdlib only.
"""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Iterable


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    REMOTE = 5
    REFUSED = 6
    DRIFT = 7
    INTERRUPTED = 130


class ExitStatus(str, Enum):
    """What an outcome means for the exit code (its "exit class")."""

    OK = "ok"
    DRIFT = "drift"  # ran, but found differences or failed checks
    UNEXPECTED = "unexpected"  # an aimo bug
    REMOTE = "remote"  # a site or provider failed or could not be reached
    REFUSED = "refused"  # a safety rule refused (plain http, a masked value, a conflict)
    AUTH = "auth"  # credentials missing or refused (application password, provider key)
    CONFIG = "config"  # the settings (or secrets file) say something aimo cannot work with, or nothing is set up yet
    USAGE = "usage"  # the command line is wrong: a typo'd provider, mode, site or group included (names what was meant)
    INTERRUPTED = "interrupted"


SEVERITY: tuple[ExitStatus, ...] = (
    ExitStatus.INTERRUPTED,
    ExitStatus.USAGE,
    ExitStatus.CONFIG,
    ExitStatus.AUTH,
    ExitStatus.REFUSED,
    ExitStatus.REMOTE,
    ExitStatus.UNEXPECTED,
    ExitStatus.DRIFT,
    ExitStatus.OK,
)

CODES: dict[ExitStatus, ExitCode] = {
    ExitStatus.OK: ExitCode.OK,
    ExitStatus.DRIFT: ExitCode.DRIFT,
    ExitStatus.UNEXPECTED: ExitCode.UNEXPECTED,
    ExitStatus.REMOTE: ExitCode.REMOTE,
    ExitStatus.REFUSED: ExitCode.REFUSED,
    ExitStatus.AUTH: ExitCode.AUTH,
    ExitStatus.CONFIG: ExitCode.CONFIG,
    ExitStatus.USAGE: ExitCode.USAGE,
    ExitStatus.INTERRUPTED: ExitCode.INTERRUPTED,
}
_RANK = {s: i for i, s in enumerate(SEVERITY)}


def worst(statuses: ExitStatus | Iterable[ExitStatus]) -> ExitStatus:
    """The most severe of `statuses` (OK when there is none)."""
    if isinstance(statuses, ExitStatus):
        return statuses
    found = [s if s.__class__ is ExitStatus else ExitStatus(s) for s in statuses]  # a fleet asks thousands of times
    return min(found, key=_RANK.__getitem__) if found else ExitStatus.OK


def exit_code(statuses: ExitStatus | Iterable[ExitStatus]) -> ExitCode:
    """THE mapping from outcome statuses to the process exit code (see the module docstring for the order)."""
    return CODES[worst(statuses)]


def retry_can_help(status: ExitStatus) -> bool:
    """Whether running the same command again may succeed with nothing changed: only for a remote failure (a site or
    provider unreachable, a timeout, a 5xx). Drift, refusals, bad credentials, settings and usage errors stay as they
    are until someone acts, so aimo never prints "Retry:" after them."""
    return ExitStatus(status) is ExitStatus.REMOTE


def status_of(code: int) -> ExitStatus:
    """The status an exit code stands for (for outcomes that only kept a code, e.g. a child process)."""
    for status, c in CODES.items():
        if c == code:
            return status
    return ExitStatus.UNEXPECTED
