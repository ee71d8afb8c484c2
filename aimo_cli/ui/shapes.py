"""The documented JSON shape of every command's output (`--format json`, and YAML, which carries the same document).

One table, two uses: `scripts/gen-cli-docs` writes docs/json.md from it (`render_markdown`), and tests/test_json_shapes.py
runs every command with `--format json` and checks the document against `schema(command)` — so the documentation and
the output cannot drift apart. The schemas use the small JSON Schema subset of tests/schemacheck.py (type, enum,
required, properties, additionalProperties, items, anyOf, $ref, description). Objects are closed unless marked open:
a new field fails the test until it is documented here.

Every document is an object: `schema_version` (ui/formats.py SCHEMA_VERSION) first, then the payload below, or, when
the command failed, `error`. Raise SCHEMA_VERSION when a field is removed or renamed or changes its type; adding a
field keeps it.
"""

from __future__ import annotations

from typing import Any

S, I, B, N = "string", "integer", "boolean", "number"


def f(type_: Any, doc: str, *, null: bool = False, enum: list | None = None) -> dict:
    """A scalar field: its type (or types), what it means, whether it may be null, its values."""
    types = list(type_) if isinstance(type_, (list, tuple)) else [type_]
    out: dict = {"type": types + ["null"] if null else (types[0] if len(types) == 1 else types), "description": doc}
    if enum is not None:
        out["enum"] = enum + ([None] if null else [])
    return out


def obj(fields: dict, doc: str = "", *, open_: bool = False, null: bool = False) -> dict:
    out: dict = {"type": ["object", "null"] if null else "object", "properties": fields, "required": list(fields), "additionalProperties": open_}
    if doc:
        out["description"] = doc
    return out


def arr(item: dict, doc: str) -> dict:
    return {"type": "array", "items": item, "description": doc}


def ref(name: str, doc: str = "", *, null: bool = False) -> dict:
    target = {"$ref": f"#/$defs/{name}"}
    if null:
        return {"anyOf": [target, {"type": "null"}], "description": doc or f"a {name}, or null"}
    return {**target, "description": doc} if doc else target


def strings(doc: str) -> dict:
    return arr({"type": "string"}, doc)


KEY_TAIL = f(S, "the last 4 characters of the (first) key; null for a short key, an Ollama URL or no key", null=True)
KEY_URL = f(S, "Ollama's server URL (scheme://host:port, never user info); null for other providers", null=True)
EXIT_CODE = f(I, "the exit code this result stands for (README, Exit codes)")
DRY_RUN = f(B, "--dry-run: nothing was written; the document says what would be")
CHANGED = f(B, "false: it was already so, nothing was (or would be) written")

