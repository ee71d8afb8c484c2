"""Two-way sync of connector keys between the local store and WordPress sites (docs/design.md §5).

One site costs one read (the bridge's status route, or /wp/v2/settings without the bridge) and at most one write
(every changed key in one request: the bridge's safe write, or /wp/v2/settings). The planner in core/sync.py makes
every decision; this module only gathers the three states and carries out the plan.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import TYPE_CHECKING

from ..core.providers import PROVIDER_IDS, PROVIDERS
from ..core.secrets import BULLET, fingerprint, looks_masked, parse_pool, wp_mask
from ..core.sync import CLEARED, DRIFT, Action, BaseRecord, Decision, RemoteKey, Status, classify, plan_pull, plan_push
from ..core.exits import worst
from ..errors import ExitStatus, RemoteError, UsageError, exit_code
from ..stores.secrets import provider_entry
from ..stores.settings import SiteConfig
from ..stores.state import SyncState
from ..wordpress import bridge as bridge_api
from ..wordpress.client import drive
from . import credentials
from .audit import describe_change
from .rollback import rollbacks_of

if TYPE_CHECKING:
    from ..wordpress.bridge import BridgeStatus


@dataclass
class RemoteView:
    via_bridge: bool
    keys: dict[str, RemoteKey]
    status: "BridgeStatus | None" = None  # the bridge's status, when present

    @property
    def mode(self) -> str | None:
        return self.status.mode if self.status is not None else None

    @property
    def competitor(self) -> str | None:
        """Another manager in managed mode while the bridge is managed too: two plugins run the Connectors page."""
        status = self.status
        if status is None or status.mode != "managed" or not status.managers:
            return None
        found = status.active_competitor
        return (found.name or "another plugin") if found else None

    @property
    def manager_in_charge(self) -> str | None:
        """Another plugin managing the Connectors (active, its own mode managed), whatever the bridge's mode: aimo
        writes nothing through it (the bridge refuses too)."""
        if self.status is None:
            return None
        found = self.status.active_competitor
        return (found.name or "another plugin") if found else None


# What each provider outcome means for the exit code: a key the site or provider refused is an authentication
# failure (4), a provider the site could not reach is remote (5), a push a safety rule refused is 6, a conflict or
# drift left for the admin is 7; the rest are fine.
_OUTCOME_STATUS = {
    "rejected": ExitStatus.AUTH,
    "unreachable": ExitStatus.REMOTE,
    "wiped": ExitStatus.AUTH,
    "restored": ExitStatus.AUTH,
    "refused": ExitStatus.REFUSED,
    "conflict": ExitStatus.DRIFT,
    "drift": ExitStatus.DRIFT,
}


@dataclass(slots=True)  # (no instance dict: its JSON item is exactly these fields, PROVIDER_FIELDS)
class ProviderResult:
    provider: str
    status: str
    action: str
    reason: str
    outcome: str = ""  # stored | rejected | unreachable | restored | wiped | pulled | unchanged | skipped | dry-run | refused | conflict
    source: str = ""  # where the local key comes from: "$GROQ_API_KEY" or "the store (keyring)"

    @property
    def exit_status(self) -> ExitStatus:
        return _OUTCOME_STATUS.get(self.outcome, ExitStatus.OK)

    def as_dict(self) -> dict:
        return dict(zip(PROVIDER_FIELDS, provider_values(self)))


PROVIDER_FIELDS = ("provider", "status", "action", "reason", "outcome", "source")  # a ProviderResult's JSON item, in order
provider_values = attrgetter(*PROVIDER_FIELDS)  # (its values in that order, as a tuple)


def _outcomes_status(outcomes: set[str]) -> list[ExitStatus]:
    return [_OUTCOME_STATUS.get(o, ExitStatus.OK) for o in outcomes]


@dataclass
class SiteSync:
    site: str
    via_bridge: bool
    results: list[ProviderResult] = field(default_factory=list)
    requests: int = 0
    competitor: str | None = None  # another plugin managing the Connectors while the bridge is in managed mode
    mode_note: str = ""  # set when the bridge is not in managed mode (aimo only reports there)

    @property
    def exit_status(self) -> ExitStatus:
        """The most severe provider outcome; another manager fighting over the Connectors is drift."""
        # each distinct outcome once (ProviderResult.exit_status's mapping): a fleet asks this of every site, twice
        return worst(_outcomes_status({r.outcome for r in self.results}) + ([ExitStatus.DRIFT] if self.competitor else []))

    @property
    def exit_code(self) -> int:
        return int(exit_code(self.exit_status))

    def as_dict(self, *, exit_status: ExitStatus | None = None, providers: bool = True) -> dict:
        """Its JSON item (docs/json.md `sync`). `exit_status`: its own, when the caller has it already;
        `providers=False`: the item with `"providers": null` (sync_render.prerender writes the list apart)."""
        return {
            "site": self.site,
            "via_bridge": self.via_bridge,
            "requests": self.requests,
            "exit_code": self.exit_code if exit_status is None else int(exit_code(exit_status)),
            "competitor": self.competitor,
            "mode_note": self.mode_note or None,
            "providers": [r.as_dict() for r in self.results] if providers else None,
        }


# -- reading the remote side ---------------------------------------------------------------------------------------


def remote_from_settings(settings: dict) -> dict[str, RemoteKey]:
    keys = {}
    for pid in PROVIDER_IDS:
        name = PROVIDERS[pid].setting_name
        value = settings.get(name)
        keys[pid] = RemoteKey(pid, name in settings, value if isinstance(value, str) else "", None, "unknown" if name in settings else "none")
    return keys


def remote_from_status(status: "BridgeStatus") -> dict[str, RemoteKey]:
    keys = {}
    by_id = status.connectors_by_id
    known = _REMOTE_KEYS
    for pid in PROVIDER_IDS:
        c = by_id.get(pid)
        state = (pid, None) if c is None else (pid, c.provider_registered, c.fingerprint, c.mask_tail, c.key_source)
        keys[pid] = known.get(state) or _remote_key(state)
    return keys


_REMOTE_KEYS: dict[tuple, RemoteKey] = {}  # a connector's (provider, registered, fingerprint, mask tail, key source) -> its RemoteKey


def _remote_key(state: tuple) -> RemoteKey:
    """What a connector says of its key (`state`: see remote_from_status; (provider, None): the site has no connector
    for it), each distinct state built once per process (a RemoteKey is frozen): a fleet's sites mostly hold the same
    keys, or none, so a status builds none after the first sites."""
    if len(_REMOTE_KEYS) >= 4096:  # a fleet of mostly distinct keys: kept small
        _REMOTE_KEYS.clear()
    if state[1] is None:
        found = RemoteKey(state[0], False)
    else:
        pid, registered, fp, mask_tail, key_source = state
        found = RemoteKey(pid, registered, (BULLET * 4 + mask_tail) if fp else "", fp or None, key_source or "none")
    _REMOTE_KEYS[state] = found
    return found


def read_remote(client, *, check: bool = False) -> RemoteView:
    """One request with the bridge (its status route); without it, /wp/v2/settings after the route's 404."""
    return drive(read_remote_steps(client, check=check))


