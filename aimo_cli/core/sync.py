"""The sync planner: three-way comparison of local, remote and last-synced state, and the key-safety rules.

Pure: no I/O, no clock. The rules (docs/design.md §5) are enforced here so that no caller can get around them:
  * never send a masked value, an empty value or null to mean "no change";
  * an empty side never wipes the other;
  * only one side changed since the last sync → that side wins (push, or pull/report);
  * both changed → conflict, nothing written without `prefer`; so is first contact (never synced, keys differ):
    aimo never had the site's key, so replacing it would lose it;
  * a local key that comes from the environment is sent only when asked (`from_env`);
  * a connector whose key comes from an env var or constant on the site → a database push is pointless: refused
    unless forced;
  * a connector whose setting is not registered on the site cannot be written (WordPress drops it silently).
"""

from __future__ import annotations

from enum import Enum

from .providers import PROVIDERS
from .records import record
from .secrets import fingerprint, looks_masked, wp_mask


class Status(str, Enum):
    IN_SYNC = "in sync"
    DIFFERS = "differs"
    REMOTE_EMPTY = "remote empty"
    LOCAL_EMPTY = "local empty"
    BOTH_EMPTY = "both empty"
    LOCAL_CHANGED = "local changed"
    REMOTE_CHANGED = "remote changed"
    CONFLICT = "conflict"
    NOT_REGISTERED = "not registered"
    EXTERNAL_SOURCE = "site uses env/constant"
    CLEARED = "cleared on purpose"  # taken off the site with `aimo connectors clear`; a push does not put it back unasked


DRIFT = {Status.DIFFERS, Status.REMOTE_EMPTY, Status.LOCAL_EMPTY, Status.LOCAL_CHANGED, Status.REMOTE_CHANGED, Status.CONFLICT}


class Action(str, Enum):
    NONE = "none"
    PUSH = "push"
    PULL = "pull"
    REFUSE = "refuse"
    CONFLICT = "conflict"
    REPORT = "report"


@record(frozen=True)
class RemoteKey:
    """What aimo can know about a site's stored key without ever seeing it."""

    provider: str
    registered: bool
    mask: str = ""  # as /wp/v2/settings shows it ("" = empty)
    fingerprint: str | None = None  # from the bridge (sha256 prefix), when present
    key_source: str = "unknown"  # database | env | constant | none | unknown

    @property
    def present(self) -> bool:
        return bool(self.mask) or bool(self.fingerprint)

    def matches(self, value: str) -> bool:
        if not value or not self.present:
            return False
        if self.fingerprint:
            return self.fingerprint == fingerprint(value)
        return self.mask == wp_mask(value)

    def ident(self) -> str:
        """What is remembered as the remote side's identity at sync time."""
        return self.fingerprint or self.mask


CLEARED = "cleared"  # the base fingerprint recorded by `aimo connectors clear`


@record(frozen=True)
class BaseRecord:
    """The state of both sides when they were last in sync."""

    fingerprint: str  # of the key both sides held
    mask: str  # the WordPress mask of that key

    @classmethod
    def of(cls, value: str) -> "BaseRecord":
        return cls(fingerprint(value), wp_mask(value))

    def remote_is(self, remote: RemoteKey) -> bool:
        if remote.fingerprint:
            return remote.fingerprint == self.fingerprint
        return remote.mask == self.mask


@record(frozen=True)
class Decision:
    provider: str
    status: Status
    action: Action
    reason: str
    send: str | None = None  # the value to write remotely (push) — never empty, never masked

    def __post_init__(self) -> None:
        if self.action is Action.PUSH:
            if not self.send or looks_masked(self.send) or not self.send.strip():
                raise ValueError("a push must carry a real, non-empty, unmasked value")
        elif self.send is not None:
            raise ValueError("only a push carries a value")


def classify(local: str, remote: RemoteKey, base: BaseRecord | None) -> Status:
    if not remote.registered:
        return Status.NOT_REGISTERED
    if not local and not remote.present:
        return Status.BOTH_EMPTY
    if not local:
        return Status.LOCAL_EMPTY
    if not remote.present:
        return Status.CLEARED if base is not None and base.fingerprint == CLEARED else Status.REMOTE_EMPTY
    if remote.matches(local):
        return Status.IN_SYNC
    if base is None:
        return Status.DIFFERS
    local_changed = fingerprint(local) != base.fingerprint
    remote_changed = not base.remote_is(remote)
    if local_changed and remote_changed:
        return Status.CONFLICT
    if remote_changed:
        return Status.REMOTE_CHANGED
    return Status.LOCAL_CHANGED


def _external(remote: RemoteKey) -> bool:
    return remote.key_source in ("env", "constant")