DEFS: dict[str, dict] = {
    "credential": obj(
        {
            "provider": f(S, "provider id (openai, groq, ollama, …)"),
            "name": f(S, "the provider's display name"),
            "present": f(B, "a credential is set"),
            "source": f(S, "where it comes from: env, or the secret backend (keyring, file, memory); null when absent", null=True),
            "last4": KEY_TAIL,
            "url": KEY_URL,
            "pool_size": f(I, "number of keys in the pool (the first is the one WordPress gets)"),
            "fingerprint": f(S, "sha256 prefix (12 hex) of the first key; null when absent", null=True),
            "env_var": f(S, "the environment variable that overrides the store"),
        },
        "one provider's credential, never the key itself",
    ),
    "dropped_key": obj({"fingerprint": f(S, "fingerprint of a key dropped from the pool (kept as a previous key)"), "last4": KEY_TAIL, "url": KEY_URL}),
    "check": obj(
        {
            "id": f(S, "check id, e.g. site.credentials, connector.groq.sync"),
            "status": f(S, "verdict", enum=["ok", "warn", "fail", "skip"]),
            "message": f(S, "what was found"),
            "hint": f(S, "what to do about it", null=True),
            "duration_ms": f(N, "time the check took"),
            "group": f(S, "report group: local, site NAME, connectors NAME, features NAME"),
            "site": f(S, "the site checked; null for local checks", null=True),
        },
        "one doctor check",
    ),
    "site_profile": obj(
        {
            "name": f(S, "site name"),
            "url": f(S, "home URL as given to site add"),
            "user": f(S, "the WordPress user of the application password"),
            "group": f(S, "fleet group", null=True),
            "default": f(B, "the default site"),
            "password_stored": f(B, "its application password is in the secret store"),
        }
    ),
    "site_test": obj(
        {
            "site": f(S, "site name"),
            "url": f(S, "home URL"),
            "wordpress_version": f(S, "WordPress version", null=True),
            "bridge": f(B, "the aimo bridge answers"),
            "rest_root": f(S, "the REST root used", null=True),
            "connector_settings": strings("connector key settings WordPress registers"),
            "checks": arr(ref("check"), "the doctor's site checks"),
        },
        "the site checks of one site",
    ),
    "model": obj(
        {
            "id": f(S, "model id as the provider names it"),
            "provider": f(S, "provider id"),
            "kind": f(S, "what it generates", enum=["text", "image"]),
            "context_window": f(I, "tokens", null=True),
            "deprecation": f(S, "ISO 8601 date the provider retires (or retired) it", null=True),
            "successor": f(S, "the model to use instead", null=True),
            "name": f(S, "display name", null=True),
            "source": f(S, "live (the provider's list) or curated (aimo's fallback data)", enum=["live", "curated"]),
            "retired": f(B, "the retirement date is today or past"),
        }
    ),
    "mode_change": obj(
        {
            "site": f(S, "site name"),
            "previous": f(S, "the bridge's mode before", null=True),
            "mode": f(S, "the bridge's mode now", enum=["observe", "managed", "off"]),
            "demoted": strings("other managers demoted to observe"),
            "changed": CHANGED,
            "dry_run": DRY_RUN,
        },
        "a switch of the bridge's mode",
    ),
    "sync_site": {
        "anyOf": [
            obj(
                {
                    "site": f(S, "site name"),
                    "via_bridge": f(B, "read and written through the aimo bridge (else core settings)"),
                    "requests": f(I, "WordPress requests made"),
                    "exit_code": EXIT_CODE,
                    "competitor": f(S, "another plugin managing the Connectors", null=True),
                    "mode_note": f(S, "why aimo only reported (bridge not in managed mode)", null=True),
                    "providers": arr(
                        obj(
                            {
                                "provider": f(S, "provider id"),
                                "status": f(S, "local vs site before (in sync, local changed, conflict, both empty, …)"),
                                "action": f(S, "what the plan said (push, pull, report, refuse, nothing, …)"),
                                "reason": f(S, "why"),
                                "outcome": f(S, "what happened (stored, rejected, unreachable, pulled, unchanged, refused, conflict, dry-run, …; empty: nothing)"),
                                "source": f(S, "where the local key came from ($GROQ_API_KEY or the store); empty when none"),
                            }
                        ),
                        "one entry per provider",
                    ),
                },
                "a site that was handled",
            ),
            obj({"site": f(S, "site name"), "error": f(S, "why the site could not be handled"), "hint": f(S, "what to do", null=True), "exit_code": EXIT_CODE}, "a site that failed"),
        ],
        "description": "one site of a fleet run: handled, or failed",
    },
    "event": obj(
        {
            "time": f(S, "ISO 8601, UTC"),
            "site": f(S, "site name"),
            "provider": f(S, "provider id"),
            "action": f(S, "local: push, pull, clear, rotate; site: set, cleared, deleted"),
            "old_fingerprint": f(S, "fingerprint before (empty: none)"),
            "new_fingerprint": f(S, "fingerprint after (empty: none)"),
            "result": f(S, "local log: stored, rejected, …; site: empty"),
            "origin": f(S, "site, or aimo (local log)"),
            "user": f(S, "WordPress user (site entries)"),
            "channel": f(S, "how the site's key changed (admin, rest, aimo, plugin, …)"),
            "plugin": f(S, "the writing plugin, when one did"),
            "by_aimo": f(B, "written by aimo (site entries); null when unknown", null=True),
            "detail": f(S, "more about it"),
        }
    ),
}

SYNC = {"sites": arr(ref("sync_site"), "one entry per site"), "exit_code": EXIT_CODE}
SYNC_WRITE = {**SYNC, "dry_run": DRY_RUN}
OPEN = {"type": "object", "description": "as the bridge reports it (aimo_cli/bridge/aimo-bridge/contract/status.schema.json)"}
PREFERENCE = {
    "site": f(S, "site name"),
    "kind": f(S, "text or image", enum=["text", "image"]),
    "model": f(S, "PROVIDER:MODEL now preferred; null: Automatic", null=True),
    "stored": {**OPEN, "description": "the bridge's answer: the preferences it now applies"},
    "warnings": strings("e.g. a retired model"),
    "previous": f(S, "PROVIDER:MODEL preferred before; null: Automatic", null=True),
    "changed": CHANGED,
    "dry_run": DRY_RUN,
}

