"""services/rollback.find_rollbacks on canned change logs (no site): a site key aimo replaced earlier and a later write
put back is a rollback, named with that write's writer and time; only the provider's own option counts, only writes
after aimo's last replacement of that key, and a key only the local store remembers as replaced is one with no writer."""

from __future__ import annotations

from aimo_cli.core.secrets import fingerprint
from aimo_cli.services.rollback import find_rollbacks
from aimo_cli.wordpress.bridge import parse_status

OLD, NEW, OTHER = fingerprint("sk-old-key-0001"), fingerprint("sk-new-key-0002"), fingerprint("sk-other-key-03")
ENGINE = {"kind": "plugin", "name": "AI Engine", "version": "3.6.2"}


def entry(pid: str, new: str, old: str, *, by_aimo: bool, time: str, writer: dict | None = None, user: str = "admin") -> dict:
    return {"time": time, "user": user, "setting": f"connectors_ai_{pid}_api_key", "action": "set", "fingerprint": new,
            "previous_fingerprint": old, "via": "rest", "by_aimo": by_aimo, "writer": writer}


def log(*entries: dict):
    return parse_status({"change_log": list(entries)})


def test_a_key_put_back_after_aimo_replaced_it_is_a_rollback_named_by_its_last_writer():
    status = log(
        entry("openai", NEW, OLD, by_aimo=True, time="T1"),
        entry("openai", OLD, NEW, by_aimo=False, time="T2", writer={"kind": "core"}, user="bob"),
        entry("groq", OLD, "", by_aimo=False, time="T3", writer=ENGINE),  # another provider's option
        entry("openai", OLD, OLD, by_aimo=False, time="T4", writer=ENGINE),
    )
    found = find_rollbacks(status, {"openai": OLD, "groq": OLD, "xai": None})
    assert list(found) == ["openai"]
    rb = found["openai"]
    assert (rb.fingerprint, rb.writer, rb.time) == (OLD, "AI Engine 3.6.2 (rest, user admin)", "T4")


def test_only_writes_after_aimos_last_replacement_count():
    put_back_then_replaced_again = log(
        entry("openai", NEW, OLD, by_aimo=True, time="T1"),
        entry("openai", OLD, NEW, by_aimo=False, time="T2", writer=ENGINE),
        entry("openai", NEW, OLD, by_aimo=True, time="T3"),
    )
    assert find_rollbacks(put_back_then_replaced_again, {"openai": OLD}) == {}  # nothing brought it back since T3
    assert find_rollbacks(log(entry("openai", NEW, OLD, by_aimo=True, time="T1")), {"openai": OLD}) == {}
    assert find_rollbacks(log(entry("openai", OLD, OTHER, by_aimo=False, time="T1", writer=ENGINE)), {"openai": OLD}) == {}  # never aimo's


def test_a_key_the_local_store_remembers_as_replaced_is_a_rollback_even_without_a_log():
    found = find_rollbacks(None, {"openai": OLD, "groq": NEW}, {"openai": "sk-old-key-0001", "groq": ""})
    assert list(found) == ["openai"] and (found["openai"].writer, found["openai"].time) == ("", "")
    status = log(entry("openai", OLD, NEW, by_aimo=False, time="T2", writer=ENGINE))
    assert find_rollbacks(status, {"openai": OLD}, {"openai": "sk-old-key-0001"})["openai"].writer == "AI Engine 3.6.2 (rest, user admin)"
