"""The debug-log scan's rules (tests/debuglog.py): which PHP log entries count as caused by the bridge."""

from __future__ import annotations

from .debuglog import bridge_problems

LOG = """[29-Nov-2026 07:49:24 UTC] PHP Notice:  Function WP_Connector_Registry::get_registered was called <strong>incorrectly</strong>. Connector "xai" not found. (This message was added in version 7.0.0.) in /wp/wp-includes/functions.php on line 6131
[29-Nov-2026 08:05:29 UTC] PHP Deprecated:  strtolower(): Passing null to parameter #1 ($string) of type string is deprecated in /wp/wp-content/plugins/ai-engine/classes/modules/files.php on line 885
[29-Nov-2026 08:06:00 UTC] PHP Warning:  Undefined array key "name" in /wp/wp-content/plugins/aimo-bridge/includes/status.php on line 70
[29-Nov-2026 08:06:01 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function foo() in /wp/wp-content/plugins/other/x.php:3
Stack trace:
#0 /wp/wp-content/plugins/aimo-bridge/includes/managed.php(12): foo()
#1 {main}
[29-Nov-2026 08:06:02 UTC] [MWAI_WPAI_GATEWAY] registration failed: boom
[29-Nov-2026 08:06:03 UTC] PHP Notice:  Function _load_textdomain_just_in_time was called <strong>incorrectly</strong>. Translation loading for the gpt3-ai-content-generator domain was triggered too early.
"""


def test_bridge_caused_notices_are_found_and_other_plugins_own_are_not():
    found = bridge_problems(LOG)
    assert len(found) == 3
    assert "WP_Connector_Registry::get_registered" in found[0]  # core's notice from the registry counts
    assert "aimo-bridge/includes/status.php" in found[1]
    assert "Uncaught Error" in found[2]  # the bridge is on the stack trace of this fatal error
    assert not any("ai-engine" in f or "gpt3-ai" in f or "MWAI" in f for f in found)


def test_a_clean_log_has_nothing():
    assert bridge_problems("") == []
    assert bridge_problems("[29-Nov-2026 08:06:02 UTC] PHP Deprecated:  x in /wp/wp-content/plugins/ai-engine/a.php on line 1\n") == []