def read_remote_steps(client, *, check: bool = False):
    """`read_remote` as the steps of its requests (WordPressClient.request_steps): for the fleet's event loop."""
    try:
        status = yield from bridge_api.status_steps(client, check=check)
    except bridge_api.BridgeMissing:
        settings = yield from client.get_steps("/wp/v2/settings")
        if not isinstance(settings, dict):
            raise RemoteError(f"{client.site}: /wp/v2/settings did not answer a JSON object", "Check the site's REST API.") from None
        return RemoteView(False, remote_from_settings(settings))
    return RemoteView(True, remote_from_status(status), status)


# -- the local side ------------------------------------------------------------------------------------------------


def local_first(ctx, provider_id: str) -> str:
    return credentials.resolve(ctx, provider_id).first


def pick_providers(providers: list[str] | None) -> list[str]:
    if not providers:
        return list(PROVIDER_IDS)
    return [credentials.provider_info(p).id for p in dict.fromkeys(providers)]


class Verifier:
    """Validate each key once per run with the provider adapter (shared by every site of a fleet run)."""

    def __init__(self, ctx, enabled: bool = True) -> None:
        self.ctx = ctx
        self.enabled = enabled
        self._memo: dict[tuple[str, str], tuple[bool | None, str]] = {}
        self._lock = threading.Lock()

    def check(self, provider_id: str, key: str) -> tuple[bool | None, str]:
        """(True, "") valid; (False, reason) rejected; (None, reason) could not tell (unreachable from here)."""
        if not self.enabled:
            return None, "not verified (--no-verify)"
        memo_key = (provider_id, fingerprint(key))
        with self._lock:
            if memo_key in self._memo:
                return self._memo[memo_key]
        from .verify import OK, REJECTED, verify_key

        outcome = verify_key(self.ctx, provider_id, key)
        result: tuple[bool | None, str] = (True, "") if outcome.status == OK else ((False if outcome.status == REJECTED else None), outcome.message)
        with self._lock:
            self._memo[memo_key] = result
        return result