def plan_push(
    provider: str,
    local: str,
    remote: RemoteKey,
    base: BaseRecord | None,
    *,
    prefer: str | None = None,
    force: bool = False,
    source: str = "store",
    from_env: bool = False,
    confirmed: bool = True,
) -> Decision:
    """`source` is where the local key comes from ("env" or the store); `from_env` allows sending an env key;
    `confirmed` is the admin's yes to replacing, at first contact, a site key aimo never saw (--prefer local)."""
    status = classify(local, remote, base)
    if looks_masked(local):
        return Decision(provider, status, Action.REFUSE, "the local value is a masked value, not a key; set the real key with aimo keys set")
    if status is Status.NOT_REGISTERED:
        return Decision(provider, status, Action.REPORT, "the site has no such connector setting (provider not registered)")
    if _external(remote) and local and not (status is Status.IN_SYNC):
        if not force:
            return Decision(
                provider,
                status,
                Action.REFUSE,
                f"the site reads this key from a PHP {remote.key_source}, which beats the database: a push would change nothing",
            )
    if status in (Status.BOTH_EMPTY, Status.IN_SYNC):
        return Decision(provider, status, Action.NONE, "nothing to do")
    if status is Status.LOCAL_EMPTY:
        return Decision(provider, status, Action.NONE, "no local key; an empty local value never wipes the site's key")
    if status is Status.CLEARED and prefer != "local":
        return Decision(provider, status, Action.NONE, "taken off the site with aimo connectors clear; push with --prefer local to send it again")
    if status is Status.CONFLICT and prefer != "local":
        return Decision(provider, status, Action.CONFLICT, "both sides changed since the last sync; choose with --prefer local|remote")
    if status is Status.REMOTE_CHANGED and prefer != "local":
        return Decision(provider, status, Action.REPORT, "the key was changed on the site since the last sync; pull it, or push with --prefer local")
    if status is Status.DIFFERS and prefer != "local":
        return Decision(
            provider,
            status,
            Action.CONFLICT,
            "first contact: the site holds another key and aimo never synced with it; nothing is written without --prefer local|remote",
        )
    if status is Status.DIFFERS and not confirmed:
        return Decision(provider, status, Action.REFUSE, "first contact: replacing a site key aimo never saw needs confirmation (--yes)")
    if source == "env" and not from_env:
        env_var = PROVIDERS[provider].env_var if provider in PROVIDERS else "the environment"
        return Decision(
            provider,
            status,
            Action.REFUSE,
            f"the local key comes from ${env_var}, not from the store; pass --from-env to send it (or unset {env_var} to send the stored key)",
        )
    return Decision(provider, status, Action.PUSH, _push_reason(status), send=local)


def _push_reason(status: Status) -> str:
    return {
        Status.REMOTE_EMPTY: "the site has no key",
        Status.DIFFERS: "first contact: the site's other key is replaced (--prefer local)",
        Status.LOCAL_CHANGED: "the local key changed since the last sync",
        Status.REMOTE_CHANGED: "overriding the site's change (--prefer local)",
        Status.CONFLICT: "conflict resolved with --prefer local",
    }.get(status, str(status.value))


def plan_pull(provider: str, local: str, remote: RemoteKey, base: BaseRecord | None, *, prefer: str | None = None, can_fetch: bool = True) -> Decision:
    status = classify(local, remote, base)
    if status is Status.NOT_REGISTERED:
        return Decision(provider, status, Action.REPORT, "the site has no such connector setting")
    if status in (Status.BOTH_EMPTY, Status.IN_SYNC):
        return Decision(provider, status, Action.NONE, "nothing to do")
    if status in (Status.REMOTE_EMPTY, Status.CLEARED):
        return Decision(provider, status, Action.NONE, "the site has no key; an empty remote value never wipes the local key")
    if _external(remote):
        return Decision(provider, status, Action.REPORT, f"the site reads this key from a PHP {remote.key_source}; it cannot be pulled over REST")
    if status is Status.CONFLICT and prefer != "remote":
        return Decision(provider, status, Action.CONFLICT, "both sides changed since the last sync; choose with --prefer local|remote")
    if status is Status.LOCAL_CHANGED and prefer != "remote":
        return Decision(provider, status, Action.REPORT, "the local key changed since the last sync; push it, or pull with --prefer remote")
    if status is Status.DIFFERS and prefer != "remote":
        return Decision(provider, status, Action.CONFLICT, "the keys differ and were never synced; choose with --prefer local|remote")
    if not can_fetch:
        return Decision(provider, status, Action.REPORT, "the site's key differs; pulling needs the aimo bridge (aimo bridge install / activate)")
    return Decision(provider, status, Action.PULL, "the site's key is newer" if status is not Status.LOCAL_EMPTY else "no local key yet")
