"""The error hierarchy: every failure the user can act on, with the exit status it stands for.

Every error carries a message (what went wrong, naming the thing) and a hint (the command or change that fixes it).
Exit codes are decided in one place, `core/exits.py` (`exit_code`): an error exposes its `exit_status`, and its
`code` is derived from it.
"""

from __future__ import annotations

from .core.exits import ExitCode, ExitStatus, exit_code, status_of

__all__ = ["ExitCode", "ExitStatus", "exit_code", "AimoError", "UsageError", "ConfigError", "AuthError", "RemoteError", "SafetyError", "DriftError"]


class AimoError(Exception):
    """A failure the user can act on. Never put a secret in message or hint."""

    exit_status: ExitStatus = ExitStatus.UNEXPECTED

    def __init__(self, message: str, hint: str | None = None, *, status: ExitStatus | None = None, code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if status is not None:
            self.exit_status = ExitStatus(status)
        elif code is not None:  # older spelling: the status that code stands for
            self.exit_status = status_of(code)

    @property
    def code(self) -> ExitCode:
        return exit_code(self.exit_status)


class UsageError(AimoError):
    exit_status = ExitStatus.USAGE


class ConfigError(AimoError):
    exit_status = ExitStatus.CONFIG


class AuthError(AimoError):
    exit_status = ExitStatus.AUTH


class RemoteError(AimoError):
    exit_status = ExitStatus.REMOTE


class SafetyError(AimoError):
    exit_status = ExitStatus.REFUSED


class DriftError(AimoError):
    exit_status = ExitStatus.DRIFT