# -- push ----------------------------------------------------------------------------------------------------------


def push_site(
    ctx,
    site: SiteConfig,
    providers: list[str] | None = None,
    *,
    prefer: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    verifier: Verifier | None = None,
    only_where_remote_is: str | None = None,
    from_env: bool = False,
    confirmed: bool = True,
    action: str = "push",
    as_if_managed: bool = False,
) -> SiteSync:
    """Push local keys to one site. `only_where_remote_is` (rotation): touch a provider only where the site holds that key.

    `from_env`: a local key that comes from the environment may be sent (never by default); `confirmed`: the admin
    said yes to replacing, at first contact, site keys aimo never saw (--prefer local --yes). `action` names the
    write in aimo's audit log (push, rotate, enable). `dry_run` writes nothing anywhere (site, sync state, audit log);
    with `as_if_managed` it plans as if the site were in managed mode (the dry run of `connectors enable`)."""
    from . import audit

    state = SyncState(ctx.state_dir)
    pids = pick_providers(providers)
    verifier = verifier or Verifier(ctx)
    with ctx.wordpress(site) as client:
        remote = read_remote(client)
        if not (dry_run and as_if_managed):
            refuse_unless_managed(site, remote)
        base = state.load(site.name)
        result = SiteSync(site.name, remote.via_bridge, competitor=remote.competitor)
        batch: dict[str, str] = {}
        records: dict[str, BaseRecord] = {}
        # in managed mode the bridge registers every provider: the dry run of `connectors enable` plans with that
        registers_all = dry_run and as_if_managed and remote.via_bridge and remote.mode != "managed"
        for pid in pids:
            cred = credentials.resolve(ctx, pid)
            local = cred.first
            rk = remote.keys[pid]
            if registers_all and not rk.registered:
                rk = replace(rk, registered=True)
            if only_where_remote_is is not None and not rk.matches(only_where_remote_is) and not rk.matches(local):
                result.results.append(ProviderResult(pid, classify(local, rk, base.get(pid)).value, "none", "the site does not hold the old key; left alone", "skipped"))
                continue
            if only_where_remote_is is not None and rk.matches(only_where_remote_is):
                base[pid] = BaseRecord.of(only_where_remote_is)  # the site still has the key we are replacing
            d = plan_push(
                pid, local, rk, base.get(pid), prefer=prefer, force=force, source="env" if cred.source == "env" else "store", from_env=from_env, confirmed=confirmed
            )
            pr = ProviderResult(pid, d.status.value, d.action.value, d.reason, source=source_label(ctx, cred))
            result.results.append(pr)
            if d.status is Status.DIFFERS and d.action is not Action.PUSH:
                pr.reason += "; " + first_contact_hint(cred, rk, remote, pr.source)
            if d.action is Action.PUSH and remote.manager_in_charge:
                pr.outcome = "refused"
                pr.reason = (
                    f"{remote.manager_in_charge} manages the Connectors: aimo writes nothing through another manager"
                    f" (take over: aimo connectors takeover {site.name}; its keys are untouched)"
                )
                continue
            if d.status is Status.IN_SYNC and base.get(pid) != BaseRecord.of(local):
                # both sides hold the same key: that is the new base, even when they got there on their own (a write
                # whose answer was lost, a change made on both sides) — a stale base would turn the next change into a conflict
                records[pid] = BaseRecord.of(local)
            if d.action is Action.PUSH:
                if dry_run:
                    pr.outcome = "dry-run"
                    continue
                ok, why = verifier.check(pid, d.send)
                if ok is False:
                    pr.outcome, pr.reason = "rejected", f"rejected by {PROVIDERS[pid].name} before sending: {why}"
                    continue
                if ok is None and why and verifier.enabled:
                    pr.reason += f" (not verified from here: {why})"
                pr.reason += f"; sends {cred.display()} ({fingerprint(local)}) from {pr.source}"
                batch[pid] = d.send  # type: ignore[assignment]
            else:
                pr.outcome = {Action.REFUSE: "refused", Action.CONFLICT: "conflict", Action.NONE: "unchanged"}.get(d.action, "drift" if d.status in DRIFT else "skipped")
        if batch:
            if remote.via_bridge:
                try:
                    _write_via_bridge(client, batch, result, records)
                except bridge_conflict() as exc:  # another manager took over between aimo's read and its write
                    for pr in result.results:
                        if pr.provider in batch:
                            pr.outcome = "refused"
                            pr.reason = (
                                f"{exc.manager or 'another plugin'} manages the Connectors: aimo writes nothing through another manager"
                                f" (take over: aimo connectors takeover {site.name}; its keys are untouched)"
                            )
            else:
                _write_via_settings(ctx, client, batch, remote, result, records)
        result.requests = client.request_count
    if not dry_run:
        state.record(site.name, records)
    if batch:
        old = {pid: remote.keys[pid].fingerprint or "" for pid in batch}
        audit.record_sync(ctx, site.name, action, [r for r in result.results if r.provider in batch], old, {pid: fingerprint(k) for pid, k in batch.items()})
    return result


