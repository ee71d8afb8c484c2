"""Issue 15 item 9 (pure parts): the audit log's lines, the change-log phrases, and the cleared-on-purpose base."""

from __future__ import annotations

import json
import time

from aimo_cli.core.secrets import fingerprint
from aimo_cli.core.sync import CLEARED, Action, BaseRecord, RemoteKey, Status, classify, plan_pull, plan_push
from aimo_cli.services import audit

from .fakeenv import context
from .secrets_registry import make_key

NOW = time.mktime(time.strptime("2026-11-29 12:00:00", "%Y-%m-%d %H:%M:%S")) - time.timezone


def status_with(*entries: dict):
    from aimo_cli.wordpress.bridge import parse_status

    return parse_status({"change_log": list(entries)})


def entry(**kw) -> dict:
    base = {"time": "2026-11-29T10:00:00Z", "user": "alice", "setting": "connectors_ai_groq_api_key", "action": "set",
            "fingerprint": "aaa", "previous_fingerprint": "bbb", "via": "admin", "by_aimo": False}
    return {**base, **kw}


def test_describe_change_names_channel_user_and_age():
    assert audit.describe_change(status_with(entry()), "groq", now=NOW) == "changed in wp-admin by alice, 2 h ago"
    assert audit.describe_change(status_with(entry(via="cli", user="", action="deleted")), "groq", now=NOW) == "deleted with WP-CLI, 2 h ago"
    assert audit.describe_change(status_with(entry(writer={"kind": "plugin", "plugin": "ai-engine/ai-engine.php", "name": "AI Engine", "version": "3.6.2"}, via="rest")), "groq", now=NOW).startswith(
        "changed by the plugin AI Engine over the REST API by alice"
    )
    assert audit.describe_change(status_with(entry(by_aimo=True)), "groq", now=NOW) is None  # aimo's own write is no news
    assert audit.describe_change(status_with(entry()), "openai", now=NOW) is None
    assert audit.describe_change(None, "groq") is None


def test_describe_change_reads_the_newest_entry_of_the_provider():
    """The newest by time, the later in the log within one second; other providers' entries and options that name no
    provider are not the provider's."""
    t1, t2 = "2026-11-29T09:00:00Z", "2026-11-29T10:00:00Z"
    newest_first = status_with(entry(time=t2, via="admin"), entry(time=t1, via="cli"))
    assert audit.describe_change(newest_first, "groq", now=NOW) == "changed in wp-admin by alice, 2 h ago"
    tie = status_with(entry(time=t2, via="admin"), entry(time=t1, via="cli"), entry(time=t2, via="rest", user=""))
    assert audit.describe_change(tie, "groq", now=NOW) == "changed over the REST API, 2 h ago"
    others = status_with(entry(time=t1, via="cli"), entry(time=t2, setting="connectors_ai_openai_api_key"), entry(time=t2, setting="siteurl"))
    assert audit.describe_change(others, "groq", now=NOW) == "changed with WP-CLI by alice, 3 h ago"
    assert audit.describe_change(others, "openai", now=NOW) == "changed in wp-admin by alice, 2 h ago"
    assert audit.describe_change(others, "siteurl", now=NOW) == "changed in wp-admin by alice, 2 h ago"  # as remote_events names it
    assert [e.provider for e in audit.remote_events("blog", others)] == ["groq", "openai", "siteurl"]


def test_local_log_lines_hold_fingerprints_never_keys():
    ctx = context()
    key = make_key("gsk")
    audit.record(ctx, "blog", "groq", "push", "", fingerprint(key), "stored", "the site has no key")
    lines = audit.log_path(ctx).read_text().splitlines()
    assert len(lines) == 1 and key not in lines[0]
    d = json.loads(lines[0])
    assert d["site"] == "blog" and d["new_fingerprint"] == fingerprint(key) and d["result"] == "stored"
    assert [e.site for e in audit.local_events(ctx, {"blog"})] == ["blog"] and audit.local_events(ctx, {"shop"}) == []
    assert oct(audit.log_path(ctx).stat().st_mode & 0o777) == "0o600"


def test_merged_is_in_time_order():
    ctx = context()
    audit.record(ctx, "blog", "groq", "push", "", "x", "stored")
    remote = audit.remote_events("blog", status_with(entry(time="2000-01-01T00:00:00Z")))
    merged = audit.merged(audit.local_events(ctx), remote)
    assert [e.origin for e in merged] == ["site", "aimo (local log)"]


def test_a_key_cleared_on_purpose_is_not_pushed_back_unasked():
    key = make_key("gsk")
    empty = RemoteKey("groq", True, "", None, "none")
    cleared = BaseRecord(CLEARED, "")
    assert classify(key, empty, cleared) is Status.CLEARED
    assert plan_push("groq", key, empty, cleared).action is Action.NONE
    assert plan_push("groq", key, empty, cleared, prefer="local").send == key
    assert plan_pull("groq", key, empty, cleared).action is Action.NONE


def test_ago_reads_only_iso_utc_times():
    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    assert audit.ago("2023-11-14T22:13:00Z", now) == "20 s ago"
    assert audit.ago("2023-11-14T20:13:20Z", now).endswith(" h ago")
    for bad in ("2023-13-14T22:13:00Z", "2023-11-14 22:13:00", "2023-11-14T22:13:00+01:00", "soon"):
        assert audit.ago(bad, now) == bad  # shown as it is, never a wrong age
    assert audit.ago("", now) == "at an unknown time"
