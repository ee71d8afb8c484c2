"""Exit codes and the error hierarchy: the one place that decides what a failure exits with.

Every error carries a message (what went wrong, naming the thing) and a hint (the command or change that fixes it).
"""

from __future__ import annotations

from enum import IntEnum


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


class AimoError(Exception):
    """A failure the user can act on. Never put a secret in message or hint."""

    code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str, hint: str | None = None, *, code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code


class UsageError(AimoError):
    code = ExitCode.USAGE


class ConfigError(AimoError):
    code = ExitCode.CONFIG


class AuthError(AimoError):
    code = ExitCode.AUTH


class RemoteError(AimoError):
    code = ExitCode.REMOTE


class SafetyError(AimoError):
    code = ExitCode.REFUSED


class DriftError(AimoError):
    code = ExitCode.DRIFT