def source_label(ctx, cred) -> str:
    """Where a local key comes from, as every push/rotate line says it: `$GROQ_API_KEY` or `the store (keyring)`."""
    if cred.source == "env":
        return "$" + PROVIDERS[cred.provider].env_var
    if not cred.present:
        return "nowhere (no local key)"
    return f"the store ({cred.source})"


def first_contact_hint(cred, rk: RemoteKey, remote: RemoteView, local_source: str) -> str:
    """Both fingerprints and where each came from, so the admin can choose --prefer local or remote knowingly."""
    from .audit import describe_change

    site_fp = rk.fingerprint or (f"mask {rk.mask}" if rk.mask else "?")
    where = {"database": "the site's database", "env": "an environment variable on the site", "constant": "a PHP constant on the site"}.get(
        rk.key_source, "the site"
    )
    changed = describe_change(remote.status, cred.provider) if remote.status else None
    return f"local {fingerprint(cred.first)} from {local_source}; site {site_fp} from {where}" + (f", {changed}" if changed else "")


def refuse_unless_managed(site: SiteConfig, remote: RemoteView) -> None:
    """With the bridge, aimo writes keys only in managed mode: observe (and off) mean "report only"."""
    from ..errors import SafetyError

    if remote.via_bridge and remote.mode and remote.mode != "managed":
        raise SafetyError(
            f"{site.name}: the aimo bridge is in {remote.mode} mode: aimo only reports on this site and writes no key",
            f"Hand aimo the Connectors first: aimo connectors enable {site.name}",
        )


def bridge_conflict():
    from ..wordpress.bridge import BridgeConflict

    return BridgeConflict


def _write_via_bridge(client, batch: dict[str, str], result: SiteSync, records: dict[str, BaseRecord]) -> None:
    from ..wordpress import bridge as bridge_api

    answer = bridge_api.put_credentials(client, batch)
    by_pid = {r.provider: r for r in result.results}
    for pid, key in batch.items():
        res = answer.get(pid) or bridge_api.CredentialResult()
        pr = by_pid[pid]
        if res.status in ("stored", "unchanged") and res.fingerprint == fingerprint(key):
            pr.outcome = "stored" if res.status == "stored" else "unchanged"
            records[pid] = BaseRecord.of(key)
        elif res.status == "unreachable" or (res.status == "rejected" and res.cause == "unreachable"):
            pr.outcome, pr.reason = "unreachable", unreachable_reason(pid, res)
        elif res.status == "rejected":
            pr.outcome, pr.reason = "rejected", f"{PROVIDERS[pid].name} refused the key when the site checked it (the site kept its previous one): {res.reason or 'no reason given'}"
        else:
            pr.outcome, pr.reason = "rejected", f"the bridge did not confirm the key (status {res.status or None!r})"


def unreachable_reason(pid: str, res) -> str:
    """"the site could not reach Groq at URL (timed out after 5001 ms)": a remote problem (exit 5), not a bad key.
    `res` is the bridge's CredentialResult."""
    import re

    detail = res.reason
    url = res.url
    if not url:  # the AI Client names it in its message: "… sending request to URL: cURL error 28 …"
        found = re.search(r"https?://[^\s?#]+?(?=:\s|\s|$)", detail)
        url = found.group(0) if found else ""
    m = re.search(r"(?:timed out after|timeout of|after) (\d+) ?(?:ms|milliseconds)", detail)
    timeout = f" (timed out after {m.group(1)} ms)" if m else ""
    http = f" (HTTP {res.http_status})" if res.http_status else ""
    return (
        f"the site could not reach {PROVIDERS[pid].name}" + (f" at {url}" if url else "") + f"{timeout}{http} to check the key; the site kept its "
        f"previous one — a problem between the site and the provider (DNS, firewall, timeout, blocked URL), not a bad key: {detail}"
    )


