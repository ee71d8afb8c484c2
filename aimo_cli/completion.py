"""Shell completion engine: answers a TAB before Typer is imported. Stdlib only, and only cheap stdlib.

Contract (the generated shell scripts in completions/ speak it; see `script()`):

    _AIMO_COMPLETE=SHELL aimo WORD... CURRENT        zsh, fish: the words after `aimo`, the last one being completed
    _AIMO_COMPLETE=SHELL _AIMO_COMP_LINE=LINE aimo   bash, PowerShell: the command line up to the cursor

The answer on stdout is one line naming what to complete, `values` or `files`, then one candidate per line
(`value`, or for zsh `value:description`, for fish and PowerShell `value<TAB>description`).

What a word may be comes from `completion_tree.json` (generated from the Typer app by scripts/gen-cli-docs): each
command's subcommands, options (and whether they take a value) and positional arguments, each value with a kind:
provider | site | group | mode | model | model_kind | shell | file | choice | none (kinds may be joined with "+").
Sites and groups are read from the settings file with a line scan, models from the catalog's small index
$XDG_CACHE_HOME/aimo/completion-models.txt (one `provider:model` per line). Nothing here may import pathlib, re,
tomllib or anything of aimo's beyond this module: every TAB pays for it (docs/design.md §8: ≤ 2.5× a bare interpreter).
"""

from __future__ import annotations

import os
import sys

SHELLS = ("bash", "zsh", "fish", "powershell")
MODES = (("observe", "report only"), ("managed", "aimo runs the Connectors"), ("off", "the bridge does nothing"))
MODEL_KINDS = (("text", "text generation"), ("image", "image generation"))
ENV = "_AIMO_COMPLETE"
TREE_FILE = "completion_tree.json"


# -- where things are (mirrors aimo_cli.paths without its pathlib import; a test keeps the two in step) -------------


def _xdg(var: str, *default: str) -> str:
    value = os.environ.get(var, "").strip()
    return value if value and os.path.isabs(value) else os.path.join(os.path.expanduser("~"), *default)


def settings_path(override: str | None = None) -> str:
    if override:
        return os.path.expanduser(override)
    env = os.environ.get("AIMO_CONFIG", "").strip()
    if env:
        return os.path.expanduser(env)
    home = os.path.expanduser("~")
    if sys.platform == "darwin" and "XDG_CONFIG_HOME" not in os.environ:
        return os.path.join(home, "Library", "Application Support", "aimo", "aimo.toml")
    if os.name == "nt":
        return os.path.join(os.environ.get("APPDATA", home), "aimo", "aimo.toml")
    return os.path.join(_xdg("XDG_CONFIG_HOME", ".config"), "aimo", "aimo.toml")


def models_index_path() -> str:
    home = os.path.expanduser("~")
    if sys.platform == "darwin" and "XDG_CACHE_HOME" not in os.environ:
        base = os.path.join(home, "Library", "Caches", "aimo")
    elif os.name == "nt":
        base = os.path.join(os.environ.get("LOCALAPPDATA", home), "aimo", "cache")
    else:
        base = os.path.join(_xdg("XDG_CACHE_HOME", ".cache"), "aimo")
    return os.path.join(base, "completion-models.txt")


# -- reading the words -----------------------------------------------------------------------------------------------


def split_line(line: str) -> list[str]:
    """Split a shell line into words (POSIX quoting, enough for completion). The last word is the one being typed:
    empty when the line ends in whitespace. An unclosed quote is closed for us."""
    return _split(line)[0]


def _split(line: str) -> tuple[list[str], bool]:
    """The words, and whether the last one opened with a quote (bash then wants its candidates unescaped)."""
    words: list[str] = []
    starts_quoted = False
    cur: list[str] = []
    in_word = False
    quote = ""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                cur.append(c)
        elif quote == '"':
            if c == '"':
                quote = ""
            elif c == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                i += 1
                cur.append(line[i])
            else:
                cur.append(c)
        elif c in " \t\n":
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            if not in_word:
                starts_quoted = c in "'\""
            in_word = True
            if c in "'\"":
                quote = c
            elif c == "\\" and i + 1 < n:
                i += 1
                cur.append(line[i])
            else:
                cur.append(c)
        i += 1
    words.append("".join(cur) if in_word else "")
    return words, starts_quoted and in_word


# -- values ----------------------------------------------------------------------------------------------------------