# command (the words after `aimo`) → its payload (what follows schema_version)
COMMANDS: dict[str, dict] = {
    "keys set": obj({"key": ref("credential"), "backend": f(S, "secret backend written"), "replaced": arr(ref("dropped_key"), "keys the new pool dropped"), "env_override": f(B, "an environment variable overrides the stored value"), "changed": CHANGED, "dry_run": DRY_RUN}),
    "keys list": obj({"keys": arr(ref("credential"), "every provider, in manifest order")}),
    "keys get": obj({"key": ref("credential")}),
    "keys rm": obj(
        {
            "removed": arr(
                obj(
                    {
                        "provider": f(S, "provider id"),
                        "pool_size": f(I, "keys removed from the pool (0: there was none)"),
                        "fingerprint": f(S, "fingerprint of the removed first key", null=True),
                        "previous_removed": f(I, "earlier keys removed"),
                        "previous_kept": f(I, "earlier keys kept (--keep-previous)"),
                        "env_override": f(B, "the environment variable still provides a value"),
                    }
                ),
                "one entry per provider named",
            ),
            "backend": f(S, "secret backend"),
            "dry_run": DRY_RUN,
        }
    ),
    "keys previous": obj(
        {
            "provider": f(S, "provider id"),
            "previous": arr(
                obj(
                    {
                        "number": f(I, "1 = newest (aimo keys restore ID N)"),
                        "provider": f(S, "provider id"),
                        "last4": KEY_TAIL,
                        "url": KEY_URL,
                        "fingerprint": f(S, "fingerprint"),
                        "replaced_at": f(S, "ISO 8601, UTC", null=True),
                        "reason": f(S, "what replaced it"),
                    }
                ),
                "earlier keys, newest first",
            ),
        }
    ),
    "keys restore": obj({"key": ref("credential"), "restored": f(S, "fingerprint of the key brought back"), "replaced": arr(ref("dropped_key"), "keys the restore dropped from the pool"), "dry_run": DRY_RUN}),
    "keys import": obj(
        {
            "exit_code": EXIT_CODE,
            "lines": arr(
                obj(
                    {
                        "line": f(I, "line number"),
                        "name": f(S, "variable name (empty: not an assignment)"),
                        "fate": f(S, "stored, unchanged, would store, skipped, refused, rejected, unverified"),
                        "detail": f(S, "why"),
                        "provider": f(S, "provider id (empty: unknown name)"),
                    }
                ),
                "each non-blank, non-comment line",
            ),
            "unknown": strings("names that are no provider's variable"),
            "dry_run": f(B, "--dry-run: nothing was stored"),
        }
    ),
    "keys path": obj({"settings": f(S, "settings file"), "backend": f(S, "secret backend: keyring, file or memory"), "secrets": f(S, "where the secrets are")}),
    "keys backend": obj({"backend": f(S, "keyring, file or memory"), "description": f(S, "which one, where")}),
    "keys rotate": obj({"key": ref("credential", "the local key after the rotation (with --dry-run: the current one)"), **SYNC_WRITE}),
    "keys verify": obj(
        {
            "results": arr(
                obj(
                    {
                        "provider": f(S, "provider id"),
                        "status": f(S, "verdict", enum=["ok", "rejected", "unreachable", "missing"]),
                        "message": f(S, "what the provider said"),
                        "fingerprint": f(S, "fingerprint of the key checked"),
                        "keys_checked": f(I, "pool lines checked"),
                        "last4": KEY_TAIL,
                        "url": KEY_URL,
                    }
                ),
                "one entry per provider",
            ),
            "exit_code": EXIT_CODE,
        }
    ),
    "site add": obj(
        {
            "site": ref("site_profile", "the stored profile"),
            "replaced": arr(
                obj({"url": f(S, "its URL"), "user": f(S, "its user"), "group": f(S, "its group", null=True), "sync_history_kept": f(B, "same URL: sync history kept")}),
                "the profile --force replaced",
            ),
            "test": ref("site_test", "the site checks (null with --no-verify)", null=True),
            "same_wordpress_as": strings("other profiles pointing at the same WordPress"),
            "adoptable": strings("providers whose site key aimo has none for"),
            "adopted": obj(SYNC, "the adoption's pull (--adopt)", null=True),
            "exit_code": EXIT_CODE,
            "dry_run": DRY_RUN,
        }
    ),
    "site list": obj({"sites": arr(ref("site_profile"), "configured sites"), "default_site": f(S, "the default site", null=True)}),
    "site rm": obj(
        {
            "removed": obj({"name": f(S, "site name"), "url": f(S, "its URL"), "user": f(S, "its user"), "group": f(S, "its group", null=True)}),
            "default_site": f(S, "the default site now", null=True),
            "dry_run": DRY_RUN,
        }
    ),
    "site use": obj({"default_site": f(S, "the default site (with --dry-run: would be)"), "previous": f(S, "the default site before", null=True), "changed": CHANGED, "dry_run": DRY_RUN}),
    "site test": obj({**DEFS["site_test"]["properties"], "exit_code": EXIT_CODE}, "the site checks of one site"),
    "models list": obj({"models": arr(ref("model"), "models"), "connected": strings("providers with a key last verified ok")}),
    "models refresh": obj(
        {
            "results": arr(
                obj(
                    {
                        "provider": f(S, "provider id"),
                        "status": f(S, "what happened", enum=["updated", "kept", "failed", "skipped", "cooldown"]),
                        "count": f(I, "models now cached"),
                        "previous": f(I, "models cached before"),
                        "message": f(S, "why"),
                    }
                ),
                "one entry per provider",
            ),
            "exit_code": EXIT_CODE,
        }
    ),
    "models show": obj({"model": ref("model")}),
    "models set": obj(PREFERENCE),
    "models auto": obj(PREFERENCE),
    "connectors list": obj(
        {
            "site": f(S, "site name"),
            "bridge": f(B, "the aimo bridge answers"),
            "mode": f(S, "the bridge's mode; null without it", null=True),
            "managers": arr(
                obj(
                    {
                        "name": f(S, "plugin name"),
                        "slug": f(S, "plugin slug"),
                        "mode": f(S, "its own mode", null=True),
                        "active": f(B, "active"),
                        "source": f(S, "plugin or connector"),
                        "version": f(S, "its version"),
                        "managing": f(B, "active and in its own managed mode"),
                    }
                ),
                "other connector managers",
            ),
            "connectors": arr(
                obj(
                    {
                        "provider": f(S, "provider id"),
                        "name": f(S, "display name"),
                        "registered_by": f(S, "aimo, plugin, core, none, or the manager that did"),
                        "key_source": f(S, "where the site reads the key (database, env, constant, none, …); null: the setting is not registered", null=True),
                        "state": f(S, "local vs site (in sync, local changed, conflict, both empty, …)"),
                        "wordpress": f(S, "WordPress's own state: Connected, Set up, not checked, unknown"),
                        "reason": f(S, "why"),
                        "local_last4": f(S, "the local key's last 4 characters", null=True),
                        "local_url": f(S, "the local Ollama URL", null=True),
                    }
                ),
                "one entry per provider",
            ),
        }
    ),
    "connectors enable": {
        "anyOf": [
            obj(
                {
                    "site": f(S, "site name"),
                    "mode_change": ref("mode_change"),
                    **SYNC,
                    "adoptable": strings("providers whose site key aimo has none for"),
                    "adopted": obj(SYNC, "the adoption's pull (--adopt)", null=True),
                    "dry_run": DRY_RUN,
                },
                "one site (a SITE or the default site)",
            ),
            obj(
                {
                    "mode_changes": arr(ref("mode_change"), "one per site whose mode switch was done (or planned)"),
                    "adoptable": {"type": "object", "additionalProperties": strings("providers"), "description": "site → providers whose site key aimo has none for (adopt per site with --adopt)"},
                    **SYNC_WRITE,
                },
                "a fleet (several SITEs, --group, --all or --shard): each site's push, a failed site as its error",
            ),
        ]
    },
    "connectors takeover": obj(
        {
            "site": f(S, "site name"),
            "mode_change": ref("mode_change"),
            **SYNC,
            "adoptable": strings("providers whose site key aimo has none for"),
            "adopted": obj(SYNC, "always null here (takeover does not adopt)", null=True),
            "dry_run": DRY_RUN,
        }
    ),
    "connectors clear": obj(SYNC_WRITE),
    "connectors stop": ref("mode_change"),
    "sync status": obj(SYNC),
    "sync push": obj(SYNC_WRITE),
    "sync pull": obj(SYNC_WRITE),
    "mode": {
        "anyOf": [
            obj({"site": f(S, "site name"), "mode": f(S, "the bridge's mode", null=True), "managers": arr(OPEN, "other connector managers, as the bridge reports them")}, "aimo mode [SITE]"),
            ref("mode_change", "aimo mode observe|managed|off [SITE]"),
        ]
    },
    "log": obj(
        {
            "events": arr(ref("event"), "oldest first (the newest --limit)"),
            "unreadable": arr(obj({"site": f(S, "site name"), "error": f(S, "why"), "hint": f(S, "what to do", null=True), "exit_code": EXIT_CODE}), "sites whose log could not be read"),
            "exit_code": EXIT_CODE,
        }
    ),
    "doctor": obj(
        {
            "exit_code": EXIT_CODE,
            "strict": f(B, "--strict: warnings fail"),
            "summary": obj({s: f(I, f"{s} checks") for s in ("ok", "warn", "fail", "skip")}),
            "sites": strings("sites checked"),
            "requests": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "site → WordPress requests made"},
            "notes": strings("notes"),
            "checks": arr(ref("check"), "every check; a failure that stopped the doctor is the failed check doctor.run"),
        }
    ),
    "bridge zip": obj({"path": f(S, "the zip written"), "version": f(S, "bridge version")}),
    "bridge install": obj({"path": f(S, "plugin folder"), "version": f(S, "bridge version installed"), "previous_version": f(S, "the version replaced", null=True), "dry_run": DRY_RUN}),
    "bridge activate": obj({"site": f(S, "site name"), "version": f(S, "plugin version", null=True), "status": f(S, "plugin status (active; with --dry-run: as it is now)"), "dry_run": DRY_RUN}),
    "bridge status": {**OPEN, "properties": {"site": f(S, "site name"), "connectors": arr(OPEN, "every AI connector")}, "required": ["site", "bridge_version", "mode", "connectors"]},
    "bridge base-url": obj(
        {
            "site": f(S, "site name"),
            "provider": f(S, "provider id"),
            "base_url": f(S, "the override now; null: the provider's own endpoint", null=True),
            "previous": f(S, "the override before; null: none", null=True),
            "changed": CHANGED,
            "dry_run": DRY_RUN,
        }
    ),
    "completion install": obj({"shell": f(S, "bash, zsh, fish or powershell"), "path": f(S, "file written"), "result": f(S, "what happened", enum=["installed", "updated", "unchanged", "would install", "would update"]), "dry_run": DRY_RUN}),
}
ERROR = obj(
    {
        "error": obj(
            {
                "message": f(S, "what went wrong"),
                "hint": f(S, "what fixes it", null=True),
                "exit_code": EXIT_CODE,
                "kind": f(S, "the exit class", enum=["usage", "config", "auth", "remote", "refused", "drift", "unexpected", "interrupted"]),
            }
        )
    }
)