def _write_via_settings(ctx, client, batch: dict[str, str], remote: RemoteView, result: SiteSync, records: dict[str, BaseRecord]) -> None:
    """Core's settings route: it validates each key with a live call and stores '' on ANY failure — so read the
    answer back, and put back the previous key when aimo knows it."""
    body = {PROVIDERS[pid].setting_name: key for pid, key in batch.items()}
    for value in body.values():  # the planner guarantees it; this is the last line of defence
        if not value or looks_masked(value):
            raise AssertionError("refusing to send an empty or masked value")
    answer = client.post("/wp/v2/settings", body)
    by_pid = {r.provider: r for r in result.results}
    restore: dict[str, str] = {}
    for pid, key in batch.items():
        got = (answer or {}).get(PROVIDERS[pid].setting_name)
        pr = by_pid[pid]
        if got == wp_mask(key):
            pr.outcome = "stored"
            records[pid] = BaseRecord.of(key)
            continue
        pr.outcome = "wiped"
        pr.reason = "WordPress rejected the key and emptied the connector (its live check failed: bad key, provider unreachable from the site, or timeout)"
        previous = known_previous(ctx, pid, remote.keys[pid])
        if previous:
            restore[PROVIDERS[pid].setting_name] = previous
    if restore:
        again = client.post("/wp/v2/settings", restore)
        for pid in batch:
            name = PROVIDERS[pid].setting_name
            if name in restore:
                pr = by_pid[pid]
                if (again or {}).get(name) == wp_mask(restore[name]):
                    pr.outcome = "restored"
                    pr.reason += "; the previous key was put back"
                    records[pid] = BaseRecord.of(restore[name])
                else:
                    pr.reason += "; putting the previous key back failed too"


def known_previous(ctx, provider_id: str, remote: RemoteKey) -> str | None:
    """A key aimo holds that matches what the site had before the write (pool lines, or the replaced key)."""
    if not remote.present:
        return None
    candidates = list(credentials.resolve(ctx, provider_id).pool)
    prev = ctx.secrets.get(credentials.previous_entry(provider_id))
    if prev:
        candidates += parse_pool(prev)
    for value in candidates:
        if remote.matches(value):
            return value
    return None


# -- pull ----------------------------------------------------------------------------------------------------------


def pull_site(ctx, site: SiteConfig, providers: list[str] | None = None, *, prefer: str | None = None, dry_run: bool = False) -> SiteSync:
    from ..wordpress import bridge as bridge_api

    state = SyncState(ctx.state_dir)
    pids = pick_providers(providers)
    records: dict[str, BaseRecord] = {}
    pulled: dict[str, tuple[str, str]] = {}
    with ctx.wordpress(site) as client:
        remote = read_remote(client)
        base = state.load(site.name)
        result = SiteSync(site.name, remote.via_bridge, competitor=remote.competitor)
        rollbacks = site_rollbacks(ctx, remote, pids)
        for pid in pids:
            local_cred = credentials.resolve(ctx, pid)
            d = plan_pull(pid, local_cred.first, remote.keys[pid], base.get(pid), prefer=prefer, can_fetch=remote.via_bridge)
            rb = rollbacks.get(pid) if d.status in (Status.REMOTE_CHANGED, Status.CONFLICT) else None
            if rb and prefer != "remote":
                reason = f"{rb.describe()}; aimo keeps its key (to take the site's anyway: aimo sync pull {site.name} --prefer remote)"
                result.results.append(ProviderResult(pid, d.status.value, "refuse", reason, "refused"))
                continue
            pr = ProviderResult(pid, d.status.value, d.action.value, rb.describe() if rb else d.reason)
            result.results.append(pr)
            if d.status is Status.IN_SYNC and base.get(pid) != BaseRecord.of(local_cred.first):
                records[pid] = BaseRecord.of(local_cred.first)  # the new base (see push_site)
            if d.action is not Action.PULL:
                pr.outcome = {Action.CONFLICT: "conflict", Action.NONE: "unchanged"}.get(d.action, "drift" if d.status in DRIFT else "skipped")
                continue
            if local_cred.source == "env":
                pr.outcome, pr.reason = "skipped", f"the local key comes from {PROVIDERS[pid].env_var}; unset it to pull into the store"
                continue
            if dry_run:
                pr.outcome = "dry-run"
                continue
            key = bridge_api.get_credential(client, pid)
            if pid == "ollama" and key and not key.lower().startswith(("http://", "https://")):
                pr.outcome, pr.reason = "skipped", "the site's Ollama credential is not a server URL (never put into aimo's Ollama URL pool)"
                continue
            if not key or looks_masked(key) or not remote.keys[pid].matches(key):
                pr.outcome, pr.reason = "skipped", "the site returned no usable key (empty, masked, or not the one its status reported)"
                continue
            store_first_line(ctx, pid, key)
            pr.outcome = "pulled"
            records[pid] = BaseRecord.of(key)
            pulled[pid] = (fingerprint(local_cred.first), fingerprint(key))
        result.requests = client.request_count
    if not dry_run:
        state.record(site.name, records)
    from . import audit

    for pid, (old, new) in pulled.items():
        audit.record(ctx, site.name, pid, "pull", old, new, "pulled", "into the local store")
    return result


