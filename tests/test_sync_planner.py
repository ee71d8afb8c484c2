"""The sync planner: table-driven cases for every seed scenario, and hypothesis properties of the safety rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimo_cli.core.secrets import BULLET, fingerprint, wp_mask
from aimo_cli.core.sync import Action, BaseRecord, RemoteKey, Status, classify, plan_pull, plan_push

A = "gsk_aaaaaaaaaaaaaaaaaaaa1111"
B = "gsk_bbbbbbbbbbbbbbbbbbbb2222"
C = "gsk_cccccccccccccccccccc3333"


def remote(value: str | None, *, bridge: bool = False, source: str = "database", registered: bool = True) -> RemoteKey:
    if not value:
        return RemoteKey("groq", registered, "", "" if bridge else None, source if value else "none")
    return RemoteKey("groq", registered, wp_mask(value), fingerprint(value) if bridge else None, source)


@pytest.mark.parametrize("bridge", [False, True])
@pytest.mark.parametrize(
    "local, rem, base, status, push, pull",
    [
        ("", None, None, Status.BOTH_EMPTY, Action.NONE, Action.NONE),
        (A, None, None, Status.REMOTE_EMPTY, Action.PUSH, Action.NONE),
        (A, None, A, Status.REMOTE_EMPTY, Action.PUSH, Action.NONE),  # wiped on the site: restore, never pull the empty
        ("", A, None, Status.LOCAL_EMPTY, Action.NONE, Action.PULL),  # empty local never wipes the site
        (A, A, None, Status.IN_SYNC, Action.NONE, Action.NONE),
        (A, B, None, Status.DIFFERS, Action.CONFLICT, Action.CONFLICT),  # first contact: a conflict both ways
        (B, A, A, Status.LOCAL_CHANGED, Action.PUSH, Action.REPORT),
        (A, B, A, Status.REMOTE_CHANGED, Action.REPORT, Action.PULL),
        (C, B, A, Status.CONFLICT, Action.CONFLICT, Action.CONFLICT),
    ],
)
def test_matrix(bridge, local, rem, base, status, push, pull):
    r = remote(rem, bridge=bridge)
    b = BaseRecord.of(base) if base else None
    assert classify(local, r, b) is status
    assert plan_push("groq", local, r, b).action is push
    assert plan_pull("groq", local, r, b).action is pull


def test_prefer_resolves_conflicts():
    r, b = remote(B), BaseRecord.of(A)
    assert plan_push("groq", C, r, b, prefer="local").action is Action.PUSH
    assert plan_push("groq", C, r, b, prefer="remote").action is Action.CONFLICT
    assert plan_pull("groq", C, r, b, prefer="remote").action is Action.PULL
    assert plan_push("groq", A, r, b, prefer="local").send == A


def test_first_contact_is_a_conflict_for_push_too_and_prefer_local_needs_confirmation():
    r = remote(B)
    d = plan_push("groq", A, r, None)
    assert d.action is Action.CONFLICT and d.send is None and "first contact" in d.reason and "--prefer local|remote" in d.reason
    assert plan_push("groq", A, r, None, prefer="local", confirmed=False).action is Action.REFUSE
    assert plan_push("groq", A, r, None, prefer="local").send == A
    assert plan_push("groq", A, remote(None), None).action is Action.PUSH  # an empty site is no conflict


def test_a_key_from_the_environment_is_sent_only_with_from_env():
    d = plan_push("groq", A, remote(None), None, source="env")
    assert d.action is Action.REFUSE and "$GROQ_API_KEY" in d.reason and "--from-env" in d.reason
    assert plan_push("groq", A, remote(None), None, source="env", from_env=True).send == A
    assert plan_push("groq", A, remote(A), None, source="env").action is Action.NONE  # in sync: nothing to send anyway


def test_env_sourced_connector_refused_unless_forced():
    r = remote(B, source="env")
    d = plan_push("groq", A, r, None)
    assert d.action is Action.REFUSE and "env" in d.reason
    assert plan_push("groq", A, r, None, force=True, prefer="local").action is Action.PUSH
    assert plan_pull("groq", A, r, BaseRecord.of(A)).action is Action.REPORT


def test_not_registered_is_reported_not_written():
    r = remote(None, registered=False)
    assert plan_push("groq", A, r, None).action is Action.REPORT
    assert classify(A, r, None) is Status.NOT_REGISTERED


def test_pull_without_bridge_reports():
    assert plan_pull("groq", "", remote(A), None, can_fetch=False).action is Action.REPORT


def test_masked_local_is_refused():
    assert plan_push("groq", BULLET * 8 + "1111", remote(None), None).action is Action.REFUSE


keys = st.one_of(st.just(""), st.sampled_from([A, B, C]), st.text(alphabet="abcdef0123456789-_", min_size=5, max_size=40))


@settings(max_examples=400, deadline=None)
@given(local=keys, rem=keys, base=st.one_of(st.none(), keys), bridge=st.booleans(), source=st.sampled_from(["database", "env", "constant"]),
       prefer=st.sampled_from([None, "local", "remote"]), force=st.booleans(), registered=st.booleans())
def test_properties_never_send_empty_or_masked_never_lose_a_key(local, rem, base, bridge, source, prefer, force, registered):
    r = remote(rem or None, bridge=bridge, source=source, registered=registered)
    b = BaseRecord.of(base) if base else None
    push = plan_push("groq", local, r, b, prefer=prefer, force=force)
    if push.action is Action.PUSH:
        assert push.send == local and local and BULLET not in push.send  # only a real local key is ever sent
        assert registered
        if r.present and not r.matches(local):
            # overwriting a different remote key happens only when the remote side did not change on its own,
            # or the admin explicitly preferred local
            assert b is None or b.remote_is(r) or prefer == "local"
    else:
        assert push.send is None
    pull = plan_pull("groq", local, r, b, prefer=prefer)
    if pull.action is Action.PULL:
        assert r.present  # an empty remote never replaces a local key
        if local:
            # a local key is replaced only when it did not change on its own, or the admin preferred remote
            assert prefer == "remote" or (b is not None and b.fingerprint == fingerprint(local))
    # a conflict never writes anything
    if classify(local, r, b) is Status.CONFLICT:
        assert push.action is not Action.PUSH or prefer == "local"
        assert pull.action is not Action.PULL or prefer == "remote"


def test_sync_state_is_forgotten_with_the_site(tmp_path):
    from aimo_cli.context import AppContext
    from aimo_cli.services import sites
    from aimo_cli.stores.state import SyncState

    from .clihelper import run_cli

    ctx = AppContext()
    assert run_cli(["site", "add", "blog", "https://blog.example", "--user", "a", "--stdin", "--no-verify"], stdin="abcd efgh ijkl mnop").code == 0
    state = SyncState(ctx.state_dir)
    state.record("blog", {"groq": BaseRecord.of(A)})
    assert run_cli(["site", "add", "blog", "https://blog.example", "--user", "b", "--stdin", "--no-verify", "--force"], stdin="abcd efgh ijkl mnop").code == 0
    assert state.load("blog")  # same URL: the sync history still holds
    assert run_cli(["site", "add", "blog", "https://other.example", "--user", "b", "--stdin", "--no-verify", "--force"], stdin="abcd efgh ijkl mnop").code == 0
    assert state.load("blog") == {}  # another site now: nothing synced with it yet
    state.record("blog", {"groq": BaseRecord.of(A)})
    sites.remove_site(ctx, "blog")
    assert state.load("blog") == {}