# commands with no machine output, and why (the test checks every other command takes --format)
NO_FORMAT = {
    "ask": "prints the model's answer as it streams",
    "completion show": "prints a shell script",
    "report merge": "prints or writes the merged reports in the shards' own JSON and JUnit formats",
}


def schema(command: str) -> dict:
    """The JSON Schema of `command`'s whole document: schema_version, then the payload (or an error document)."""
    from .formats import SCHEMA_VERSION

    payload = COMMANDS[command]
    version = {"type": "integer", "enum": [SCHEMA_VERSION], "description": "the envelope's version"}

    def enveloped(shape: dict) -> dict:
        if "$ref" in shape:
            shape = DEFS[shape["$ref"].rsplit("/", 1)[1]]
        if "anyOf" in shape:
            return {"anyOf": [enveloped(s) for s in shape["anyOf"]]}
        return {**shape, "properties": {"schema_version": version, **shape.get("properties", {})}, "required": ["schema_version", *shape.get("required", [])]}

    return {"$defs": DEFS, **enveloped(payload)}


def error_schema() -> dict:
    from .formats import SCHEMA_VERSION

    return {**ERROR, "properties": {"schema_version": {"type": "integer", "enum": [SCHEMA_VERSION]}, **ERROR["properties"]}, "required": ["schema_version", "error"]}