def store_first_line(ctx, provider_id: str, key: str) -> None:
    """Make `key` the first line of the local pool (the line WordPress gets); keep the other lines; the replaced first
    key is kept as a previous key (aimo keys previous), not left in the pool."""
    entry = provider_entry(provider_id)
    pool = parse_pool(ctx.secrets.get(entry) or "")
    new_pool = [key] + [k for k in pool[1:] if k != key]
    credentials.check_pool(PROVIDERS[provider_id], "\n".join(new_pool))
    credentials.store_pool(ctx, provider_id, pool=new_pool, reason="replaced by aimo sync pull")


# -- status --------------------------------------------------------------------------------------------------------


def _case(pid: str, remote: RemoteKey, base: BaseRecord | None) -> tuple:
    """What a provider's plan at a site depends on besides the local key (the same for every site of a run)."""
    return (pid, remote.registered, remote.mask, remote.fingerprint, remote.key_source, None if base is None else (base.fingerprint, base.mask))


class LocalKeys:
    """The local side of a read-only fleet run, resolved once, on the first site that asks: each provider's credential
    and the previous key aimo kept for it (`sync status` of 1,000 sites asked the store for them 20,000 times). A
    failure is not kept: every site reports it, as before. Not for a push or pull: they change the local keys."""

    def __init__(self, ctx, providers: list[str] | None = None) -> None:
        from ..tls import env_proxies

        self.ctx = ctx
        self.providers = pick_providers(providers)
        self._found: tuple[dict, dict] | None = None
        self._lock = threading.Lock()
        self.proxies = env_proxies()  # the proxy settings, read once for every site's client
        self._state: SyncState | None = None
        self._plans: dict[tuple, tuple[Decision, str, str, str]] = {}
        self._labels: dict[str, str] = {}
        self._rows: dict[tuple, tuple[Decision, str, str, str, str]] = {}

    @property
    def state(self) -> SyncState:
        """Where each site's base is read (one for every site)."""
        if self._state is None:
            self._state = SyncState(self.ctx.state_dir)
        return self._state

    def plan(self, pid: str, cred, remote: RemoteKey, base: BaseRecord | None) -> tuple[Decision, str, str, str]:
        """_status_plan of the local key `cred` against a site's key and base, each distinct case planned once per
        run: the plan depends on nothing else (the local key is the same for every site), and a fleet's sites mostly
        hold the same keys."""
        key = _case(pid, remote, base)
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = _status_plan(pid, cred, remote, base)
        return found

    def row(self, pid: str, cred, remote: RemoteKey, base: BaseRecord | None) -> tuple[Decision, str, str, str, str]:
        """plan's (decision, status, action, outcome) and label's source of a provider at a site: one look-up."""
        key = _case(pid, remote, base)
        found = self._rows.get(key)
        if found is None:
            found = self._rows[key] = (*self.plan(pid, cred, remote, base), self.label(pid, cred))
        return found

    def label(self, pid: str, cred) -> str:
        """source_label of the provider's local key, once per run."""
        found = self._labels.get(pid)
        if found is None:
            found = self._labels[pid] = source_label(self.ctx, cred)
        return found

    def get(self) -> tuple[dict, dict[str, str]]:
        """({provider: Credential}, {provider: previous key or ""})."""
        with self._lock:
            if self._found is None:
                from .credentials import previous_entry

                creds = {pid: credentials.resolve(self.ctx, pid) for pid in self.providers}
                previous = {pid: self.ctx.secrets.get(previous_entry(pid)) or "" for pid in self.providers}
                self._found = (creds, previous)
            return self._found