def _unquote_key(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def _string_value(raw: str) -> str:
    raw = raw.strip()
    if raw[:1] in ("\"", "'"):
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    return raw.split("#", 1)[0].strip()


def read_sites(path: str) -> dict[str, dict[str, str]]:
    """Sites from the settings file by a line scan: `[sites.NAME]` (or `[sites."NAME"]`) headers and their `url` and
    `group` keys. Good enough for a TAB; the real parser (tomlkit) is for commands."""
    sites: dict[str, dict[str, str]] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return sites
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = None
            if line.startswith("[[") or not line.startswith("[sites."):
                continue
            inner = line[len("[sites.") : line.rfind("]")]
            if inner[:1] in ("\"", "'"):
                end = inner.find(inner[0], 1)
                name, rest = inner[1:end], inner[end + 1 :]
            else:
                name, _, rest = inner.partition(".")
                rest = "." + rest if rest else ""
            name = name.strip()
            if not name:
                continue
            entry = sites.setdefault(name, {})
            current = entry if not rest.strip() else None  # [sites.blog.extra] names blog but holds other keys
            continue
        if current is None or "=" not in line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        key = _unquote_key(key)
        if key in ("url", "group"):
            current[key] = _string_value(value)
    return sites


def read_models(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    seen: dict[str, None] = {}
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#") and line.isprintable():  # an escape sequence never reaches the shell
            seen.setdefault(line.split()[0], None)
    return list(seen)


def values_for(kind: str, tree: dict, spec: dict, config: str | None) -> list[tuple[str, str]]:
    """Candidates (value, description) for a value kind."""
    out: list[tuple[str, str]] = []
    for k in kind.split("+"):
        if k == "provider":
            out += [(p["id"], p.get("name", "")) for p in tree.get("providers", [])]
        elif k in ("site", "group"):
            sites = read_sites(settings_path(config))
            if k == "site":
                out += [(name, info.get("url", "")) for name, info in sites.items()]
            else:
                groups: dict[str, list[str]] = {}
                for name, info in sites.items():
                    if info.get("group"):
                        groups.setdefault(info["group"], []).append(name)
                out += [(g, ", ".join(members)) for g, members in groups.items()]
        elif k == "mode":
            out += list(MODES)
        elif k == "model_kind":
            out += list(MODEL_KINDS)
        elif k == "model":
            out += [(m, "") for m in read_models(models_index_path())]
        elif k == "shell":
            out += [(s, "") for s in SHELLS]
        elif k == "choice":
            out += [(c, "") for c in spec.get("choices", [])]
    return out


# -- the walk --------------------------------------------------------------------------------------------------------


def load_tree() -> dict:
    import json

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), TREE_FILE), encoding="utf-8") as fh:
        return json.load(fh)


def _find_option(node: dict, name: str) -> dict | None:
    for opt in node.get("options", ()):
        if name in opt["names"] or name in opt.get("secondary", ()):
            return opt
    return None


def complete(words: list[str], tree: dict) -> tuple[str, list[tuple[str, str]]]:
    """What to offer for the last of `words` (the words after `aimo`): ("values", [(value, description)…]) or
    ("files", [])."""
    if not words:
        words = [""]
    *done, cur = words
    node = tree["command"]
    pending: dict | None = None
    only_positional = False
    positionals: list[str] = []
    used: set[str] = set()
    config: str | None = None
    for w in done:
        if pending is not None:
            if "--config" in pending["names"]:
                config = w
            pending = None
            continue
        if not only_positional and w == "--":
            only_positional = True
            continue
        if not only_positional and w.startswith("-") and w != "-":
            name, eq, value = w.partition("=")
            opt = _find_option(node, name)
            if opt is None and not name.startswith("--") and len(name) > 2:
                opt = _find_option(node, name[:2])  # -gblog: a short option with its value attached
                eq = "=" if opt is not None and opt.get("takes_value") else eq
                value = name[2:]
            if opt is not None:
                used.update(opt["names"])
                if opt.get("takes_value"):
                    if eq:
                        config = value if "--config" in opt["names"] else config
                    else:
                        pending = opt
            continue
        commands = node.get("commands")
        if commands:
            child = commands.get(w)
            if child is None:
                return "values", []  # an unknown command: nothing sensible to offer
            node, positionals, used, only_positional = child, [], set(), False
            continue
        positionals.append(w)

    if pending is not None:
        return _values(pending, cur, tree, config, "")
    if not only_positional and cur.startswith("-"):
        name, eq, value = cur.partition("=")
        if eq:
            opt = _find_option(node, name)
            if opt is None or not opt.get("takes_value"):
                return "values", []
            kind, cands = _values(opt, value, tree, config, name + "=")
            return kind, cands
        cands = []
        for opt in node.get("options", ()):
            if opt.get("hidden") or (used & set(opt["names"]) and not opt.get("multiple")):
                continue
            for n in [*opt["names"], *opt.get("secondary", ())]:
                if n.startswith(cur) and (n.startswith("--") or cur in ("-", n)):
                    cands.append((n, opt.get("help", "")))
        return "values", cands
    commands = node.get("commands")
    if commands:
        return "values", [(n, c.get("short", "")) for n, c in commands.items() if n.startswith(cur) and not c.get("hidden")]
    args = node.get("arguments", ())
    spec = None
    index = len(positionals)
    for arg in args:
        nargs = arg.get("nargs", 1)
        if nargs == -1 or index < nargs:
            spec = arg
            break
        index -= nargs
    if spec is None:
        return "values", []
    kind, cands = _values(spec, cur, tree, config, "")
    if spec.get("nargs") == -1:  # don't offer what was already given to a variadic argument
        taken = set(positionals)
        cands = [c for c in cands if c[0] not in taken]
    return kind, cands