# -- docs/json.md ---------------------------------------------------------------------------------------------------------


def _type(s: dict) -> str:
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name})"
    if "anyOf" in s:
        return " or ".join(_type(x) for x in s["anyOf"])
    t = s.get("type", "any")
    types = t if isinstance(t, list) else [t]
    if "array" in types and "items" in s:
        return f"array of {_type(s['items'])}"
    if "enum" in s:
        return " \\| ".join(f"`{'null' if v is None else v}`" for v in s["enum"])
    return " or ".join(types)


def _rows(shape: dict, prefix: str = "") -> list[tuple[str, str, str]]:
    out = []
    for name, s in shape.get("properties", {}).items():
        path = f"{prefix}{name}"
        out.append((path, _type(s), s.get("description", "")))
        inner = s
        if inner.get("type") == "array" or (isinstance(inner.get("type"), list) and "array" in inner["type"]):
            inner = inner.get("items", {})
            path += "[]"
        if "properties" in inner and "$ref" not in inner:
            out += _rows(inner, path + ".")
    return out


def _table(shape: dict) -> list[str]:
    if "$ref" in shape:
        return [f"The payload is a {_type(shape)}" + (f" ({shape['description']})." if shape.get("description") else "."), ""]
    if "anyOf" in shape:
        lines = []
        for i, s in enumerate(shape["anyOf"], 1):
            lines += [f"Shape {i}: {s.get('description', '')}", ""] + _table(s)
        return lines
    lines = ["| field | type | meaning |", "|---|---|---|"]
    lines += [f"| `{p}` | {t} | {d.replace('|', '/')} |" for p, t, d in _rows(shape)]
    if shape.get("additionalProperties") not in (False, None) or shape.get("type") == "object" and "additionalProperties" not in shape:
        lines.append("| … | | further fields as the bridge reports them |")
    return lines + [""]