def status_job(ctx, providers: list[str] | None = None):
    """`sync status` of a fleet: (job, prepare, steps) for services/fleet.run_fleet. `prepare(sites)` readies what
    worker processes share: the modules a site needs, the local keys, each site's application password (read and
    registered for redaction here, so the workers inherit them); `steps(site)`: the job as request steps."""
    local = LocalKeys(ctx, providers)

    def job(site: SiteConfig) -> SiteSync:
        return status_site(ctx, site, local=local)

    def steps(site: SiteConfig):
        return status_site_steps(ctx, site, local=local)

    def prepare(sites: list[SiteConfig]) -> None:
        import httpx  # noqa: F401 - imported once here, not by every worker
        from ..stores.secrets import site_entry
        from .. import transport  # noqa: F401
        from ..wordpress import bridge, client  # noqa: F401
        from . import fleet_loop  # noqa: F401
        from . import audit, rollback  # noqa: F401 - (services.sites: imported by the command already)
        from ..errors import AimoError

        try:
            local.get()
        except AimoError:
            pass  # every site says it
        def password(site: SiteConfig) -> None:
            try:
                ctx.secrets.get(site_entry(site.name))
            except AimoError:
                pass  # the site that needs it says it

        if ctx.secrets.backend.name in ("file", "memory"):  # one parsed file: no wait, read once for all
            try:
                ctx.secrets.get_many([site_entry(site.name) for site in sites])
            except AimoError:
                pass  # each site says it
        else:  # an OS keyring: a round trip each, several at once as the sites' own threads would
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(password, sites))

    return job, prepare, steps


def _status_plan(pid: str, cred, remote: RemoteKey, base: BaseRecord | None) -> tuple[Decision, str, str, str]:
    """What `sync status` reports of one provider's plan: (the decision, its status's and action's text, its outcome:
    "drift" or "")."""
    d = plan_push(pid, cred.first, remote, base, source="env" if cred.source == "env" else "store")
    drifted = d.status in DRIFT or (d.status is Status.NOT_REGISTERED and bool(cred.first))
    return d, d.status.value, d.action.value, "drift" if drifted else ""


# the statuses whose reason says more (enum members looked up once: each look-up of one costs ~0.1 us)
_DIFFERS = Status.DIFFERS
_CHANGED_ON_SITE = frozenset({Status.REMOTE_CHANGED, Status.CONFLICT, Status.REMOTE_EMPTY})
_MAY_ROLL_BACK = frozenset({Status.REMOTE_CHANGED, Status.CONFLICT})


def status_site(ctx, site: SiteConfig, providers: list[str] | None = None, *, local: LocalKeys | None = None) -> SiteSync:
    """The three-way comparison for one site; `local`: the local keys when the caller resolved them once for a fleet
    (then `providers` is theirs)."""
    return drive(status_site_steps(ctx, site, providers, local=local))


def status_site_steps(ctx, site: SiteConfig, providers: list[str] | None = None, *, local: LocalKeys | None = None):
    """`status_site` as the steps of its requests (WordPressClient.request_steps): for the fleet's event loop."""
    keys = local
    state = keys.state if keys is not None else SyncState(ctx.state_dir)
    with ctx.wordpress(site, proxies=keys.proxies if keys is not None else None) as client:
        remote = yield from read_remote_steps(client)
        requests = client.request_count
    base = state.load(site.name)
    result = SiteSync(site.name, remote.via_bridge, requests=requests, competitor=remote.competitor)
    pids = keys.providers if keys is not None else pick_providers(providers)
    creds, previous = keys.get() if keys is not None else (None, None)
    rollbacks = None  # read from the change log when a provider's status calls for it (most sites: none does)
    remote_keys, add = remote.keys, result.results.append
    for pid in pids:
        cred = creds[pid] if creds is not None else credentials.resolve(ctx, pid)
        rk = remote_keys[pid]
        if keys is not None:
            d, status, action, outcome, source = keys.row(pid, cred, rk, base.get(pid))
        else:
            (d, status, action, outcome), source = _status_plan(pid, cred, rk, base.get(pid)), source_label(ctx, cred)
        pr = ProviderResult(pid, status, action, d.reason, outcome, source=source)
        if d.status is _DIFFERS:
            pr.reason += "; " + first_contact_hint(cred, rk, remote, pr.source)
        elif d.status in _CHANGED_ON_SITE and remote.status:
            changed = describe_change(remote.status, pid)
            if changed:
                pr.reason += f" (on the site: {changed})"
        if d.status in _MAY_ROLL_BACK:
            if rollbacks is None:
                rollbacks = site_rollbacks(ctx, remote, pids, previous=previous)
            rb = rollbacks.get(pid)
            if rb:
                pr.reason = f"{rb.describe()}; push aimo's key back: aimo sync push {site.name} --prefer local"
        add(pr)
    mode = remote.mode
    if remote.via_bridge and mode and mode != "managed":
        result.mode_note = f"the aimo bridge is in {mode} mode: aimo only reports here; aimo connectors enable {site.name} hands it the Connectors"
    return result