def _values(spec: dict, cur: str, tree: dict, config: str | None, prefix: str) -> tuple[str, list[tuple[str, str]]]:
    kind = spec.get("kind", "none")
    if kind == "file":
        return "files", []
    return "values", [(prefix + v, d) for v, d in values_for(kind, tree, spec, config) if v.startswith(cur)]


# -- answering -------------------------------------------------------------------------------------------------------


_BASH_SPECIAL = set(" \t'\"\\$`()&;|<>*?!{}[]~#")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render(shell: str, kind: str, cands: list[tuple[str, str]], cur: str = "", quoted: bool = False) -> str:
    lines = [kind]
    if shell == "bash":
        # bash splits words at COMP_WORDBREAKS (":" and "=" among them): hand back only the part after the last one.
        breaks = os.environ.get("_AIMO_COMP_WORDBREAKS", "")
        cut = max((cur.rfind(ch) for ch in breaks if ch not in " \t\n\"'"), default=-1) + 1
        for v, _ in cands:
            v = v[cut:] if v.startswith(cur[:cut]) else v
            lines.append(v if quoted else "".join("\\" + c if c in _BASH_SPECIAL else c for c in v))
    elif shell == "zsh":
        for v, d in cands:
            v = v.replace("\\", "\\\\").replace(":", "\\:")
            lines.append(f"{v}:{_one_line(d)}" if d else v)
    else:
        lines += [f"{v}\t{_one_line(d)}" if d else v for v, d in cands]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Answer one completion request from the environment and argv; never raise, never print to stderr."""
    shell = os.environ.get(ENV, "")
    if shell.endswith("_complete"):  # click-style spelling (bash_complete, zsh_complete, …)
        shell = shell[: -len("_complete")]
    if shell not in SHELLS:
        shell = "bash"
    args = list(sys.argv[1:] if argv is None else argv)
    line = os.environ.get("_AIMO_COMP_LINE")
    quoted = False
    if line is not None:
        words, quoted = _split(line)
        words = words[1:]
    else:
        words = args
    try:
        kind, cands = complete(words, load_tree())
        sys.stdout.write(render(shell, kind, cands, words[-1] if words else "", quoted))
    except Exception:  # noqa: BLE001 - a TAB must never print a traceback into the user's prompt
        if os.environ.get("AIMO_DEBUG") == "1":
            raise
        return 1
    return 0


# -- the shell side ----------------------------------------------------------------------------------------------------

_HEADER = "Generated by scripts/gen-cli-docs (aimo_cli/completion.py); do not edit."

BASH = f"""# aimo completion for bash. {_HEADER}
# Load it with `source aimo.bash`, or install it: aimo completion install bash
_aimo_complete() {{
    local kind line cur
    local -a reply=()
    {{
        IFS= read -r kind
        while IFS= read -r line; do reply+=("$line"); done
    }} < <(_AIMO_COMPLETE=bash _AIMO_COMP_LINE="${{COMP_LINE:0:COMP_POINT}}" _AIMO_COMP_WORDBREAKS="$COMP_WORDBREAKS" "$1" 2>/dev/null)
    if [[ $kind == files ]]; then
        cur="${{COMP_WORDS[COMP_CWORD]}}"
        [[ $cur == = ]] && cur=
        compopt -o filenames 2>/dev/null
        while IFS= read -r line; do reply+=("$line"); done < <(compgen -f -- "$cur")
    fi
    COMPREPLY=("${{reply[@]}}")
}}
complete -F _aimo_complete aimo
"""

ZSH = f"""#compdef aimo
# aimo completion for zsh. {_HEADER}
# Put it on $fpath as _aimo before compinit runs, or source it after compinit: aimo completion install zsh
_aimo() {{
    local kind
    local -a answer cands
    answer=("${{(@f)$(_AIMO_COMPLETE=zsh ${{(Q)words[1]}} "${{(@Q)words[2,CURRENT]}}" 2>/dev/null)}}")
    kind=${{answer[1]}}
    cands=("${{(@)answer[2,-1]}}")
    if [[ $kind == files ]]; then
        _files
    elif (( ${{#cands}} )); then
        _describe -t values aimo cands
    fi
}}
if [[ ${{zsh_eval_context[-1]}} == loadautofunc ]]; then
    _aimo "$@"
else
    compdef _aimo aimo
fi
"""

FISH = f"""# aimo completion for fish. {_HEADER}
# fish loads it from ~/.config/fish/completions/aimo.fish: aimo completion install fish
function __aimo_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l answer (_AIMO_COMPLETE=fish aimo $words "$cur" 2>/dev/null)
    if test "$answer[1]" = files
        __fish_complete_path "$cur"
        return
    end
    set -e answer[1]
    if test (count $answer) -gt 0
        printf '%s\\n' $answer
    end
end
complete -c aimo -f -a '(__aimo_complete)'
"""

POWERSHELL = f"""# aimo completion for PowerShell. {_HEADER}
# Dot-source it from your $PROFILE: aimo completion install powershell
Register-ArgumentCompleter -Native -CommandName aimo -ScriptBlock {{
    param($wordToComplete, $commandAst, $cursorPosition)
    $text = $commandAst.Extent.Text
    $n = $cursorPosition - $commandAst.Extent.StartOffset
    if ($n -gt $text.Length) {{ $text = $text.PadRight($n) }}
    $env:_AIMO_COMPLETE = 'powershell'
    $env:_AIMO_COMP_LINE = $text.Substring(0, $n)
    try {{ $answer = @(aimo 2>$null) }} finally {{
        Remove-Item Env:_AIMO_COMPLETE, Env:_AIMO_COMP_LINE -ErrorAction SilentlyContinue
    }}
    if ($answer.Count -lt 1 -or $answer[0] -eq 'files') {{ return }}
    $answer | Select-Object -Skip 1 | ForEach-Object {{
        $value, $description = $_ -split "`t", 2
        if (-not $description) {{ $description = $value }}
        [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $description)
    }}
}}
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH, "powershell": POWERSHELL}
FILENAMES = {"bash": "aimo.bash", "zsh": "_aimo", "fish": "aimo.fish", "powershell": "aimo.ps1"}


def script(shell: str) -> str:
    return SCRIPTS[shell]


def install_path(shell: str) -> str:
    """Where `aimo completion install SHELL` puts the script: each shell's usual per-user place."""
    if shell == "bash":  # bash-completion loads it on demand from here
        user_dir = os.environ.get("BASH_COMPLETION_USER_DIR", "").strip()
        base = os.path.join(user_dir, "completions") if user_dir else os.path.join(_xdg("XDG_DATA_HOME", ".local", "share"), "bash-completion", "completions")
        return os.path.join(base, "aimo")
    if shell == "zsh":
        return os.path.join(_xdg("XDG_DATA_HOME", ".local", "share"), "zsh", "site-functions", "_aimo")
    if shell == "fish":
        return os.path.join(_xdg("XDG_CONFIG_HOME", ".config"), "fish", "completions", "aimo.fish")
    if shell == "powershell":
        return os.path.join(_xdg("XDG_DATA_HOME", ".local", "share"), "aimo", "completions", "aimo.ps1")
    raise KeyError(shell)


def activation_hint(shell: str, path: str) -> str:
    """What the user still has to do (if anything) for the shell to find the installed script."""
    if shell == "bash":
        return "bash-completion loads it in new shells (install the bash-completion package if TAB does nothing; or add `source " + path + "` to ~/.bashrc)."
    if shell == "zsh":
        return f"Add `fpath=({os.path.dirname(path)} $fpath)` to ~/.zshrc before `compinit`, then start a new shell."
    if shell == "fish":
        return "fish loads it in new shells."
    return f"Add `. {path}` to your PowerShell $PROFILE."