def render_markdown() -> str:
    from .formats import SCHEMA_VERSION

    lines = [
        "<!-- generated by scripts/gen-cli-docs from aimo_cli/ui/shapes.py: edit that file, not this one -->",
        "# aimo's machine output",
        "",
        "Every command that reads or changes state takes `--format table|json|yaml|csv`; `--json` is the same as",
        "`--format json` (both together with another format: a usage error, exit 2). The default is a table on a terminal",
        "and aligned plain text in a pipe.",
        "",
        "## The envelope",
        "",
        f"A JSON or YAML document is one object whose first key is `schema_version` (now **{SCHEMA_VERSION}**), followed by",
        "the command's payload (below). YAML carries exactly the JSON document. When a command fails, the document is",
        "",
        "```json",
        '{"schema_version": ' + str(SCHEMA_VERSION) + ', "error": {"message": "no site named \'blog\'", "hint": "aimo site list", "exit_code": 3, "kind": "config"}}',
        "```",
        "",
        "on standard output, with the same exit code as without `--json` (the `Error:` / `Hint:` lines still go to",
        "standard error). No payload has a top-level `error` key, so `error` always means the command failed; a command",
        "that ran but found problems (drift, failed checks, a site of a fleet that could not be reached) prints its",
        "payload, with `exit_code` in it, and exits with that code. `kind` is the exit class: "
        + ", ".join(f"`{k}`" for k in ERROR["properties"]["error"]["properties"]["kind"]["enum"])
        + ".",
        "",
        "The version rises when a field is removed or renamed or changes type; a new field does not raise it, so read",
        "the fields you know and ignore the others.",
        "",
        "The text has one line per field of the envelope, and one line per item of a list in it (a site, a key, a check),",
        "each item written compactly: `grep` finds one item per line, and a fleet's document is written fast. Any JSON",
        "parser reads it; do not rely on the layout beyond that.",
        "",
        "Values are raw: booleans, numbers, ISO 8601 times (UTC), fingerprints (12 hex characters of the key's sha256) and",
        "the last 4 characters of a key (`last4`) — never a display glyph (`••••`, `*`, `→`) and never a key.",
        "",
        "## CSV",
        "",
        "`--format csv` writes one row per item (a key, a site, a check, a connector, a site × provider of a sync) with",
        "snake_case headers named as the JSON fields; `true`/`false`, empty for null, lists joined with `;`. A command",
        "whose result is one object writes one row of its scalar fields.",
        "",
        "Commands without machine output: " + "; ".join(f"`aimo {c}` ({why})" for c, why in NO_FORMAT.items()) + ".",
        "",
        "## Commands",
        "",
    ]
    for command, shape in COMMANDS.items():
        lines += [f"### `aimo {command}`", ""] + _table(shape)
    lines += ["## Shared shapes", ""]
    for name, shape in DEFS.items():
        lines += [f"### {name}", ""]
        if shape.get("description"):
            lines += [shape["description"][0].upper() + shape["description"][1:] + ".", ""]
        lines += _table(shape)
    return "\n".join(lines).rstrip() + "\n"