def clear_site(ctx, site: SiteConfig, providers: list[str], *, dry_run: bool = False) -> SiteSync:
    """Take keys off a site on purpose (aimo connectors clear): the bridge's explicit removal route, managed mode only,
    recorded in the sync state (so a later push does not put the key back unasked) and in aimo's audit log.
    `dry_run`: the same checks and one read; what would be cleared, and no write anywhere."""
    from ..errors import SafetyError
    from ..wordpress import bridge as bridge_api
    from . import audit

    state = SyncState(ctx.state_dir)
    pids = pick_providers(providers)
    with ctx.wordpress(site) as client:
        remote = read_remote(client)
        if not remote.via_bridge:
            raise SafetyError(
                f"{site.name}: clearing a key needs the aimo bridge (core's settings route has no safe way to empty a connector)",
                f"Install and activate the bridge: aimo bridge activate {site.name}",
            )
        refuse_unless_managed(site, remote)
        result = SiteSync(site.name, True, competitor=remote.competitor)
        if dry_run:
            for pid in pids:
                rk = remote.keys[pid]
                if rk.present:
                    result.results.append(ProviderResult(pid, "key on site", "clear", f"would take the key {rk.fingerprint or rk.mask} off the site", "dry-run"))
                else:
                    result.results.append(ProviderResult(pid, Status.REMOTE_EMPTY.value, "none", "the site holds no key for this provider", "unchanged"))
            result.requests = client.request_count
            return result
        answer = bridge_api.clear_credentials(client, pids)
        records: dict[str, BaseRecord | None] = {}
        for pid in pids:
            res = answer.get(pid) or bridge_api.ClearResult()
            status = res.status
            rk = remote.keys[pid]
            if status == "cleared":
                pr = ProviderResult(pid, "cleared", "clear", f"the key {rk.fingerprint or rk.mask} was taken off the site", "cleared")
                records[pid] = BaseRecord(CLEARED, "")
            elif status == "absent":
                pr = ProviderResult(pid, Status.REMOTE_EMPTY.value, "none", "the site holds no key for this provider", "unchanged")
                records[pid] = BaseRecord(CLEARED, "")
            else:
                pr = ProviderResult(pid, status or "?", "clear", f"the bridge did not clear it: {res.reason or 'no reason given'}", "refused")
            result.results.append(pr)
        result.requests = client.request_count
    state.record(site.name, records)
    for pr in result.results:
        if pr.outcome in ("cleared", "refused"):
            audit.record(ctx, site.name, pr.provider, "clear", remote.keys[pr.provider].fingerprint or "", "", pr.outcome, pr.reason)
    return result


def adoptable(ctx, result: SiteSync) -> list[str]:
    """Providers the site holds a key for and aimo has none: candidates for --adopt."""
    return [r.provider for r in result.results if r.status == Status.LOCAL_EMPTY.value]


def site_rollbacks(ctx, remote, pids: list[str], previous: dict[str, str] | None = None) -> dict:
    """Site keys that are keys aimo replaced earlier (services/rollback.py), by provider; `previous`: the local previous
    keys when the caller has them already (LocalKeys)."""
    return rollbacks_of(ctx, remote.status, {pid: remote.keys[pid] for pid in pids}, previous)


def check_prefer(prefer: str | None) -> str | None:
    if prefer is None:
        return None
    if prefer not in ("local", "remote"):
        from ..core.names import did_you_mean

        raise UsageError(f"--prefer takes local or remote, not {prefer!r}", did_you_mean(prefer, ("local", "remote")).strip() or "e.g. --prefer local")
    return prefer
