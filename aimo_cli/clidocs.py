"""Generate the CLI's derived files from the Typer app: the completion tree, the shell scripts and the man page.

Run through scripts/gen-cli-docs (writes them) and tests/test_cli_docs.py (regenerates into a temporary folder and
fails when a committed file is stale). Imports Typer and the whole command tree: never on a user's hot path.

How a value's kind is decided (first match wins), so TAB knows what to offer:
  1. PARAM_KINDS: an explicit (command path, parameter name) entry below, for the exceptions;
  2. a Choice type (Typer Enum / click.Choice): kind "choice" with its choices;
  3. a Path/File type: kind "file";
  4. the metavar, without [ ] and ...: METAVAR_KINDS (ID=provider, SITE=site, GROUP=group, MODE=mode, MODEL=model,
     KIND=model_kind, SHELL=shell, FILE/PATH/DIR=file, FORMAT=table/csv/json, SIDE=local/remote);
     a NAME argument of a `site …` command is a site name; `MODE|SITE` means either (kinds joined by "+");
     lower-case words `local|remote` are the choices themselves;
  5. an option's long name: OPTION_KINDS (--site, --group, --provider, --model, --mode, --kind, --config, …);
  6. otherwise "none" (free text: TAB offers nothing).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from . import __version__
from .completion import FILENAMES, SCRIPTS

KINDS = ("provider", "site", "group", "mode", "model", "model_kind", "shell", "file", "choice", "none")

# (command path, parameter name) → kind. The path is the words after `aimo`, e.g. "site add".
PARAM_KINDS: dict[tuple[str, str], str] = {
    ("site add", "name"): "none",  # a new name, not one that exists
}

METAVAR_KINDS: dict[str, str] = {
    "ID": "provider",
    "PROVIDER": "provider",
    "SITE": "site",
    "GROUP": "group",
    "MODE": "mode",
    "MODEL": "model",
    "MODEL_ID": "model",
    "PROVIDER:MODEL": "model",
    "ID:MODEL": "model",
    "KIND": "model_kind",
    "SHELL": "shell",
    "FILE": "file",
    "PATH": "file",
    "DIR": "file",
    "FORMAT": "choice",
    "SIDE": "choice",
}

METAVAR_CHOICES: dict[str, list[str]] = {"FORMAT": ["table", "json", "yaml", "csv"], "SIDE": ["local", "remote"]}

OPTION_KINDS: dict[str, str] = {
    "--site": "site",
    "--group": "group",
    "--provider": "provider",
    "--model": "model",
    "--mode": "mode",
    "--kind": "model_kind",
    "--shell": "shell",
    "--config": "file",
    "--ca-bundle": "file",
    "--file": "file",
    "--output": "file",
}

MAN_DATE = "2026-11-25"  # bump with a release; a date taken from the clock would make the drift test flap

# The one exit-code table: the man page, the README (between its aimo:exit-codes markers) and the root --help are
# generated from it or checked against it (tests/test_cli_docs.py).
EXIT_STATUS = [
    (0, "Success."),
    (1, "An unexpected error, a bug in aimo (rerun with --debug for a traceback and report it)."),
    (2, "Usage: an unknown command, option, provider, mode, site or group on the command line (the closest names are suggested), or a missing or invalid argument or input value."),
    (3, "Configuration: the settings or secrets file is not valid or names something unknown, or aimo is not set up for the request (no site added, the bridge not active on the site)."),
    (4, "Authentication: a key or application password is missing, or the site or provider refused it (401/403, no manage_options)."),
    (5, "Remote: a site or provider could not be reached, timed out, or answered with an error (5xx, HTML instead of JSON, a redirect elsewhere)."),
    (6, "Refused by a safety rule (e.g. plain http to a remote host, another plugin manages the connectors); the message names the override where one exists."),
    (7, "Drift or failed checks found (sync status, site test, doctor)."),
    (130, "Interrupted (Ctrl-C); writes already sent are named as possibly applied."),
]
# Not an exit code aimo chooses: when the reader of its output goes away (`aimo … | head`), aimo ends by SIGPIPE as any
# Unix filter does, and the shell reports 141.
SIGPIPE_NOTE = "When the reader of aimo's output goes away (aimo ... | head), aimo ends quietly by SIGPIPE like any Unix filter; the shell reports 141."

FILES = [
    ("$XDG_CONFIG_HOME/aimo/aimo.toml", "The settings file: sites, provider options, WordPress model preferences. Never a secret. Default ~/.config/aimo/aimo.toml; --config or AIMO_CONFIG choose another."),
    ("$XDG_DATA_HOME/aimo/secrets.json", "The secrets file (mode 0600), used only when no OS keyring is available or AIMO_KEYRING=file."),
    ("$XDG_STATE_HOME/aimo/", "State: the last sync and what was pushed where."),
    ("$XDG_CACHE_HOME/aimo/", "Cache: model catalogs and completion-models.txt, the model ids shell completion offers. Safe to delete."),
]

# Every environment variable aimo reads (tests/test_cli_docs.py fails on one that is read but not listed here).
# The provider key variables and OLLAMA_HOST come from the provider registry, see environment().
ENVIRONMENT = [
    ("AIMO_CONFIG", "The settings file to use (the --config option wins)."),
    ("AIMO_KEYRING", "Where secrets are kept: system (the OS keyring), file (the secrets file) or memory (tests; nothing persists)."),
    ("AIMO_SECRETS_FILE", "The secrets file to use with the file backend."),
    ("AIMO_CA_BUNDLE", "Trust this CA bundle for TLS (verification stays on); like --ca-bundle."),
    ("AIMO_HTTP_TIMEOUT", "Seconds to wait for each WordPress answer (0.1 to 3600); the --timeout option wins."),
    ("AIMO_DEBUG", "Set to 1 for the same effect as --debug."),
    ("AIMO_BACKGROUND_REFRESH", "Set to 0 to never start a detached model-catalog refresh when the cache is stale."),
    ("NO_COLOR", "Set (to anything) for plain output without colours or tables drawn with box characters, even on a terminal."),
    ("TERM", "dumb gives plain output, as NO_COLOR does."),
    ("XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME", "Base folders for the settings, secrets file, state and cache (see FILES)."),
]
# Read by aimo but not settings of aimo's own: where the platform keeps things, and the shell completion protocol.
ENVIRONMENT_UNLISTED = {"APPDATA", "LOCALAPPDATA", "SHELL", "BASH_COMPLETION_USER_DIR", "_AIMO_COMPLETE", "_AIMO_COMP_LINE", "_AIMO_COMP_WORDBREAKS"}


def environment(providers: list[dict] | None = None) -> list[tuple[str, str]]:
    """ENVIRONMENT plus the provider variables (each provider's key variable, and OLLAMA_HOST)."""
    if providers is None:
        from .core.providers import PROVIDERS

        providers = [{"env": p.env_var} for p in PROVIDERS.values()]
    keyed = [p["env"] for p in providers if p["env"] != "OLLAMA_HOST"]
    rows = list(ENVIRONMENT[:-1])
    rows.append((", ".join(keyed), "A provider key from the environment; it overrides the stored key (several keys, one per line, make a pool) and is sent to sites only with --from-env."))
    rows.append(("OLLAMA_HOST", "The Ollama server URL (Ollama's credential): a URL or host:port; it overrides the stored one."))
    rows.append(ENVIRONMENT[-1])
    return rows


def readme_tables(readme: str, providers: list[dict] | None = None) -> str:
    """README.md with its generated tables (between <!-- aimo:NAME --> and <!-- /aimo:NAME -->) rewritten."""
    env_rows = ["| variable | meaning |", "|---|---|"]
    for name, text in environment(providers):
        env_rows.append("| " + ", ".join(f"`{n.strip()}`" for n in name.split(",")) + f" | {text} |")
    exit_rows = ["| code | meaning |", "|---|---|"] + [f"| {code} | {text} |" for code, text in EXIT_STATUS]
    exit_rows += ["", SIGPIPE_NOTE.replace("aimo ... | head", "`aimo … | head`")]
    for name, rows in (("environment", env_rows), ("exit-codes", exit_rows)):
        start, end = f"<!-- aimo:{name} (generated by scripts/gen-cli-docs from aimo_cli/clidocs.py) -->", f"<!-- /aimo:{name} -->"
        a, b = readme.find(start), readme.find(end)
        if a == -1 or b == -1:
            raise ValueError(f"README.md lacks the markers {start} … {end}")
        readme = readme[: a + len(start)] + "\n" + "\n".join(rows) + "\n" + readme[b:]
    return readme


EXAMPLES = [
    ("keys set", "printf %s \"$OPENAI_API_KEY\" | aimo keys set openai --stdin", "Store an OpenAI key from standard input."),
    ("keys list", "aimo keys list", "Show every provider's key: source, masked tail, fingerprint."),
    ("site add", "aimo site add blog https://blog.example --user admin --group prod", "Add a site (prompts for an application password)."),
    ("site test", "aimo site test blog", "Check that the site can be managed."),
    ("connectors enable", "aimo connectors enable blog", "Switch blog to managed mode and push the local keys."),
    ("sync status", "aimo sync status --group prod", "Compare the stored keys with every site in the group prod."),
    ("sync push", "aimo sync push blog", "Push the stored keys to the site's Connectors settings."),
    ("models list", "aimo models list --provider groq --type text", "List Groq's text models."),
    ("models set", "aimo models set text openai:gpt-4o-mini", "Choose WordPress's default text model."),
    ("ask", "aimo ask -m groq:openai/gpt-oss-120b 'Say hello'", "Try a model from the terminal."),
    ("doctor", "aimo doctor", "Check the whole setup."),
    ("completion install", "aimo completion install bash", "Install shell completion for bash."),
]


# -- the tree ---------------------------------------------------------------------------------------------------------


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.split("\n\n")[0].replace("\n", " ").strip() if text else ""


def _clean_help(text: str | None) -> str:
    text = (text or "").strip()
    return text.split("\f")[0].strip()


def _norm_metavar(metavar: str | None, upper: bool = True) -> str:
    text = (metavar or "").replace("...", "").strip("[] ")
    return text.upper() if upper else text


def _metavar_kind(metavar: str | None, path: str) -> tuple[str, list[str] | None] | None:
    """The kind a metavar names: `SITE`; `MODE|SITE` (either: kinds joined by "+"); `local|remote` (a choice)."""
    raw = _norm_metavar(metavar, upper=False)
    if not raw:
        return None
    parts = [p.strip() for p in raw.split("|")]
    if all(p and p == p.lower() and p.replace("-", "").replace("_", "").isalnum() for p in parts):
        return "choice", parts
    kinds, choices = [], []
    for part in parts:
        mv = part.upper()
        kind = METAVAR_KINDS.get(mv) or ("site" if mv == "NAME" and path.split(" ")[0] == "site" else None)
        if kind is None:
            return None
        if kind not in kinds:
            kinds.append(kind)
        choices += METAVAR_CHOICES.get(mv, [])
    return "+".join(kinds), choices or None


def param_kind(path: str, param) -> tuple[str, list[str] | None]:
    """The value kind of one Click parameter (see the module docstring for the rules)."""
    explicit = PARAM_KINDS.get((path, param.name))
    if explicit:
        return explicit, METAVAR_CHOICES.get(_norm_metavar(param.metavar)) if explicit == "choice" else None
    choices = getattr(param.type, "choices", None)
    if choices:
        return "choice", [str(getattr(c, "value", c)) for c in choices]
    if getattr(param.type, "name", "") in ("path", "file", "filename", "directory"):
        return "file", None
    found = _metavar_kind(param.metavar, path)
    if found:
        return found
    for name in getattr(param, "opts", ()):
        if name in OPTION_KINDS:
            return OPTION_KINDS[name], None
    return "none", None


def _metavar(param) -> str:
    if param.metavar:
        return param.metavar
    if param.param_type_name == "argument":
        return param.name.upper()
    type_name = getattr(param.type, "name", "") or "value"
    longs = [o for o in param.opts if o.startswith("--")]
    if type_name in ("text", "string") and longs:
        return longs[0][2:].upper()  # --user USER reads better than --user TEXT
    first = type_name.split()[0].lower()
    return {"int": "N", "integer": "N", "float": "NUMBER"}.get(first, first.upper())


def _node(cmd, path: str, help_names: list[str]) -> dict:
    node: dict = {"help": _clean_help(cmd.help), "short": _first_line(cmd.short_help or cmd.help)}
    if getattr(cmd, "hidden", False):
        node["hidden"] = True
    options, arguments = [], []
    for p in cmd.params:
        if p.param_type_name == "argument":
            kind, choices = param_kind(path, p)
            arg = {"name": p.name, "metavar": _metavar(p), "nargs": p.nargs, "required": bool(p.required), "kind": kind, "help": _clean_help(getattr(p, "help", ""))}
            if choices:
                arg["choices"] = choices
            arguments.append(arg)
            continue
        takes_value = not (p.is_flag or p.count)
        opt: dict = {"names": list(p.opts), "takes_value": takes_value, "help": _clean_help(p.help)}
        if p.secondary_opts:
            opt["secondary"] = list(p.secondary_opts)
        if takes_value:
            kind, choices = param_kind(path, p)
            opt["metavar"] = _metavar(p)
            opt["kind"] = kind
            if choices:
                opt["choices"] = choices
        if p.required:
            opt["required"] = True
        if p.multiple:
            opt["multiple"] = True
        if getattr(p, "hidden", False):
            opt["hidden"] = True
        options.append(opt)
    options.append({"names": help_names, "takes_value": False, "help": "Show this message and exit."})
    node["options"] = options
    if arguments:
        node["arguments"] = arguments
    commands = getattr(cmd, "commands", None)
    if commands is not None:
        node["commands"] = {name: _node(sub, f"{path} {name}".strip(), help_names) for name, sub in sorted(commands.items())}
    return node


def build_tree(app=None) -> dict:
    """The command tree of the Typer app, as completion.py and the man page need it."""
    import typer.main

    from .core.providers import PROVIDERS

    if app is None:
        from .app import build_app

        app = build_app()
    cmd = typer.main.get_command(app)
    help_names = list((cmd.context_settings or {}).get("help_option_names") or ["--help"])
    return {
        "generated_by": "scripts/gen-cli-docs; do not edit",
        "name": "aimo",
        "version": __version__,
        "providers": [{"id": p.id, "name": p.name, "env": p.env_var} for p in PROVIDERS.values()],
        "command": _node(cmd, "", help_names),
    }


def walk(node: dict, path: tuple[str, ...] = ()):
    """Yield (path, node) for every command, depth first, the root first."""
    yield path, node
    for name, child in node.get("commands", {}).items():
        yield from walk(child, (*path, name))


def missing_help(tree: dict) -> list[str]:
    """Every visible command, option and argument without help text."""
    out = []
    for path, node in walk(tree["command"]):
        where = " ".join(("aimo", *path))
        if node.get("hidden"):
            continue
        if not node.get("help"):
            out.append(f"{where}: the command has no help text (a docstring or help=)")
        for opt in node.get("options", ()):
            if not opt.get("hidden") and not opt.get("help"):
                out.append(f"{where} {opt['names'][0]}: the option has no help=")
        for arg in node.get("arguments", ()):
            if not arg.get("help"):
                out.append(f"{where} {arg['metavar']}: the argument has no help=")
    return out


# -- the man page -------------------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Escape text for roff: backslashes, hyphens that are options, and lines that would read as requests."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = text.replace("\u2192", "\\(->").replace("\u2026", "...").replace("\u2014", "\\(em").replace("\u2013", "\\(en")
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.encode("ascii", "replace").decode("ascii") if not text.isascii() else text
    lines = []
    for line in text.split("\n"):
        for piece in _wrap(line):
            lines.append("\\&" + piece if piece[:1] in (".", "'") else piece)
    return "\n".join(lines)


def _wrap(line: str, width: int = 78) -> list[str]:
    """Source lines of at most `width` bytes (mandoc's style check); roff refills them anyway."""
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return out


def _paragraphs(text: str) -> list[str]:
    """Help text as paragraphs: blank lines separate them; single newlines inside a paragraph are joined."""
    out = []
    for para in text.strip().split("\n\n"):
        para = " ".join(line.strip() for line in para.strip().splitlines())
        if para:
            out.append(para)
    return out


def _body(text: str) -> list[str]:
    lines: list[str] = []
    for i, para in enumerate(_paragraphs(text)):
        if i:
            lines.append(".PP")
        lines.append(_esc(para))
    return lines


def _opt_label(opt: dict) -> str:
    names = ", ".join(f"\\fB{_esc(n)}\\fR" for n in [*opt["names"], *opt.get("secondary", ())])
    if opt.get("takes_value"):
        names += f" \\fI{_esc(opt['metavar'])}\\fR"
    return names


def _synopsis(path: tuple[str, ...], node: dict) -> str:
    parts = [f"\\fB{_esc(' '.join(('aimo', *path)))}\\fR"]
    visible = [o for o in node.get("options", ()) if not o.get("hidden") and o["names"][0] not in ("-h", "--help")]
    for opt in visible:
        if opt.get("required"):
            parts.append(f"\\fB{_esc(opt['names'][0])}\\fR \\fI{_esc(opt['metavar'])}\\fR")
    if any(not o.get("required") for o in visible):
        parts.append("[\\fIOPTIONS\\fR]")
    if node.get("commands"):
        parts.append("\\fICOMMAND\\fR")
    for arg in node.get("arguments", ()):
        mv = _esc(arg["metavar"].strip("[]"))
        text = f"\\fI{mv}\\fR"
        parts.append(text if arg["required"] else f"[{text}]")
    return " ".join(parts)


def render_man(tree: dict) -> str:
    root = tree["command"]
    out = [
        ".\\\" Generated by scripts/gen-cli-docs from the Typer app; do not edit.",
        f'.TH AIMO 1 {MAN_DATE} "aimo {tree["version"]}" "User Commands"',
        ".SH NAME",
        "aimo \\- manage the AI side of WordPress 7:",
        "provider keys, Connectors, model preferences",
        ".SH SYNOPSIS",
        ".B aimo",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR]",
        ".SH DESCRIPTION",
    ]
    # The root help ends with the exit codes, which have their own section.
    out += _body("\n\n".join(p for p in _paragraphs(root["help"]) if not p.startswith("Exit codes")))
    out += [".PP", "Every command has \\fB\\-\\-help\\fR (or \\fB\\-h\\fR)."]
    out.append(".SH GLOBAL OPTIONS")
    out.append("These come before the command.")
    for opt in root.get("options", ()):
        if not opt.get("hidden"):
            out += [".TP", _opt_label(opt), _esc(opt["help"])]
    out.append(".SH COMMANDS")
    for path, node in walk(root):
        if not path or node.get("hidden"):
            continue
        out.append(".SS " + _synopsis(path, node))
        out += _body(node["help"])
        for arg in node.get("arguments", ()):
            out += [".TP", f"\\fI{_esc(arg['metavar'].strip('[]'))}\\fR", _esc(arg["help"])]
        for opt in node.get("options", ()):
            if opt.get("hidden") or opt["names"][0] in ("-h", "--help"):
                continue
            out += [".TP", _opt_label(opt), _esc(opt["help"])]
    out.append(".SH EXIT STATUS")
    for code, text in EXIT_STATUS:
        out += [".TP", f"\\fB{code}\\fR", _esc(text)]
    out += [".PP", _esc(SIGPIPE_NOTE)]
    out.append(".SH ENVIRONMENT")
    for name, text in environment(tree["providers"]):
        out += [".TP", "\\fB" + "\\fR, \\fB".join(_esc(n.strip()) for n in name.split(",")) + "\\fR", _esc(text)]
    out.append(".SH FILES")
    for name, text in FILES:
        out += [".TP", f"\\fI{_esc(name)}\\fR", _esc(text)]
    commands = {" ".join(p) for p, _ in walk(root)}
    examples = [e for e in EXAMPLES if e[0] in commands]
    if examples:
        out.append(".SH EXAMPLES")
        for i, (_, line, text) in enumerate(examples):
            out += ([".PP"] if i else []) + [_esc(text), ".RS 4", ".nf", f"\\fB{_esc(line)}\\fR", ".fi", ".RE"]
    out += [".SH SEE ALSO", "\\fBbash\\fR(1), \\fBzsh\\fR(1), \\fBfish\\fR(1)"]
    return "\n".join(out) + "\n"


# -- everything ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    path: str  # relative to the repository root
    text: str


def generate(app=None) -> list[Generated]:
    tree = build_tree(app)
    files = [Generated("aimo_cli/completion_tree.json", json.dumps(tree, indent=1, ensure_ascii=False) + "\n")]
    files += [Generated(os.path.join("completions", FILENAMES[shell]), text) for shell, text in SCRIPTS.items()]
    files.append(Generated("man/aimo.1", render_man(tree)))
    from .ui.shapes import render_markdown

    files.append(Generated("docs/json.md", render_markdown()))  # the machine output's shapes (ui/shapes.py)
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    if os.path.exists(readme):  # a source checkout (an installed wheel has no README to keep in step)
        with open(readme, encoding="utf-8") as fh:
            files.append(Generated("README.md", readme_tables(fh.read(), tree["providers"])))
    return files


def write(root: str, files: list[Generated]) -> list[str]:
    """Write the files under root; return the ones that changed."""
    changed = []
    for f in files:
        target = os.path.join(root, f.path)
        try:
            with open(target, encoding="utf-8") as fh:
                if fh.read() == f.text:
                    continue
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(f.text)
        changed.append(f.path)
    return changed
