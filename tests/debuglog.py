"""The debug-log scan: at the end of the run, every PHP notice, warning, deprecation or error the aimo bridge caused
on the test site fails the session (like the secret scan). Core's "called incorrectly" notices from the connector
registry (WP_Connector_Registry::…) count too, though they never name the bridge: the bridge is the plugin in this
suite that touches the registry for ids it did not check. Other plugins' own notices (AI Engine's deprecations, …)
are theirs and are not counted.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_PHP_PROBLEM = re.compile(r"PHP (Notice|Warning|Deprecated|Fatal error|Parse error|Recoverable fatal error)|called <strong>incorrectly</strong>|is <strong>deprecated</strong>")
_BRIDGE = re.compile(r"/aimo-bridge/|aimo_bridge_|Aimo_Bridge_|WP_Connector_Registry::")

_START: dict[str, int] = {}


def log_path() -> Path | None:
    state = Path(os.environ.get("AIMO_WP_DIR") or REPO / ".wp")
    try:
        info = json.loads((state / "site.json").read_text())
    except (OSError, ValueError):
        return None
    return Path(info.get("debug_log") or state / "logs" / "wp-debug.log")


def bridge_problems(text: str) -> list[str]:
    """The log entries (first line of each) that are PHP problems caused by the bridge."""
    found = []
    for entry in re.split(r"\n(?=\[\d{2}-\w{3}-\d{4} )", text):
        first = entry.split("\n", 1)[0]
        if _PHP_PROBLEM.search(first) and _BRIDGE.search(entry):
            found.append(first[:400])
    return found


def start() -> None:
    path = log_path()
    if path is not None:
        _START[str(path)] = path.stat().st_size if path.exists() else 0


def scan() -> tuple[Path | None, list[str]]:
    """What the bridge wrote to the debug log since start() (the site may have been created during the run)."""
    path = log_path()
    if path is None or not path.exists():
        return path, []
    offset = _START.get(str(path), 0)
    with path.open("rb") as f:
        if offset > path.stat().st_size:
            offset = 0  # the log was rotated or the site re-created
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    return path, bridge_problems(text)
